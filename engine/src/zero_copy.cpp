// The core's half of zero-copy sends: which sends ask for it, and what their
// two completions mean (zero_copy.hpp).
#include "zero_copy.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "loop_core.hpp"
#include "monotonic_clock.hpp"

namespace ringsock::detail {

// Not for a send the core makes itself (a UNIX datagram's direct sendmsg),
// nor on an fd that stopped asking.
void LoopCore::mark_zero_copy(Operation& op) noexcept {
  if ((op.flags & kDirectSend) || fds_.copies(op.fd)) return;
  if (send_bytes(op) >= zero_copy_min_bytes_) op.flags |= kZeroCopy;
}

// At the result, with the notification still to come: a final result
// (every byte queued, an error, a cancel, an expired deadline) leaves the
// operation waiting for the kernel alone (OpState::notify_wait): nothing is
// left for a cancel to end, and a close of its fd aborts the connection
// (abort_zero_copy) rather than wait for a peer's acknowledgements. A close
// already waiting (its cancel is what ended the send, with bytes queued)
// aborts it here, since it found the send still running.
void LoopCore::zero_copy_result(Operation& op, int32_t result) noexcept {
  op.deferred_result = result;
  const uint32_t total = send_bytes(op);
  bool final = op.flags & kCancelRequested;
  if (result > 0) {
    final = final || op.transferred + uint32_t(result) == total;
    if (!final && (op.flags & kHasDeadline) && reached(op.deadline, monotonic_now())) {
      // The deadline cut it short: what went out stays counted.
      op.transferred += uint32_t(result);
      op.deferred_result = -ETIMEDOUT;
      final = true;
    }
  } else if (result < 0) {
    // Errors the core answers by starting the send again are not final.
    final = final || (result != -EOPNOTSUPP && result != -EINVAL && result != -EAGAIN &&
                      result != -EINTR);
  }
  if (!final) return;
  op.state = OpState::notify_wait;
  if (fds_.check(op.fd) != 0) abort_zero_copy(op);  // its fd's close is under way
}

// On a stream, the notification of bytes queued but not yet acknowledged
// waits for the peer, which may never read again. The close cannot wait for
// it (it would hold the fd for ever) nor come before the send's callback
// (whoever closes gives back what the send uses once the close is done):
// the connection is aborted as by SO_LINGER {1, 0} (connect(2) to
// AF_UNSPEC: a reset, and the kernel drops what it still holds of the
// buffer), the notification follows, and the send ends with -ECANCELED,
// op.transferred counting the bytes it had queued. A datagram's
// notification comes when the frame leaves: that one is waited for.
void LoopCore::abort_zero_copy(Operation& op) noexcept {
  if (op.kind != OpKind::send && op.kind != OpKind::sendv) return;
  if (op.deferred_result > 0) op.transferred += uint32_t(op.deferred_result);
  op.deferred_result = -ECANCELED;
  op.flags |= kCancelRequested;
  sockaddr unspecified{};
  unspecified.sa_family = AF_UNSPEC;
  (void)::connect(op.fd, &unspecified, sizeof unspecified);  // no report: the close goes on
}

bool LoopCore::zero_copy_event(Operation& op, RawEvent& event) noexcept {
  if (op.flags & kAwaitReady) return true;  // a readiness poll's result, not a send's
  const bool waited = op.state == OpState::notify_wait;
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
  if (!waited && (result == -EOPNOTSUPP || result == -EINVAL) &&
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
    fds_.set_copies(op.fd);
  }
  return true;
}

}  // namespace ringsock::detail
