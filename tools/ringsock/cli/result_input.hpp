// Reading the files `merge` and `report` take (results, logs, bar inputs):
// whole, bounded, with a sentence that names the file when it cannot be read.
#pragma once

#include <string>

namespace ringsock_cli {

/// A result file larger than this is not one ringsock wrote.
inline constexpr size_t kMaxResultBytes = size_t(64) << 20;

/// Reads `path` whole into `out` (appended). False with `error` set when it
/// cannot be opened or read (a directory, no permission) or is larger than
/// kMaxResultBytes.
bool read_result_file(const std::string& path, std::string& out, std::string& error);

}  // namespace ringsock_cli
