// One-second interval histograms for the .hlog log, recorded on the load
// threads without allocating or locking and collected by another thread.
//
// Each load thread owns an IntervalRecorder: record() adds a value to the
// histogram of the interval `now` falls in; when `now` passes into a later
// interval, the finished one is handed over through a small ring of slots
// (single producer, single consumer; all histograms are allocated at
// construction). An IntervalCollector on the reporting thread takes the
// finished intervals of every recorder and, once all of them have passed an
// interval, gives it merged, in order: the lines of the .hlog file.
//
// Caveat: when the collector falls `slots` intervals behind, a recorder has
// no free slot and keeps adding into the interval it holds, which then spans
// several seconds (reported by its first and last index). Counts stay exact.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "logic/histogram.hpp"

namespace ringsock::tool {

struct IntervalSlot {
  std::uint64_t first = 0;  // interval index (since start) of the first value
  std::uint64_t last = 0;   // and of the last: > first when the ring was full
  std::vector<Histogram> metrics;
};

class IntervalRecorder {
 public:
  // `metrics` histograms per interval (latency, latency_uncorrected,
  // connect, ...); intervals of interval_ns from start_ns; slots >= 2.
  IntervalRecorder(std::size_t metrics, std::uint64_t start_ns, std::uint64_t interval_ns,
                   std::size_t slots = 4,
                   std::uint64_t highest_trackable_ns = 3'600'000'000'000ULL);

  // Producer side (the load thread). Values before start_ns count in interval 0.
  void record(std::size_t metric, std::uint64_t now_ns, std::uint64_t value) noexcept;
  // Hands over the held interval when now_ns is past it (call it from the
  // thread's periodic tick, so that quiet seconds are handed over too).
  void roll(std::uint64_t now_ns) noexcept;
  // At the end: hands over whatever is held, whatever the time; no more
  // record() or roll() after it.
  void finish() noexcept;

  // Consumer side (the collector): the oldest handed-over slot, or nullptr;
  // release() gives it back (after its histograms are read).
  const IntervalSlot* peek() const noexcept;
  void release() noexcept;
  // Every interval before this index has been handed over (the producer's
  // progress, for the collector to know an interval is complete).
  std::uint64_t passed() const noexcept { return passed_.load(std::memory_order_acquire); }
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }

 private:
  std::uint64_t index_of(std::uint64_t now_ns) const noexcept;
  bool hand_over(std::uint64_t next_index) noexcept;
  IntervalSlot& slot(std::uint64_t n) noexcept { return slots_[n % slots_.size()]; }

  std::vector<IntervalSlot> slots_;
  std::uint64_t start_ns_;
  std::uint64_t interval_ns_;
  bool holding_ = false;                 // producer: slot(produced_) holds values
  std::uint64_t produced_ = 0;           // producer: slots handed over so far
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> consumed_{0};
  std::atomic<std::uint64_t> passed_{0};
  std::atomic<bool> finished_{false};
  bool tail_held_ = false;  // set before finished_: the last slot, not handed over
};

// Merges the recorders' intervals: each complete interval (every recorder has
// passed it) is given once, in order, with its metrics summed over threads.
class IntervalCollector {
 public:
  using Emit = std::function<void(std::uint64_t first, std::uint64_t last,
                                  const std::vector<Histogram>& metrics)>;

  IntervalCollector(std::vector<IntervalRecorder*> recorders, std::size_t metrics,
                    std::uint64_t highest_trackable_ns = 3'600'000'000'000ULL);

  // Takes what the recorders handed over and emits every complete interval.
  void poll(const Emit& emit);
  // After every recorder's finish(): emits all that is left.
  void drain(const Emit& emit);

 private:
  void take(const Emit& emit, bool all);

  struct Pending {
    std::uint64_t last = 0;
    std::vector<Histogram> metrics;
  };
  std::vector<IntervalRecorder*> recorders_;
  std::size_t metrics_;
  std::uint64_t highest_;
  std::map<std::uint64_t, Pending> pending_;  // by first index
};

}  // namespace ringsock::tool
