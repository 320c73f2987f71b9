// The command line as it was typed, kept by main() so that a result file and
// a report can say what was run.
#pragma once

#include <string>

namespace ringsock_cli {

/// Remembers argv, each argument quoted for a POSIX shell where it needs it.
void remember_command_line(int argc, const char* const* argv);

/// "ringsock load tcp://127.0.0.1:9000 --assert 'p99<200us'"; "" before remember_command_line.
const std::string& command_line();

}  // namespace ringsock_cli
