// UNIX datagram sends go around the ring, by sendmsg(2).
//
// Linux 6.18 corrupts io_uring sends on UNIX datagram sockets whose peer
// queue is full: IORING_OP_SEND puts an empty datagram on the wire and
// reports 0, IORING_OP_SENDMSG reports 0 or -EAGAIN after a retry. sendmsg(2)
// gets it right, so these sockets send directly and use the ring (or epoll)
// only to wait for POLLOUT. Which fds send this way is learned at an fd's
// first send (two getsockopt calls) and kept in the fd table until the loop
// closes the fd. The core keeps the life cycle: it marks the operation
// (kDirectSend), calls try_direct_send, and defers the result or waits.
#pragma once

#include <cstdint>

#include "fd_table.hpp"
#include "ringsock/operation.hpp"

namespace ringsock::detail {

/// Whether sends on fd bypass the ring: learned at the fd's first send.
bool sends_directly(FdTable& fds, int fd) noexcept;

enum class DirectSend : uint8_t {
  done,        ///< the send ended: `result` is its terminal result
  wait_ready,  ///< op waits for readiness (kAwaitReady set): start it on the backend
};

/// One non-blocking sendmsg(2) for a send of any kind (is_send) marked kDirectSend.
/// Updates op.flags and op.transferred as the outcome needs.
DirectSend try_direct_send(Operation& op, FdTable& fds, int32_t& result) noexcept;

}  // namespace ringsock::detail
