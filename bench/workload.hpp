// The workload both sides run, and what both need for it: a socket pair and
// a stall watchdog. No Google Benchmark here, so that profile_ops can use it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bench {

inline constexpr size_t kMessageBytes = 64;
inline constexpr unsigned kBatch = 32;
/// A stalled echo fails after 5 to 10 s instead of hanging.
inline constexpr uint64_t kWatchdogNs = 5'000'000'000;

/// socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK); closes both ends on destruction.
struct SocketPair {
  SocketPair() noexcept;
  ~SocketPair();
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  int a = -1;
  int b = -1;
  int error = 0;  ///< -errno if socketpair failed
};

/// Bounds waits without adding work to the measured path: a 5 s timer armed
/// once per run. Each firing re-arms if round trips were made since the last
/// one, and otherwise declares the run stalled.
struct Stall {
  uint64_t progress = 0;
  uint64_t seen = 0;
  /// The timer fired; returns whether to re-arm it.
  bool fire() noexcept {
    if (progress == seen) return false;
    seen = progress;
    return true;
  }
};

/// The message side A sends: a pattern, so the echo can be checked at the end.
void fill_message(uint8_t* message) noexcept;

}  // namespace bench
