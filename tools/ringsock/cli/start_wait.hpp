// --start-at: waiting for the common wall-clock instant at which every shard
// starts to measure, and what the result records about it (the clock source
// and the skew each instance saw).
#pragma once

#include <cstdint>
#include <string>

namespace ringsock_cli {

struct StartedAt {
  int64_t unix_ns = 0;        ///< CLOCK_REALTIME when the wait ended
  uint64_t monotonic_ns = 0;  ///< CLOCK_MONOTONIC at the same moment: the run's start
  int64_t skew_ns = 0;        ///< unix_ns minus the instant asked for (>= 0: late by that)
};

/// Sleeps until CLOCK_REALTIME reaches start_at_unix_ns (an absolute sleep on
/// the wall clock, so a clock step during the wait is followed), then reads
/// both clocks. Returns at once, with the skew, when the instant has passed.
StartedAt wait_for_start(int64_t start_at_unix_ns) noexcept;

/// The wall clock as the result records it, e.g.
/// "CLOCK_REALTIME, clocksource tsc, NTP synchronized (estimated error 12 us)".
std::string clock_source_description();

}  // namespace ringsock_cli
