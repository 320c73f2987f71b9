// The options of each subcommand: one table that the parser looks every
// option up in, that `ringsock SUBCOMMAND --help` prints, and that the docs
// drift test compares with ringsock(1) and docs/command.md. An option that is
// not in its table is refused as unknown, so the three cannot disagree.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "args.hpp"

namespace ringsock_cli {

struct OptionSpec {
  const char* name;   ///< "--connections"
  const char* value;  ///< what it takes, for the help ("N", "uring|epoll|auto"); nullptr: a flag
  const char* help;   ///< one line of `SUBCOMMAND --help`
};

/// The options `command` accepts (serve, load), in the order help lists
/// them; empty for commands without options. --help is a row of each.
std::span<const OptionSpec> options_of(Command command) noexcept;

/// The row of `name` ("--mode") in `command`'s table, or nullptr.
const OptionSpec* find_option(Command command, std::string_view name) noexcept;

}  // namespace ringsock_cli
