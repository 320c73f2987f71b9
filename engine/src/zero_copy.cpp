// The core's half of zero-copy sends: which sends ask for it, and what their
// two completions mean (zero_copy.hpp).
#include "zero_copy.hpp"

#include <cerrno>
#include <ctime>

#include "loop_core.hpp"

namespace ringsock::detail {

namespace {

bool deadline_passed(const Operation& op) noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > op.deadline.seconds ||
         (now.tv_sec == op.deadline.seconds && now.tv_nsec >= op.deadline.nanoseconds);
}

}  // namespace

// Not for a send the core makes itself (a UNIX datagram's direct sendmsg),
// nor on an fd that stopped asking.
void LoopCore::mark_zero_copy(Operation& op) noexcept {
  if ((op.flags & kDirectSend) || fds_.copies(op.fd)) return;
  if (send_bytes(op) >= zero_copy_min_bytes_) op.flags |= kZeroCopy;
}

// At the result, with the notification still to come: when the result is
// final (every byte queued, an error, a cancel, an expired deadline) the
// operation is done with its fd, though not with its buffer. It leaves the
// fd's list then, so that a close need not wait for the notification, which
// on TCP comes only when the peer has acknowledged every byte: a peer that
// stops reading would hold the close, and the fd, for ever.
void LoopCore::zero_copy_result(Operation& op, int32_t result) noexcept {
  op.deferred_result = result;
  const uint32_t total = send_bytes(op);
  bool final = op.flags & kCancelRequested;
  if (result > 0) {
    final = final || op.transferred + uint32_t(result) == total;
    if (!final && (op.flags & kHasDeadline) && deadline_passed(op)) {
      // The deadline cut it short: what went out stays counted.
      op.transferred += uint32_t(result);
      op.deferred_result = -ETIMEDOUT;
      final = true;
    }
  } else if (result < 0) {
    // Errors the core answers by starting the send again keep the fd.
    final = final || (result != -EOPNOTSUPP && result != -EINVAL && result != -EAGAIN &&
                      result != -EINTR);
  }
  if (!final) return;
  op.backend_slot = fds_.generation(op.fd);  // unused on io_uring: which socket this was
  op.state = OpState::notify_wait;
  Operation* waiting_close = fds_.unlink(op);
  if (waiting_close != nullptr) close_now(*waiting_close);
}

bool LoopCore::zero_copy_event(Operation& op, RawEvent& event) noexcept {
  if (op.flags & kAwaitReady) return true;  // a readiness poll's result, not a send's
  const bool detached = op.state == OpState::notify_wait;
  bool notified = event.flags & kEventNotif;
  bool copied = false;
  if (notified) {
    ++stats_.zero_copy_notifications;
    // The kernel is done with the buffer: the kept result goes on.
    copied = uint32_t(event.result) & kZeroCopyCopied;
    event.result = op.deferred_result;
    event.flags = 0;
  } else if (event.flags & kEventMore) {
    zero_copy_result(op, event.result);  // its notification follows
    return false;
  }
  const int32_t result = event.result;
  if (!detached && (result == -EOPNOTSUPP || result == -EINVAL) &&
      !(op.flags & kCancelRequested)) {
    // The socket (or the kernel) cannot send zero-copy: send it by copying.
    // (A failed request's notification says "copied" too: that is not counted.)
    ++stats_.zero_copy_refused;
    op.flags &= uint8_t(~kZeroCopy);
    fds_.set_copies(op.fd);
    if (op.backend_flags != 0) backend_.arming_ended(op);
    restart(op);
    return false;
  }
  if (copied && result > 0) {
    ++stats_.zero_copy_copied;
    op.flags &= uint8_t(~kZeroCopy);  // a continuation copies too
    // Unless the loop closed the fd meanwhile (its number may name another socket now).
    if (!detached || fds_.generation(op.fd) == op.backend_slot) fds_.set_copies(op.fd);
  }
  return true;
}

}  // namespace ringsock::detail
