// Fuzzes the ringsock command line (tools/ringsock/cli/args.hpp parse_args).
// The input is the argument list, one argument per line, after argv[0]
// ("serve\ntcp://127.0.0.1:0\n--threads\n2"). Properties: the parser returns
// 0 or kExitUsage, never anything else; a refusal says why in the error
// buffer, NUL-terminated and cut to fit however small the buffer is (a short
// buffer gets the same sentence's start); what it accepts is consistent.
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "args.hpp"
#include "usage.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr size_t kMaxArguments = 64;

std::vector<std::string> split_lines(std::string_view input) {
  std::vector<std::string> arguments{"ringsock"};
  while (arguments.size() <= kMaxArguments) {
    size_t end = input.find('\n');
    arguments.emplace_back(input.substr(0, end));  // an embedded NUL ends it, as in a real argv
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  return arguments;
}

// parse_args with an error buffer of exactly `capacity` heap bytes (ASan sees
// any write past it); returns the exit code and the error text.
int parse(const std::vector<const char*>& argv, size_t capacity, std::string& error) {
  auto args = std::make_unique<ringsock_cli::Args>();
  auto block = std::make_unique<char[]>(capacity);
  int rc = ringsock_cli::parse_args(int(argv.size()), argv.data(), *args, block.get(), capacity);
  if (rc == ringsock_cli::kExitUsage && capacity > 0) {
    FUZZ_CHECK(std::memchr(block.get(), '\0', capacity) != nullptr);
    error = block.get();
  }
  return rc;
}

void check_accepted(const std::vector<const char*>& argv) {
  ringsock_cli::Args args;
  char error[256];
  FUZZ_CHECK(ringsock_cli::parse_args(int(argv.size()), argv.data(), args, error, sizeof error) == 0);
  if (args.command == ringsock_cli::Command::serve) {
    const auto& serve = args.serve;
    FUZZ_CHECK(serve.endpoint_count >= 1 && serve.endpoint_count <= ringsock_cli::kMaxEndpoints);
    FUZZ_CHECK(serve.threads >= 1);
    FUZZ_CHECK(serve.buffers >= 1 && (serve.buffers & (serve.buffers - 1)) == 0);
    for (uint32_t i = 0; i < serve.endpoint_count; ++i) FUZZ_CHECK(serve.endpoints[i].length > 0);
  } else if (args.command == ringsock_cli::Command::load) {
    const auto& load = args.load;
    // A host name is resolved when the load starts (load.cpp), not here.
    FUZZ_CHECK(load.endpoint.length > 0 || (load.resolve && load.endpoint_url != nullptr));
    FUZZ_CHECK(load.connections >= 1 && load.threads >= 1 && load.threads <= load.connections);
    FUZZ_CHECK(load.size_min <= load.size_max);
    FUZZ_CHECK(load.percentile_count <= ringsock_cli::kMaxPercentiles);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> arguments =
      split_lines(std::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<const char*> argv;
  for (const std::string& argument : arguments) argv.push_back(argument.c_str());

  std::string full;
  int rc = parse(argv, 256, full);
  FUZZ_CHECK(rc == 0 || rc == ringsock_cli::kExitUsage);
  if (rc == 0) {
    check_accepted(argv);
    return 0;
  }
  FUZZ_CHECK(!full.empty());
  // The same refusal into smaller buffers: the same start of the same sentence.
  for (size_t capacity : {size_t(0), size_t(1), size_t(9)}) {
    std::string cut;
    FUZZ_CHECK(parse(argv, capacity, cut) == rc);
    if (capacity > 0) FUZZ_CHECK(cut == full.substr(0, capacity - 1));
  }
  // Every help text prints, whatever was refused.
  static FILE* sink = fopen("/dev/null", "w");
  if (sink != nullptr) {
    for (auto topic : {ringsock_cli::Command::help, ringsock_cli::Command::serve,
                       ringsock_cli::Command::load, ringsock_cli::Command::merge,
                       ringsock_cli::Command::probe}) {
      ringsock_cli::print_usage(topic, sink);
    }
  }
  return 0;
}
