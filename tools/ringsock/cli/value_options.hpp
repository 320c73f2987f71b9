// The argument walk of the subcommands whose options all take a value
// (merge, report): positional arguments, --help / -h, and "--name value" or
// "--name=value" looked up in the subcommand's option table, so every such
// subcommand refuses the same mistakes with the same sentences.
#pragma once

#include <string>
#include <string_view>

#include "args.hpp"

namespace ringsock_cli {

struct ValueArg {
  enum class Kind : unsigned char { positional, option, help };
  Kind kind = Kind::positional;
  std::string_view name;  ///< the option ("--json"), or the positional argument
  std::string value;      ///< the option's value, never empty
};

/// Reads argv[i] (and the value after it, moving `i` past it) as an argument
/// of `command` ("merge", "report" in messages). `short_name` is a one-dash
/// alias that always takes the next argument as its value ("-o" for
/// `long_name` "--output"). Returns 0, or kExitUsage with `error`: an option
/// not in the table, or one without a value.
int next_value_arg(Command command, std::string_view command_name, int argc,
                   const char* const* argv, int& i, ValueArg& out, std::string& error,
                   std::string_view short_name = {}, std::string_view long_name = {});

}  // namespace ringsock_cli
