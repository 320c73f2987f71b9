// One thread of `ringsock load`: a loop and its share of the connections,
// run from the first connect until the work is done and the replies are in
// (or the drain deadline passes). load.cpp starts one per --threads and
// merges what they return.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "load.hpp"
#include "load_requests.hpp"
#include "logic/pacing.hpp"

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
  uint64_t count = 0;           ///< --count share of this thread (0 = by time)
  uint64_t start_ns = 0;        ///< when the threads start connecting
  ThreadProgress* progress = nullptr;  ///< null: publish nothing
  /// Where connection i connects: endpoints[i % size] (a host name may give several).
  const std::vector<ringsock::Endpoint>* endpoints = nullptr;
  /// The user's requests, framing and checks; null: ringsock's own messages.
  const CustomRequests* custom = nullptr;
  std::size_t max_reply_bytes = 0;  ///< with custom: the largest reply held
};

struct ThreadResult {
  LoadStats stats;
  ringsock::tool::LatencyPair latency;
  uint64_t finish_ns = 0;
  /// When its measured window opened (its connections up, plus the warmup);
  /// 0 when it never did.
  uint64_t measure_start_ns = 0;
  int init_error = 0;           ///< negated errno when the loop could not start
  bool uring = false;           ///< the backend this thread's loop got
  char backend_reason[160] = {};
  /// Custom requests: the first failed check or unframable reply, as lines
  /// for the report ("" when none).
  std::string failure_report;
};

/// Runs the thread's share to the end; never throws past its caller.
void run_load_thread(const ThreadPlan& plan, ThreadResult& out);

/// CLOCK_MONOTONIC in ns.
uint64_t monotonic_ns() noexcept;

}  // namespace ringsock_cli
