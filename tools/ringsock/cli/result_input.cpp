#include "result_input.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ringsock_cli {

bool read_result_file(const std::string& path, std::string& out, std::string& error) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = "cannot read " + path + ": " + strerror(errno);
    return false;
  }
  char buffer[65536];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) {
    out.append(buffer, n);
    if (out.size() > kMaxResultBytes) {
      fclose(f);
      error = path + ": larger than 64 MiB, not a ringsock result";
      return false;
    }
  }
  const bool failed = ferror(f) != 0;
  const int saved = errno;  // fread's reason, e.g. EISDIR for a directory
  fclose(f);
  if (failed) error = "cannot read " + path + ": " + strerror(saved);
  return !failed;
}

}  // namespace ringsock_cli
