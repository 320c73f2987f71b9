// Prints the shard `--shard auto` finds in this process's environment
// ("K/N"), or the error (exit 2): run as the tasks of a real launcher.
#include <cstdio>
#include <cstdlib>

#include "logic/shard.hpp"

int main() {
  auto parsed = ringsock::tool::parse_shard("auto", [](const char* name) { return std::getenv(name); });
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "%s\n", error->c_str());
    return 2;
  }
  const auto& shard = std::get<ringsock::tool::ShardSpec>(parsed);
  std::printf("%u/%u\n", shard.index, shard.count);
  return 0;
}
