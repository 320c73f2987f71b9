// Results waiting for their callbacks: the epoll backend's completions, and
// CQEs the io_uring backend had to take off its ring before the core read
// them (a submit the kernel refused until its CQ was read). The core empties
// it through the backend's next_event. A fixed ring: no allocation after init.
#pragma once

#include <cstdint>
#include <cstdlib>

#include "assert.hpp"

namespace ringsock::detail {

/// Event flags, bit-compatible with io_uring's CQE flags (checked in uring.cpp)
/// so the io_uring backend copies CQEs as they are and epoll writes the same.
enum EventFlag : uint32_t {
  kEventBuffer = 1u << 0,  ///< the upper 16 bits name the pool buffer the data is in
  kEventMore = 1u << 1,    ///< a multishot operation stays armed (a zero-copy send: its notification follows)
  kEventNotif = 1u << 3,   ///< a zero-copy send's notification: the kernel let go of its buffer
};
inline constexpr unsigned kEventBufferShift = 16;

/// One raw completion: the tagged user_data, the kernel's result and CQE flags.
struct RawEvent {
  uint64_t user_data;
  int32_t result;
  uint32_t flags;
};

class EventQueue {
 public:
  EventQueue() noexcept = default;
  ~EventQueue() { free(slots_); }
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  /// capacity: a power of two. Returns false if memory could not be had.
  bool init(uint32_t capacity) noexcept {
    slots_ = static_cast<RawEvent*>(calloc(capacity, sizeof(RawEvent)));
    mask_ = capacity - 1;
    return slots_ != nullptr;
  }
  bool empty() const noexcept { return head_ == tail_; }
  bool full() const noexcept { return tail_ - head_ == mask_ + 1; }
  uint32_t space() const noexcept { return mask_ + 1 - (tail_ - head_); }
  /// Callers check space() first: a push into a full queue would overwrite the oldest event.
  void push(const RawEvent& event) noexcept {
    RINGSOCK_ASSERT(!full());
    slots_[tail_++ & mask_] = event;
  }
  RawEvent pop() noexcept {
    RINGSOCK_ASSERT(!empty());
    return slots_[head_++ & mask_];
  }

 private:
  RawEvent* slots_ = nullptr;
  uint32_t mask_ = 0;
  uint32_t head_ = 0;
  uint32_t tail_ = 0;
};

}  // namespace ringsock::detail
