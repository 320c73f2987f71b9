#include "unix_stream_recv.hpp"

#include "loop_core.hpp"
#include "socket_kind.hpp"

namespace ringsock::detail {

RecvPath learn_recv_path(FdTable& fds, int fd) noexcept {
  if (fds.recv_path(fd) == RecvPath::unknown) {
    bool unix_stream = socket_is(fd, AF_UNIX, SOCK_STREAM);
    fds.set_recv_path(fd, unix_stream ? RecvPath::watched : RecvPath::multishot);
  }
  return fds.recv_path(fd);
}

void LoopCore::choose_unix_recv_path(Operation& op) noexcept {
  if (backend_.kind() != BackendKind::uring) {
    fds_.set_recv_path(op.fd, RecvPath::multishot);
    return;
  }
  RecvPath path = learn_recv_path(fds_, op.fd);
  if (path == RecvPath::multishot) return;
  if (path == RecvPath::watched && backend_.watch_hangup(op)) return;
  op.flags |= kOneAtATime;
}

// The watch's one event. If op's terminal result waits for it, op ends now.
// Otherwise the peer hung up (or the watch failed, which is treated alike):
// the fd is received one result per arming from now on, and an armed
// receive is ended to be armed again that way (its -ECANCELED pauses it,
// and the pause resumes at once while the pool has buffers).
uint32_t LoopCore::hangup_event(Operation& op) noexcept {
  backend_.watch_ended(op);
  if (op.state == OpState::hangup_wait) return finish(op, op.deferred_result) ? 1 : 0;
  ++stats_.unix_hangups;
  fds_.set_recv_path(op.fd, RecvPath::one_at_a_time);
  op.flags |= kOneAtATime;
  bool armed = op.state == OpState::submitted && !(op.flags & (kCancelRequested | kPauseRequested));
  if (!armed) return 0;  // a restart to come reads kOneAtATime
  op.flags |= kPauseRequested;
  if (backend_.cancel(op) == kEndedBeforeStart) {
    // It was waiting for SQ room to restart: it waits again, one at a time.
    op.flags &= uint8_t(~kPauseRequested);
    restart(op);
  }
  return 0;
}

void LoopCore::hold_for_watch(Operation& op, int32_t result, const Completion& completion) noexcept {
  // A multishot receive's terminal result carries no buffer: nothing is lent meanwhile.
  RINGSOCK_ASSERT(op.kind == OpKind::recv_multishot && !completion.has_buffer);
  (void)completion;
  op.state = OpState::hangup_wait;
  op.deferred_result = result;
}

}  // namespace ringsock::detail
