// Direct descriptors (LoopOptions::direct_descriptors): connections that
// accepts put into io_uring's registered file table rather than the
// process's fd table.
//
// The fd limit's rule holds for them: a connection the loop has no room for
// stays in the listener's backlog, and the accept ends with -EMFILE. The
// kernel alone would not keep it: an accept into a full table takes the
// connection off the backlog first, finds no free slot (-ENFILE) and closes
// it, so the peer is reset (seen on 6.18). So the loop never lets an accept
// into the kernel without a free slot for it: every arming claims a slot
// (FdTable::claim_slot), a connection keeps its claim until its close, and
// an arming that brings none gives it back. An accept_multishot is armed one
// connection at a time (the core re-arms it, as its emulation does), since
// a kernel multishot accept takes as many as are waiting. Where no slot is
// left the accept ends with -EMFILE, as an accept of fds does at the limit.
#include <cerrno>

#include "loop_core.hpp"
#include "unix_stream_recv.hpp"

namespace ringsock::detail {

// A new accept: it starts with a claim, or ends with -EMFILE at drain time
// (like any result, never inside the call).
int LoopCore::submit_direct_accept(Operation& op) noexcept {
  if (!fds_.claim_slot()) {
    op.state = OpState::submitted;
    track(op, op.fd);
    defer(op, -EMFILE);
    return 0;
  }
  int rc = begin(op);
  if (rc < 0) fds_.release_slot();
  return rc;
}

// An accept's result joins the table and the backend. A direct
// descriptor cannot be asked what socket it is (unix_dgram_send.hpp and
// unix_stream_recv.hpp ask an fd): it is a stream of the listener's
// domain, which the listener's record learns once.
int32_t LoopCore::admit(Operation& listener, int32_t result) noexcept {
  const bool direct = caps_.direct_descriptors != 0;
  if (direct && result < 0) {
    fds_.release_slot();  // this arming brought no connection
    if (result == -ENFILE) result = -EMFILE;  // cannot happen with the claims; the fd limit if it did
  }
  result = fds_.admit_accepted(result, direct);
  if (result < 0) return result;
  backend_.adopt(result);
  if (direct) {
    fds_.set_send_path(result, SendPath::ring);
    bool unix_stream = learn_recv_path(fds_, listener.fd) != RecvPath::multishot;
    fds_.set_recv_path(result, unix_stream ? RecvPath::watched : RecvPath::multishot);
    fds_.set_copies(result);  // no zero-copy: its abort at close needs an fd (zero_copy.cpp)
  }
  return result;
}

// Synchronous, as an fd's close is: the slot is empty and its record clear
// when this returns, so the next accept may take it at once. (Only an
// occupied slot gets here: FdTable::check refuses a close of an empty one.)
// Should the kernel refuse, the slot still holds the connection: its record
// and claim stay, the close reports the error, and the descriptor takes
// operations again, a close among them.
int32_t LoopCore::close_direct(int fd) noexcept {
  int32_t result = backend_.close_direct(fd);
  if (result == 0) {
    fds_.clear_direct(fd);
  } else {
    fds_.abandon_close(fd);
  }
  return result;
}

}  // namespace ringsock::detail
