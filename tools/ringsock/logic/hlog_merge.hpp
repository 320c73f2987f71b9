// Adding the interval logs of the shards of one run (their --hlog files)
// into one log, interval by interval: the shards started together
// (--start-at), so their k-th intervals cover the same second; each tag's
// histograms of the same second are added bucket by bucket.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "logic/hlog.hpp"

namespace ringsock::tool {

struct HlogInput {
  std::string label;  // the file name, for messages
  HlogFile file;
};

// Intervals are placed on a grid of their own length from the earliest
// start of all logs (absolute time: BaseTime + start, or StartTime + start
// when timestamps are relative without a BaseTime, as HdrHistogram's readers
// decide). Intervals of one tag on the same grid step are added. Refused,
// naming the file: an interval more than a quarter of its length off the
// grid (the shards did not start together), intervals of one step with
// different lengths, one tag with different histogram ranges.
std::variant<HlogFile, std::string> merge_hlogs(const std::vector<HlogInput>& inputs);

}  // namespace ringsock::tool
