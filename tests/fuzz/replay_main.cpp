// The replay build of a harness: runs LLVMFuzzerTestOneInput once on every
// file of the directories (or files) named on the command line, so the
// corpus and every regression input run in the normal suite, with any
// compiler and without libFuzzer. A broken property aborts (FUZZ_CHECK); a
// memory error is caught when the suite runs under ASan.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_check.hpp"

namespace fs = std::filesystem;

namespace {

// The files to replay, sorted so a run is repeatable; a missing directory is
// an empty one (git keeps no empty regressions/<harness>/).
std::vector<fs::path> inputs_of(const fs::path& place) {
  std::vector<fs::path> found;
  std::error_code ec;
  if (fs::is_regular_file(place, ec)) {
    found.push_back(place);
  } else if (fs::is_directory(place, ec)) {
    for (const auto& entry : fs::directory_iterator(place)) {
      if (entry.is_regular_file() && entry.path().filename().string().front() != '.') {
        found.push_back(entry.path());
      }
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    for (const fs::path& path : inputs_of(argv[i])) {
      std::ifstream file(path, std::ios::binary);
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                                 std::istreambuf_iterator<char>());
      // Printed first: if the harness crashes, the log names the input.
      std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++replayed;
    }
  }
  std::printf("replayed %zu inputs\n", replayed);
  // Nothing to replay means a wrong path, not a pass.
  return replayed > 0 ? 0 : 1;
}
