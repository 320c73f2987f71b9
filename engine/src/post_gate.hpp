// The post gate: which threads may post to a loop, and when its deinit may
// go on. It lives in the Loop object, not in the loop's core, so a post that
// races with deinit() reads memory that stays: the top bits say whether the
// loop takes posts (open) or is closing, the rest count the threads inside.
//
// A poster enters (the count goes up), finds the gate open or leaves again
// refused, does its push or its io_uring message, and leaves. deinit()
// closes the gate, then waits until no poster is inside: every post let in
// before the close has reached the queue or the kernel by then, and is
// delivered exactly once (by run() or at deinit); every later one is
// refused. Nothing here allocates or blocks: a poster inside holds the gate
// for one push and one eventfd write, or one io_uring_enter.
#pragma once

#include <sched.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

namespace ringsock::detail {

inline constexpr uint32_t kGateOpen = 1u << 31;
inline constexpr uint32_t kGateClosing = 1u << 30;
inline constexpr uint32_t kGatePosters = kGateClosing - 1;

/// A poster comes in. 0: the gate is open, the loop's core may be used until
/// leave_gate(). Else nothing is held: -ESHUTDOWN (closing) or -EINVAL (not
/// initialised). Acquire: the core init() made is visible.
inline int enter_gate(std::atomic<uint32_t>& gate) noexcept {
  uint32_t seen = gate.fetch_add(1, std::memory_order_acquire);
  if (seen & kGateOpen) return 0;
  gate.fetch_sub(1, std::memory_order_release);
  return (seen & kGateClosing) ? -ESHUTDOWN : -EINVAL;
}

/// Release: the poster's pushes happen before deinit() goes on.
inline void leave_gate(std::atomic<uint32_t>& gate) noexcept {
  gate.fetch_sub(1, std::memory_order_release);
}

/// init() succeeded: posts are taken from now on.
inline void open_gate(std::atomic<uint32_t>& gate) noexcept {
  gate.fetch_or(kGateOpen, std::memory_order_release);
}

/// deinit() begins: later posters are refused with -ESHUTDOWN. Idempotent.
inline void close_gate(std::atomic<uint32_t>& gate) noexcept {
  gate.fetch_or(kGateClosing, std::memory_order_relaxed);
  gate.fetch_and(~kGateOpen, std::memory_order_acq_rel);
}

/// Waits until every poster let in before close_gate() has left. Each is
/// inside for a push or one system call: a yield lets it finish.
inline void wait_for_posters(const std::atomic<uint32_t>& gate) noexcept {
  while ((gate.load(std::memory_order_acquire) & kGatePosters) != 0) sched_yield();
}

/// deinit() ended: posts are refused as to a loop never initialised.
inline void end_close(std::atomic<uint32_t>& gate) noexcept {
  gate.fetch_and(~kGateClosing, std::memory_order_release);
}

}  // namespace ringsock::detail
