// `ringsock merge RESULT... [LOG.hlog...] [--json OUT] [--hlog OUT] [--assert EXPR]`: adds
// the JSON results of the shards of one sharded load (ringsock load --shard
// K/N --json FILE) into the result of the whole run, exactly: counters are
// summed and histograms added bucket by bucket. Prints the table `load`
// prints, then each shard's rate, errors and start skew; judges --assert on
// the whole (exit 5 when a check fails). The shards' histogram logs, given
// among the inputs, are added second by second into --hlog OUT. Results that cannot be merged
// (different framing, sizes, mode, histogram ranges or ringsock versions,
// a shard twice or missing) and unreadable or broken files exit 2 with the
// reason.
#pragma once

#include <string>
#include <vector>

namespace ringsock_cli {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string json_file;   ///< "" = none
  std::string hlog_file;   ///< "" = none
  std::string assertions;  ///< "" = none
  bool help = false;
};

/// argv[1] is "merge". Returns 0, or kExitUsage with the reason in `error`.
int parse_merge_args(int argc, const char* const* argv, MergeArgs& out, std::string& error);

/// The whole command; returns the exit code.
int run_merge(int argc, const char* const* argv);


}  // namespace ringsock_cli
