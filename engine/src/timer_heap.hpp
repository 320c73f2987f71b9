// A binary min-heap of operations ordered by their absolute deadline, with a
// fixed number of slots taken at init. Each operation remembers its slot
// (Operation::backend_slot), so removal is O(log n) without searching.
#pragma once

#include <cstdint>

#include "assert.hpp"
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
  /// Returns false (and changes nothing) when every slot is taken or held.
  bool push(Operation& op) noexcept;
  /// Removes op, which must be in the heap.
  void remove(Operation& op) noexcept;
  /// Keeps a slot for an operation that left the heap and may come back (a
  /// continued send): no new push takes it meanwhile.
  void hold() noexcept {
    RINGSOCK_ASSERT(size_ + held_ < capacity_);  // the slot it just left
    ++held_;
  }
  /// The operation a slot was held for is back: it takes that slot.
  void push_held(Operation& op) noexcept {
    RINGSOCK_ASSERT(held_ > 0);
    --held_;
    bool pushed = push(op);
    RINGSOCK_ASSERT(pushed);
    (void)pushed;
  }
  /// The operation a slot was held for ended instead.
  void release_held() noexcept {
    RINGSOCK_ASSERT(held_ > 0);
    --held_;
  }

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
  uint32_t held_ = 0;  // slots kept for operations between two starts
  uint32_t capacity_ = 0;
};

}  // namespace ringsock::detail
