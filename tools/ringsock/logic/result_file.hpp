// The mergeable record of one run (one shard of a sharded load, or a whole
// unsharded run), kept in the JSON result under the top-level key "run" next
// to the fields `ringsock load --json` has always written:
//
//   "run": {
//     "format": "ringsock-run", "format_version": 1, "ringsock_version": "0.2.0",
//     "shard": {"index": 0, "count": 4},
//     "host": "node1", "clock_source": "CLOCK_REALTIME", "start_at_unix_ns": ...,
//     "start_skew_ns": 1234, "started_unix_ns": ...,
//     "config": {"mode": "rate", "framing": "ringsock", "arrival": "constant",
//                "size_min": 64, "size_max": 64, "inflight": 1, "connections": 64,
//                "rate": 100000, "count": 0, "duration_ns": ..., "warmup_ns": 0, "seed": 1},
//     "endpoint": "tcp://10.0.0.1:9000", "backend": "io_uring", "threads": 1,
//     "connections": 16, "seconds": 10.0, "cpu_seconds": 3.2,
//     "counters": {"sent": ..., "received": ..., "errors.refused": 0, ...},
//     "histograms": [{"name": "latency", "lowest_discernible": 1,
//                     "highest_trackable": 3600000000000, "significant_digits": 3,
//                     "count": ..., "min": ..., "max": ..., "sum": ...,
//                     "hdr": "HISTF..."}, ...],
//     "intervals": [{"start_s": 0, "length_s": 1,
//                    "counters": {"sent": ..., "errors.timeout": ..., "connections_open": ...},
//                    "histograms": [{"name": "latency", ...as above...}]}, ...]
//   }
//
// "config" holds the whole run's settings (totals over all shards), which
// every shard must share; counters are exact integers; histograms are
// HdrHistogram's compressed V2 encoding (logic/hlog.hpp) with their exact
// min, max and sum beside, so a merge loses nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "logic/histogram.hpp"
#include "logic/json.hpp"
#include "logic/shard.hpp"

namespace ringsock::tool {

inline constexpr std::string_view kRunFormat = "ringsock-run";
inline constexpr std::uint64_t kRunFormatVersion = 1;

// The whole run's settings: equal in every shard, or the shards cannot merge.
// The user's requests (--request ...), as the options that give them are
// written back: framing "custom" has them, and shards must agree on them.
struct CustomConfig {
  std::vector<std::string> requests;  // in turn
  std::string reply;                  // how a reply ends; "" on datagrams
  std::vector<std::string> checks;
  bool operator==(const CustomConfig&) const = default;
};

struct RunConfig {
  std::string mode;       // pingpong, throughput, rate, churn, idle
  std::string framing;    // ringsock, sockperf, custom
  std::string arrival;    // constant, poisson
  std::uint64_t size_min = 0, size_max = 0, inflight = 0;
  std::uint64_t connections = 0;  // over all shards
  std::uint64_t rate = 0;         // msgs/s over all shards; 0 = not paced
  std::uint64_t count = 0;        // messages over all shards; 0 = bounded by duration
  std::uint64_t duration_ns = 0, warmup_ns = 0, seed = 0;
  CustomConfig custom;    // framing "custom" only
  bool operator==(const RunConfig&) const = default;
};

struct NamedHistogram {
  std::string name;  // latency, latency_uncorrected, connect
  Histogram histogram;
};

// One interval of the run (one second as `load` records them): what the
// report draws over time. Starts count from the measured window's start.
struct RunInterval {
  double start_s = 0;
  double length_s = 0;
  std::vector<std::pair<std::string, std::uint64_t>> counters;  // as RunRecord::counters
  std::vector<NamedHistogram> histograms;                       // as RunRecord::histograms

  std::uint64_t counter(std::string_view name) const noexcept;  // 0 when absent
  const Histogram* histogram(std::string_view name) const noexcept;
};

struct RunRecord {
  std::string ringsock_version;     // "0.2.0"
  ShardSpec shard;
  std::string host;
  std::string clock_source;         // the wall clock --start-at waited on
  std::int64_t start_at_unix_ns = 0;  // --start-at; 0 when not given
  std::int64_t start_skew_ns = 0;     // when measuring began minus start_at (>= 0 normally)
  std::int64_t started_unix_ns = 0;   // when measuring began, wall clock
  RunConfig config;
  std::string endpoint;             // as this shard reached the server
  std::string backend;              // io_uring, epoll
  std::uint64_t threads = 0;
  std::uint64_t connections = 0;    // this shard's
  double seconds = 0;               // the measured window
  double cpu_seconds = 0;
  std::uint32_t local_ports = 0;    // churn: the host's ephemeral port range's size; 0 unknown
  std::uint32_t interrupted = 0;    // the signal that cut the run short (SIGINT, SIGTERM); 0 none
  // Exact counters, by name; merge adds them and needs the same names in
  // every shard. Errors by kind are "errors.<kind>".
  std::vector<std::pair<std::string, std::uint64_t>> counters;
  std::vector<NamedHistogram> histograms;
  // Per-interval counters and histograms, in time order; empty when the
  // result has none (an older writer): optional on read.
  std::vector<RunInterval> intervals;

  std::uint64_t counter(std::string_view name) const noexcept;  // 0 when absent
  const Histogram* histogram(std::string_view name) const noexcept;
};

// Writes "run": {...} as a member of the object w is in (the lead's
// load_report.cpp calls it inside the --json document).
void write_run_record(JsonWriter& w, const RunRecord& record);

// A whole document {"run": {...}}: for tests and tools that want only the record.
std::string run_record_document(const RunRecord& record);

// Reads the "run" record of a JSON result; every other member is ignored
// (but the whole text must be valid JSON). An error says what is wrong:
// broken JSON, a foreign document, a missing or mistyped field, an encoded
// histogram that does not decode or whose counts, min, max or sum are
// impossible.
std::variant<RunRecord, std::string> read_run_record(std::string_view json_text);

// The major version of "X.Y.Z" for compatibility: X, or "0.Y" while X is 0
// (before 1.0 a minor release may change the record).
std::string compatibility_version(std::string_view version);

}  // namespace ringsock::tool
