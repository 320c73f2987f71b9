// The core's half of zero-copy sends: which sends ask for it, and what their
// two completions mean (zero_copy.hpp).
#include "zero_copy.hpp"

#include <cerrno>

#include "loop_core.hpp"

namespace ringsock::detail {

// Not for a send the core makes itself (a UNIX datagram's direct sendmsg),
// nor on an fd that stopped asking.
void LoopCore::mark_zero_copy(Operation& op) noexcept {
  if ((op.flags & kDirectSend) || fds_.copies(op.fd)) return;
  if (send_bytes(op) >= zero_copy_min_bytes_) op.flags |= kZeroCopy;
}

bool LoopCore::zero_copy_event(Operation& op, RawEvent& event) noexcept {
  if (op.flags & kAwaitReady) return true;  // a readiness poll's result, not a send's
  bool notified = event.flags & kEventNotif;
  bool copied = false;
  if (notified) {
    ++stats_.zero_copy_notifications;
    // The kernel is done with the buffer: the kept result goes on.
    copied = uint32_t(event.result) & kZeroCopyCopied;
    event.result = op.deferred_result;
    event.flags = 0;
  } else if (event.flags & kEventMore) {
    op.deferred_result = event.result;  // its notification follows
    return false;
  }
  const int32_t result = event.result;
  if ((result == -EOPNOTSUPP || result == -EINVAL) && !(op.flags & kCancelRequested)) {
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
