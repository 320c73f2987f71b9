// A binary min-heap of operations ordered by their absolute deadline, with a
// fixed number of slots taken at init. Each operation remembers its slot
// (Operation::backend_slot), so removal is O(log n) without searching.
#pragma once

#include <cstdint>

#include "ringsock/operation.hpp"

namespace ringsock::detail {

class TimerHeap {
 public:
  TimerHeap() noexcept = default;
  ~TimerHeap() { deinit(); }
  TimerHeap(const TimerHeap&) = delete;
  TimerHeap& operator=(const TimerHeap&) = delete;

  bool init(uint32_t capacity) noexcept;
  void deinit() noexcept;

  bool empty() const noexcept { return size_ == 0; }
  /// The operation with the earliest deadline; the heap must not be empty.
  Operation& top() const noexcept { return *slots_[0]; }
  /// Returns false (and changes nothing) when every slot is taken.
  bool push(Operation& op) noexcept;
  /// Removes op, which must be in the heap.
  void remove(Operation& op) noexcept;

 private:
  static bool earlier(const Operation& a, const Operation& b) noexcept {
    return a.deadline.seconds != b.deadline.seconds ? a.deadline.seconds < b.deadline.seconds
                                                    : a.deadline.nanoseconds < b.deadline.nanoseconds;
  }
  void place(uint32_t slot, Operation& op) noexcept {
    slots_[slot] = &op;
    op.backend_slot = slot;
  }
  void sift_up(uint32_t slot) noexcept;
  void sift_down(uint32_t slot) noexcept;

  Operation** slots_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace ringsock::detail
