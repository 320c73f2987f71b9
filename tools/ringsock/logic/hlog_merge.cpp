#include "logic/hlog_merge.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

namespace ringsock::tool {
namespace {

// Where a log's timestamps count from, as HdrHistogram's log readers decide:
// BaseTime when given; else StartTime when the first timestamp is more than a
// year before it (relative timestamps); else 0 (absolute timestamps).
double base_of(const HlogFile& f) {
  if (f.base_time_s != 0) return f.base_time_s;
  if (!f.intervals.empty() && f.intervals.front().start_s < f.start_time_s - 365 * 24 * 3600.0)
    return f.start_time_s;
  return 0;
}

struct Member {
  const HlogInput* input;
  const HlogInterval* interval;
};

std::string seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3f s", s);
  return buf;
}

// Adds the intervals of one (step, tag) group into out.
std::string add_group(const std::vector<Member>& group, HlogInterval& out) {
  Histogram sum(2048);
  bool first = true;
  for (const Member& m : group) {
    auto decoded = m.interval->histogram();
    if (auto* e = std::get_if<std::string>(&decoded)) return m.input->label + ": " + *e;
    const Histogram& h = std::get<Histogram>(decoded);
    if (first) {
      sum = Histogram(h.highest_trackable());
      first = false;
    } else if (h.highest_trackable() != sum.highest_trackable()) {
      return m.input->label + ": tag '" + out.tag + "' has highest trackable value " +
             std::to_string(h.highest_trackable()) + ", another log " +
             std::to_string(sum.highest_trackable());
    }
    out.length_s = std::max(out.length_s, m.interval->length_s);  // a last one may be shorter
    if (h.count() > UINT64_MAX - sum.count()) return "tag '" + out.tag + "': the counts overflow";
    sum.merge(h);
    out.max_ms = std::max(out.max_ms, m.interval->max_ms);
  }
  out.count = sum.count();
  out.encoded = encode_hdr_base64(sum);
  return {};
}

}  // namespace

std::variant<HlogFile, std::string> merge_hlogs(const std::vector<HlogInput>& inputs) {
  if (inputs.empty()) return std::string("no histogram log to merge");
  double origin = INFINITY;
  for (const HlogInput& in : inputs)
    for (const HlogInterval& iv : in.file.intervals) origin = std::min(origin, base_of(in.file) + iv.start_s);
  HlogFile out;
  out.major = 1;
  out.minor = 3;
  if (!std::isfinite(origin)) return out;  // no intervals at all
  out.start_time_s = origin;
  out.base_time_s = origin;
  // The grid is the longest interval; a shorter one is the rest of a run
  // after its last whole interval, and only a log's last may be so.
  double grid = 0;
  for (const HlogInput& in : inputs) {
    for (const HlogInterval& iv : in.file.intervals) {
      if (!(iv.length_s > 0)) return in.label + ": an interval of length " + seconds(iv.length_s);
      grid = std::max(grid, iv.length_s);
    }
  }
  // (step, order of the tag's first appearance) -> the intervals to add.
  std::map<std::string, std::size_t> tag_order;
  std::map<std::pair<long long, std::size_t>, std::vector<Member>> groups;
  for (const HlogInput& in : inputs) {
    double last_start = -INFINITY;
    for (const HlogInterval& iv : in.file.intervals) last_start = std::max(last_start, iv.start_s);
    for (const HlogInterval& iv : in.file.intervals) {
      if (iv.length_s < grid * 0.999 && iv.start_s != last_start)
        return in.label + ": an interval of " + seconds(iv.length_s) + " where another has " +
               seconds(grid) + " (only a log's last interval may be shorter)";
      const double offset = base_of(in.file) + iv.start_s - origin;
      const long long step = std::llround(offset / grid);
      if (std::fabs(offset - static_cast<double>(step) * grid) > grid / 4)
        return in.label + ": an interval starts " + seconds(offset) +
               " after the earliest, off the others' grid of " + seconds(grid) +
               " (were the shards started together with --start-at?)";
      const std::size_t order = tag_order.try_emplace(iv.tag, tag_order.size()).first->second;
      groups[{step, order}].push_back({&in, &iv});
    }
  }
  for (const auto& [key, members] : groups) {
    HlogInterval iv;
    iv.tag = members.front().interval->tag;
    iv.start_s = static_cast<double>(key.first) * grid;
    if (std::string e = add_group(members, iv); !e.empty()) return e;
    out.intervals.push_back(std::move(iv));
  }
  return out;
}

}  // namespace ringsock::tool
