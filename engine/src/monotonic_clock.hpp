// CLOCK_MONOTONIC as the engine keeps deadlines (Operation::deadline, a
// TimeSpec64): the time now, and whether a deadline has come.
#pragma once

#include <ctime>

#include "ringsock/operation.hpp"

namespace ringsock::detail {

inline TimeSpec64 monotonic_now() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return TimeSpec64{now.tv_sec, now.tv_nsec};
}

/// Whether `deadline` is at or before `now`.
inline bool reached(const TimeSpec64& deadline, const TimeSpec64& now) noexcept {
  return deadline.seconds != now.seconds ? deadline.seconds < now.seconds
                                         : deadline.nanoseconds <= now.nanoseconds;
}

}  // namespace ringsock::detail
