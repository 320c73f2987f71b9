#include "command_line.hpp"

#include <cstring>

namespace ringsock_cli {

namespace {

std::string& stored() {
  static std::string line;
  return line;
}

// Plain words stay as they are; anything a shell would read differently is
// put in single quotes (a quote inside becomes '\'').
std::string shell_quoted(const char* arg) {
  constexpr const char* kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+";
  if (*arg != '\0' && strspn(arg, kPlain) == strlen(arg)) return arg;
  std::string out = "'";
  for (const char* c = arg; *c != '\0'; ++c) out += *c == '\'' ? std::string("'\\''") : std::string(1, *c);
  return out + "'";
}

}  // namespace

void remember_command_line(int argc, const char* const* argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    const char* arg = argv[i];
    if (i == 0) {  // the program as a name, not the path it was started by
      const char* slash = strrchr(arg, '/');
      arg = slash != nullptr ? slash + 1 : arg;
    }
    line += (i ? " " : "") + shell_quoted(arg);
  }
  stored() = line;
}

const std::string& command_line() { return stored(); }

}  // namespace ringsock_cli
