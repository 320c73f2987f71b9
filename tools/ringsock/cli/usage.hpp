// The help texts: `ringsock --help` (the overview) and `ringsock SUBCOMMAND
// --help`, each short enough for one screen. A subcommand's options are
// printed from its option table (options.hpp), the one the parser uses.
#pragma once

#include <cstdio>

#include "args.hpp"

namespace ringsock_cli {

/// Writes the usage of `topic` (serve, load, probe; help = the overview) to `out`.
void print_usage(Command topic, FILE* out) noexcept;

}  // namespace ringsock_cli
