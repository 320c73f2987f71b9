// One thread of `ringsock load`: a loop and its share of the connections,
// run from the first connect until the work is done and the replies are in
// (or the drain deadline passes). load.cpp starts one per --threads and
// merges what they return.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "load.hpp"
#include "load_requests.hpp"
#include "logic/interval_recorder.hpp"
#include "logic/pacing.hpp"
#include "start_wait.hpp"

namespace ringsock_cli {

/// Published by a running thread every tick, read by the progress line.
struct ThreadProgress {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> replied{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> p99_ns{0};
  std::atomic<bool> done{false};
};

/// What one thread does; times are CLOCK_MONOTONIC ns shared by every thread.
struct ThreadPlan {
  const LoadArgs* args = nullptr;
  uint32_t thread = 0;          ///< connections thread, thread + threads, ... are ours
  uint32_t threads = 1;
  uint64_t count = 0;           ///< --count share of this thread (may be 0)
  bool count_bounded = false;   ///< --count was given (else the run is by time)
  uint64_t start_ns = 0;        ///< when the threads start connecting
  ThreadProgress* progress = nullptr;  ///< null: publish nothing
  /// Where connection i connects: endpoints[i % size] (a host name may give several).
  const std::vector<ringsock::Endpoint>* endpoints = nullptr;
  /// The user's requests, framing and checks; null: ringsock's own messages.
  const CustomRequests* custom = nullptr;
  std::size_t max_reply_bytes = 0;  ///< with custom: the largest reply held
  /// Sharding (--shard): args->connections are this shard's, global ids
  /// first_connection.. of total_connections; the pacers run the whole
  /// run's schedule (total_rate over total_connections).
  uint32_t first_connection = 0;
  uint32_t total_connections = 0;  ///< 0: args->connections
  uint32_t total_rate = 0;         ///< 0: args->rate
  int64_t start_at_unix_ns = 0;    ///< --start-at: connected, wait for it, then measure
  /// Per-second histograms (kIntervalMetrics); null: none recorded.
  ringsock::tool::IntervalRecorder* recorder = nullptr;
  uint64_t interval_start_ns = 0;  ///< the recorder's zero (CLOCK_MONOTONIC)
};

/// The interval metrics, in IntervalRecorder order, as the .hlog tags them.
inline constexpr const char* kIntervalMetrics[] = {"latency", "latency_uncorrected", "connect"};
inline constexpr size_t kIntervalMetricCount = 3;
inline constexpr uint64_t kIntervalNs = 1'000'000'000ULL;

/// The counters of one interval, cumulative at its end (the tick after it).
struct IntervalCounters {
  uint64_t sent = 0, received = 0, verify_failures = 0, cycles = 0;
  uint64_t errors[kLoadErrorKinds] = {};
  uint64_t connections_open = 0;  ///< a gauge: open at the interval's end
};

struct ThreadResult {
  LoadStats stats;
  ringsock::tool::LatencyPair latency;
  uint64_t finish_ns = 0;
  /// When its measured window opened (its connections up, plus the warmup);
  /// 0 when it never did.
  uint64_t measure_start_ns = 0;
  /// Connect times (streams), ns.
  ringsock::tool::Histogram connect{3'600'000'000'000ULL};
  /// Cumulative counters at the end of interval i (index i); only with a recorder.
  std::vector<IntervalCounters> interval_counters;
  StartedAt started;            ///< with --start-at: when this thread began measuring
  int init_error = 0;           ///< negated errno when the loop could not start
  bool uring = false;           ///< the backend this thread's loop got
  char backend_reason[192] = {};  ///< as long as the loop's own reason
  /// Custom requests: the first failed check or unframable reply, as lines
  /// for the report ("" when none).
  std::string failure_report;
};

/// Runs the thread's share to the end; never throws past its caller.
void run_load_thread(const ThreadPlan& plan, ThreadResult& out);

/// CLOCK_MONOTONIC in ns.
uint64_t monotonic_ns() noexcept;

}  // namespace ringsock_cli
