// Posts: a caller-owned operation's callback delivered on a loop from any
// thread, with a value. Two paths reach the target loop:
//   - its post box (post_box.hpp), a lock-free queue whose links are the
//     operations', and its eventfd wake; the wake's event names the
//     backend's mailbox operation, whose dispatch empties the box. A loop
//     turn without posts does no more work than before.
//   - IORING_OP_MSG_RING from the poster's own io_uring loop to the
//     target's ring (post_to): a CQE on the target whose user_data is the
//     operation's address tagged Tag::post.
// The post gate (post_gate.hpp, in the Loop object) decides which posts are
// let in, and makes deinit wait for the posters inside. Every accepted post
// gets exactly one callback: by run(), or at deinit with -ECANCELED.
#include <atomic>
#include <cerrno>

#include "assert.hpp"
#include "loop_core.hpp"
#include "post_gate.hpp"
#include "user_data.hpp"

namespace ringsock {

namespace {

bool misaligned(const Operation* op) {
  return (reinterpret_cast<uintptr_t>(op) & (alignof(Operation) - 1)) != 0;
}

// The checks of post and post_to that need no loop: refused before the gate.
int check_post(const Operation* op, Callback callback) {
  if (callback == nullptr || misaligned(op)) return -EINVAL;
  if (op->in_flight()) return -EBUSY;
  if (op->timeout_ns != 0) return -EINVAL;  // delivered at once: a deadline means nothing
  return 0;
}

// Writes the post into op. The state goes last, with release: the target
// may read op as soon as it sees a MSG_RING CQE, which the thread sanitizer
// cannot see order anything (the post box's own release orders that path).
void fill_post(Operation& op, uint64_t value, Callback callback, void* user_data) {
  op.kind = OpKind::post;
  op.fd = -1;
  op.callback = callback;
  op.user_data = user_data;
  op.transferred = 0;
  op.flags = 0;
  op.backend_flags = 0;
  op.queue_next = nullptr;
  op.args.post.value = value;
  std::atomic_ref<detail::OpState>(op.state).store(detail::OpState::submitted,
                                                   std::memory_order_release);
}

}  // namespace

int Loop::post(Operation& op, uint64_t value, Callback callback, void* user_data) noexcept {
  int rc = check_post(&op, callback);
  if (rc < 0) return rc;
  rc = detail::enter_gate(post_gate_);
  if (rc < 0) return rc;
  fill_post(op, value, callback, user_data);
  rc = core_->post(op);  // op is the target's from here on: not read again
  detail::leave_gate(post_gate_);
  return rc;
}

int Loop::post_to(Loop& target, Operation& op, uint64_t value, Callback callback,
                  void* user_data) noexcept {
  if (core_ == nullptr) return -EINVAL;
  if (!core_->on_owner_thread()) return -EPERM;
  if (&target == this) return post(op, value, callback, user_data);
  int rc = check_post(&op, callback);
  if (rc < 0) return rc;
  rc = detail::enter_gate(target.post_gate_);
  if (rc < 0) return rc;
  fill_post(op, value, callback, user_data);
  rc = core_->post_to(*target.core_, op);
  detail::leave_gate(target.post_gate_);
  return rc;
}

namespace detail {

int LoopCore::post(Operation& op) noexcept {
  if (!posts_.push(op)) return 0;  // not the first: a wake is on its way already
  // The post is queued whatever the wake says; an eventfd write fails only
  // on a counter at its maximum, which means a wake is pending anyway.
  int rc = backend_.wake();
  RINGSOCK_ASSERT(rc == 0);
  (void)rc;
  return 0;
}

int LoopCore::post_to(LoopCore& target, Operation& op) noexcept {
  int ring_fd = target.backend_.post_ring_fd();
  if (ring_fd >= 0 && backend_.send_post(ring_fd, op) == 0) {
    ++stats_.ring_posts;
    return 0;
  }
  return target.post(op);
}

// A post event (see post.cpp's head): the mailbox's wake empties the post
// box; a MSG_RING post is delivered; a MSG_RING this loop sent and the
// kernel failed comes back to this loop with its error.
uint32_t LoopCore::receive_post(Operation& op, const RawEvent& event) noexcept {
  switch (tag_of(event.user_data)) {
    case Tag::wake:
      return deliver_post_box(0);
    case Tag::post:
      deliver_post(op, 0);
      return 1;
    case Tag::post_failed:
      deliver_post(op, event.result);
      return 1;
    default:
      RINGSOCK_ASSERT(false);  // an operation of kind post is only ever posted
      return 0;
  }
}

// next is read before each callback: it may post op again at once.
uint32_t LoopCore::deliver_post_box(int32_t result) noexcept {
  uint32_t callbacks = 0;
  for (Operation* op = posts_.take_all(); op != nullptr; ++callbacks) {
    Operation* next = op->queue_next;
    op->queue_next = nullptr;
    deliver_post(*op, result);
    op = next;
  }
  return callbacks;
}

void LoopCore::deliver_post(Operation& op, int32_t result) noexcept {
  RINGSOCK_ASSERT(op.kind == OpKind::post && op.state == OpState::submitted);
  op.state = OpState::idle;
  Completion completion{};
  completion.result = result;
  op.callback(owner_, op, completion);
}

// The kernel hands out its held completions a batch at a time (a
// DEFER_TASKRUN ring runs a bounded number of task works per call): take
// them until a round brings nothing.
void LoopCore::end_posts() noexcept {
  deliver_post_box(-ECANCELED);
  bool more = true;
  while (more) {
    backend_.take_final_events();
    more = false;
    RawEvent event;
    while (backend_.next_event(events_, event)) {
      more = true;
      Tag tag = tag_of(event.user_data);
      if (tag == Tag::post) deliver_post(*operation_of(event.user_data), -ECANCELED);
      if (tag == Tag::post_failed) deliver_post(*operation_of(event.user_data), event.result);
    }
  }
}

}  // namespace detail
}  // namespace ringsock
