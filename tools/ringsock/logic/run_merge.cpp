#include "logic/run_merge.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace ringsock::tool {
namespace {

constexpr std::int64_t kStartTolerance_ns = 250'000'000;

std::string shard_name(const MergeInput& in) {
  return in.label + " (shard " + std::to_string(in.record.shard.index) + "/" +
         std::to_string(in.record.shard.count) + ")";
}

template <class T>
std::string show(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return "'" + v + "'";
  } else if constexpr (std::is_same_v<T, CustomConfig>) {
    std::string out;
    for (const std::string& r : v.requests) out += (out.empty() ? "" : ", ") + r;
    return "requests '" + out + "'" + (v.reply.empty() ? "" : ", reply '" + v.reply + "'") +
           (v.checks.empty() ? "" : ", " + std::to_string(v.checks.size()) + " check(s)");
  } else {
    return std::to_string(v);
  }
}

// The first RunConfig field that differs between a and b, as a sentence.
std::string config_difference(const MergeInput& a, const MergeInput& b) {
  const RunConfig& x = a.record.config;
  const RunConfig& y = b.record.config;
  std::string out;
  auto check = [&](const char* name, const auto& u, const auto& v) {
    if (out.empty() && !(u == v))
      out = std::string(name) + " differs: " + show(u) + " in " + shard_name(a) + ", " + show(v) +
            " in " + shard_name(b);
  };
  // Shards may reach the server by different addresses, not transports.
  const auto transport = [](const std::string& url) { return url.substr(0, url.find("://")); };
  check("transport", transport(a.record.endpoint), transport(b.record.endpoint));
  check("framing", x.framing, y.framing);
  check("mode", x.mode, y.mode);
  check("arrival", x.arrival, y.arrival);
  check("size_min", x.size_min, y.size_min);
  check("size_max", x.size_max, y.size_max);
  check("inflight", x.inflight, y.inflight);
  check("connections (total)", x.connections, y.connections);
  check("rate (total)", x.rate, y.rate);
  check("count (total)", x.count, y.count);
  check("duration_ns", x.duration_ns, y.duration_ns);
  check("warmup_ns", x.warmup_ns, y.warmup_ns);
  check("seed", x.seed, y.seed);
  check("custom requests", x.custom, y.custom);
  return out;
}

std::string layout_difference(const MergeInput& a, const MergeInput& b) {
  const RunRecord& x = a.record;
  const RunRecord& y = b.record;
  for (const auto& [name, value] : x.counters) {
    (void)value;
    bool found = false;
    for (const auto& other : y.counters) found = found || other.first == name;
    if (!found) return "counter '" + name + "' is in " + shard_name(a) + " but not in " + shard_name(b);
  }
  if (x.counters.size() != y.counters.size())
    return shard_name(b) + " has counters that " + shard_name(a) + " has not";
  if (x.histograms.size() != y.histograms.size())
    return "histograms differ: " + std::to_string(x.histograms.size()) + " in " + shard_name(a) +
           ", " + std::to_string(y.histograms.size()) + " in " + shard_name(b);
  for (const auto& h : x.histograms) {
    const Histogram* other = y.histogram(h.name);
    if (other == nullptr)
      return "histogram '" + h.name + "' is in " + shard_name(a) + " but not in " + shard_name(b);
    if (other->highest_trackable() != h.histogram.highest_trackable())
      return "histogram range of '" + h.name + "' differs: highest trackable " +
             std::to_string(h.histogram.highest_trackable()) + " in " + shard_name(a) + ", " +
             std::to_string(other->highest_trackable()) + " in " + shard_name(b);
  }
  return {};
}

// The shards' seconds are added by position, so they must begin together:
// within a quarter of a second, as merge_hlogs places a log's intervals.
// With --start-at they begin at that instant (a late shard too).
std::string starts_difference(const std::vector<MergeInput>& inputs) {
  const auto started = [](const MergeInput& in) { return in.record.started_unix_ns; };
  if (std::ranges::any_of(inputs, [&](const MergeInput& in) { return started(in) == 0; }))
    return {};  // not known: nothing to compare
  const auto earliest = std::ranges::min_element(inputs, {}, started);
  const auto latest = std::ranges::max_element(inputs, {}, started);
  const std::int64_t apart = started(*latest) - started(*earliest);
  if (apart <= kStartTolerance_ns) return {};
  char seconds[32];
  snprintf(seconds, sizeof seconds, "%.3f s", double(apart) / 1e9);
  return "the shards began measuring " + std::string(seconds) + " apart (" +
         shard_name(*earliest) + " first, " + shard_name(*latest) +
         " last): their seconds do not line up; start them together with --start-at";
}

