// Adding the results of N shards into the result of the whole run, exactly:
// counters are summed, histograms added bucket by bucket (same layout, so
// nothing is re-bucketed) with their exact min, max and sum. Results that
// cannot describe one run are refused with the field that differs.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "logic/result_file.hpp"

namespace ringsock::tool {

struct MergeInput {
  std::string label;  // the file name, for messages
  RunRecord record;
};

// The merged record: shard 0/1, counters and histograms of all shards, the
// window from the earliest start to the latest end (the longest window when
// start times are unknown), threads, connections and CPU time summed, the
// largest start skew. Refused: no input, ringsock versions of different
// compatibility (compatibility_version), different shard counts, a shard
// index twice or missing, any RunConfig field that differs, different
// counter or histogram names, different histogram ranges, a counter sum
// that overflows.
std::variant<RunRecord, std::string> merge_runs(const std::vector<MergeInput>& inputs);

}  // namespace ringsock::tool
