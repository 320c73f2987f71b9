// The post box: an intrusive lock-free queue of posted operations, many
// producers (any thread, Loop::post) and one consumer (the loop's thread).
// Its links are the operations' own (Operation::queue_next): no allocation.
//
// A producer pushes onto a LIFO stack with one compare-and-swap; the consumer
// takes the whole stack with one exchange and reverses it, so posts come out
// in the order they went in. There is no single pop, hence no ABA problem.
// The producer that finds the box empty wakes the loop (eventfd); the others
// need not, since the loop has not taken the box since that wake.
#pragma once

#include <atomic>

#include "ringsock/operation.hpp"

namespace ringsock::detail {

class PostBox {
 public:
  /// Any thread. Returns true when the box was empty: the caller wakes the loop.
  /// Release: what the producer wrote into `op` is seen by the consumer.
  bool push(Operation& op) noexcept {
    Operation* head = head_.load(std::memory_order_relaxed);
    do {
      op.queue_next = head;
    } while (!head_.compare_exchange_weak(head, &op, std::memory_order_release,
                                          std::memory_order_relaxed));
    return head == nullptr;
  }
  /// The loop's thread: everything pushed so far, oldest first (linked
  /// through queue_next), or nullptr. The box is empty afterwards.
  Operation* take_all() noexcept {
    Operation* newest = head_.exchange(nullptr, std::memory_order_acquire);
    Operation* oldest = nullptr;
    while (newest != nullptr) {
      Operation* next = newest->queue_next;
      newest->queue_next = oldest;
      oldest = newest;
      newest = next;
    }
    return oldest;
  }

 private:
  // Written by other threads: kept off the cache lines of the loop's own
  // fields, which every turn reads.
  [[maybe_unused]] char before_[64] = {};
  std::atomic<Operation*> head_{nullptr};
  [[maybe_unused]] char after_[64] = {};
};

}  // namespace ringsock::detail