std::string check_shards(const std::vector<MergeInput>& inputs) {
  const MergeInput& first = inputs.front();
  const std::uint32_t count = first.record.shard.count;
  std::vector<const MergeInput*> by_index(count, nullptr);
  for (const MergeInput& in : inputs) {
    const RunRecord& r = in.record;
    if (compatibility_version(r.ringsock_version) !=
        compatibility_version(first.record.ringsock_version))
      return "ringsock versions differ: " + first.record.ringsock_version + " in " +
             shard_name(first) + ", " + r.ringsock_version + " in " + shard_name(in);
    if (r.shard.count != count)
      return "shard counts differ: " + std::to_string(count) + " in " + shard_name(first) + ", " +
             std::to_string(r.shard.count) + " in " + shard_name(in);
    // The shards of one run share its --start-at (none, or the same instant).
    if (r.start_at_unix_ns != first.record.start_at_unix_ns)
      return "the shards did not start together (results of different runs?): --start-at " +
             std::to_string(first.record.start_at_unix_ns) + " ns in " + shard_name(first) +
             ", " + std::to_string(r.start_at_unix_ns) + " ns in " + shard_name(in);
    if (by_index[r.shard.index] != nullptr)
      return "shard " + std::to_string(r.shard.index) + " is given twice: " +
             by_index[r.shard.index]->label + " and " + in.label;
    by_index[r.shard.index] = &in;
    if (std::string e = config_difference(first, in); !e.empty()) return e;
    if (std::string e = layout_difference(first, in); !e.empty()) return e;
  }
  for (std::uint32_t k = 0; k < count; ++k) {
    if (by_index[k] == nullptr)
      return "shard " + std::to_string(k) + " of " + std::to_string(count) +
             " is missing (" + std::to_string(inputs.size()) + " result(s) given)";
  }
  return starts_difference(inputs);
}

void merge_window(RunRecord& whole, const std::vector<MergeInput>& inputs) {
  bool known = true;
  std::int64_t begin = INT64_MAX, end = INT64_MIN;
  for (const MergeInput& in : inputs) {
    const RunRecord& r = in.record;
    known = known && r.started_unix_ns > 0;
    begin = std::min(begin, r.started_unix_ns);
    end = std::max(end, r.started_unix_ns + static_cast<std::int64_t>(r.seconds * 1e9));
    whole.seconds = std::max(whole.seconds, r.seconds);
  }
  if (known) {
    whole.started_unix_ns = begin;
    whole.seconds = static_cast<double>(end - begin) / 1e9;
  }
}

// Adds the shards' intervals by position: interval i of every shard is
// second i of the common start (--start-at), so they cover the same time.
// A shard that has fewer intervals adds nothing to the later ones.
std::string merge_intervals(RunRecord& whole, const std::vector<MergeInput>& inputs) {
  for (const MergeInput& in : inputs) {
    const std::vector<RunInterval>& from = in.record.intervals;
    for (std::size_t i = 0; i < from.size(); ++i) {
      if (i == whole.intervals.size()) {
        RunInterval fresh;
        fresh.start_s = from[i].start_s;
        fresh.length_s = from[i].length_s;
        whole.intervals.push_back(std::move(fresh));
      }
      RunInterval& into = whole.intervals[i];
      into.length_s = std::max(into.length_s, from[i].length_s);
      for (const auto& counter : from[i].counters) {
        auto at = std::find_if(into.counters.begin(), into.counters.end(),
                               [&](const auto& c) { return c.first == counter.first; });
        if (at == into.counters.end()) {
          into.counters.push_back(counter);
        } else {
          if (counter.second > UINT64_MAX - at->second)
            return "interval " + std::to_string(i) + "'s counter '" + counter.first +
                   "' overflows when added";
          at->second += counter.second;
        }
      }
      for (const NamedHistogram& h : from[i].histograms) {
        auto at = std::find_if(into.histograms.begin(), into.histograms.end(),
                               [&](const NamedHistogram& n) { return n.name == h.name; });
        if (at == into.histograms.end()) {
          into.histograms.push_back(h);
        } else {
          if (h.histogram.count() > UINT64_MAX - at->histogram.count())
            return "interval " + std::to_string(i) + "'s histogram '" + h.name +
                   "' overflows when added";
          at->histogram.merge(h.histogram);
        }
      }
    }
  }
  return {};
}

}  // namespace

std::variant<RunRecord, std::string> merge_runs(const std::vector<MergeInput>& inputs) {
  if (inputs.empty()) return std::string("nothing to merge");
  if (std::string e = check_shards(inputs); !e.empty()) return e;
  const RunRecord& first = inputs.front().record;
  RunRecord whole;
  whole.ringsock_version = first.ringsock_version;
  whole.shard = {0, 1};
  whole.clock_source = first.clock_source;
  whole.start_at_unix_ns = first.start_at_unix_ns;
  whole.config = first.config;
  whole.endpoint = first.endpoint;
  whole.backend = first.backend;
  whole.counters = first.counters;
  for (auto& c : whole.counters) c.second = 0;
  for (const auto& h : first.histograms)
    whole.histograms.push_back({h.name, Histogram(h.histogram.highest_trackable())});
  for (const MergeInput& in : inputs) {
    const RunRecord& r = in.record;
    if (r.backend != whole.backend) whole.backend = "mixed";
    if (r.host != first.host && !whole.host.empty()) whole.host = "several hosts";
    if (whole.host.empty()) whole.host = r.host;
    if (std::llabs(r.start_skew_ns) > std::llabs(whole.start_skew_ns)) whole.start_skew_ns = r.start_skew_ns;
    whole.threads += r.threads;
    whole.connections += r.connections;
    whole.cpu_seconds += r.cpu_seconds;
    for (auto& [name, value] : whole.counters) {
      const std::uint64_t add = r.counter(name);
      if (add > UINT64_MAX - value) return "counter '" + name + "' overflows when added";
      value += add;
    }
    for (auto& h : whole.histograms) {
      const Histogram& add = *r.histogram(h.name);
      if (add.count() > UINT64_MAX - h.histogram.count())
        return "histogram '" + h.name + "' overflows when added";
      h.histogram.merge(add);
    }
  }
  merge_window(whole, inputs);
  if (std::string e = merge_intervals(whole, inputs); !e.empty()) return e;
  return whole;
}

}  // namespace ringsock::tool
