#include "unix_dgram_send.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "backend/contract.hpp"
#include "plain_syscalls.hpp"
#include "sendv.hpp"
#include "socket_kind.hpp"

namespace ringsock::detail {

bool sends_directly(FdTable& fds, int fd) noexcept {
  if (fds.send_path(fd) == SendPath::unknown) {
    bool unix_dgram = socket_is(fd, AF_UNIX, SOCK_DGRAM);
    fds.set_send_path(fd, unix_dgram ? SendPath::direct : SendPath::ring);
  }
  return fds.send_path(fd) == SendPath::direct;
}

namespace {

// Bytes a stream send (send, sendv) put out, and for a sendv its new place.
void note_sent(Operation& op, uint32_t sent) {
  if (op.kind == OpKind::sendv) {
    advance_pieces(op, sent);
  } else {
    op.transferred = sent;
  }
}

}  // namespace

DirectSend try_direct_send(Operation& op, FdTable& fds, int32_t& result) noexcept {
  ssize_t sent;
  do {
    sent = sys::sendmsg(op.fd, &op.args.message.header, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0 && errno == EAGAIN) {
    // Still no room right after the socket said it was writable: for an
    // unconnected sendto, poll reports only our own buffer, never the
    // receiver's queue, so waiting again would spin. It ends with -EAGAIN.
    bool unconnected = op.args.message.header.msg_name != nullptr;
    if ((op.flags & kWokeReady) && unconnected) {
      result = -EAGAIN;
      return DirectSend::done;
    }
    op.flags |= kAwaitReady;  // wait for room in the peer's queue, then try again
    return DirectSend::wait_ready;
  }
  bool stream_kind = op.kind == OpKind::send || op.kind == OpKind::sendv;
  uint32_t length = op.kind == OpKind::sendv ? op.args.message.total_length
                                             : uint32_t(op.args.message.vector.iov_len);
  if (stream_kind && sent >= 0 && size_t(sent) < length) {
    // A short send is a stream's: the cached kind was stale (fd number reused
    // after a ::close). Learn again and go on as a stream send.
    fds.set_send_path(op.fd, SendPath::ring);
    op.flags &= uint8_t(~kDirectSend);
    note_sent(op, uint32_t(sent));
    op.flags |= kAwaitReady;
    return DirectSend::wait_ready;
  }
  if (sent >= 0 && stream_kind) note_sent(op, uint32_t(sent));
  result = sent < 0 ? -errno : int32_t(sent);
  return DirectSend::done;
}

}  // namespace ringsock::detail
