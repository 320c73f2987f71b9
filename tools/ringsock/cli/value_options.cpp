#include "value_options.hpp"

#include "options.hpp"

namespace ringsock_cli {

int next_value_arg(Command command, std::string_view command_name, int argc,
                   const char* const* argv, int& i, ValueArg& out, std::string& error,
                   std::string_view short_name, std::string_view long_name) {
  out = ValueArg{};
  const std::string_view arg = argv[i];
  if (arg == "--help" || arg == "-h") {
    out.kind = ValueArg::Kind::help;
    return 0;
  }
  const bool is_short = !short_name.empty() && arg == short_name;
  if (!is_short && (arg.size() < 2 || arg.substr(0, 2) != "--")) {
    out.name = arg;
    return 0;
  }
  out.kind = ValueArg::Kind::option;
  const size_t equals = is_short ? std::string_view::npos : arg.find('=');
  out.name = is_short ? long_name : arg.substr(0, equals);
  if (equals != std::string_view::npos) {
    out.value = std::string(arg.substr(equals + 1));
  } else if (i + 1 < argc) {
    out.value = argv[++i];
  } else {
    error = "option '" + std::string(out.name) + "' needs a value";
    return kExitUsage;
  }
  if (find_option(command, out.name) == nullptr) {
    error = "unknown option '" + std::string(out.name) + "' for " + std::string(command_name) +
            " (see ringsock " + std::string(command_name) + " --help)";
    return kExitUsage;
  }
  if (out.value.empty()) {
    error = "option '" + std::string(out.name) + "' needs a value";
    return kExitUsage;
  }
  return 0;
}

}  // namespace ringsock_cli
