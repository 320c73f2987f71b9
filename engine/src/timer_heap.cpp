#include "timer_heap.hpp"

#include <cstdlib>

namespace ringsock::detail {

bool TimerHeap::init(uint32_t capacity) noexcept {
  slots_ = static_cast<Operation**>(calloc(capacity, sizeof(Operation*)));
  capacity_ = slots_ ? capacity : 0;
  size_ = held_ = 0;
  return slots_ != nullptr;
}

void TimerHeap::deinit() noexcept {
  free(slots_);
  slots_ = nullptr;
  size_ = held_ = capacity_ = 0;
}

bool TimerHeap::push(Operation& op) noexcept {
  if (size_ + held_ == capacity_) return false;
  place(size_, op);
  sift_up(size_++);
  return true;
}

void TimerHeap::remove(Operation& op) noexcept {
  uint32_t slot = op.backend_slot;
  Operation& last = *slots_[--size_];
  if (slot == size_) return;  // it was the last one
  place(slot, last);
  sift_up(slot);
  sift_down(last.backend_slot);
}

void TimerHeap::sift_up(uint32_t slot) noexcept {
  Operation& op = *slots_[slot];
  while (slot > 0) {
    uint32_t parent = (slot - 1) / 2;
    if (!earlier(op, *slots_[parent])) break;
    place(slot, *slots_[parent]);
    slot = parent;
  }
  place(slot, op);
}

void TimerHeap::sift_down(uint32_t slot) noexcept {
  Operation& op = *slots_[slot];
  for (;;) {
    uint32_t child = 2 * slot + 1;
    if (child >= size_) break;
    if (child + 1 < size_ && earlier(*slots_[child + 1], *slots_[child])) ++child;
    if (!earlier(*slots_[child], op)) break;
    place(slot, *slots_[child]);
    slot = child;
  }
  place(slot, op);
}

}  // namespace ringsock::detail
