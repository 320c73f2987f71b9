// UNIX stream receives on io_uring are watched for the peer's hang-up.
//
// Linux 6.18's multishot receive can lose the end of a UNIX stream. When
// its poll loop finds the socket ready on a single wake-up (its own arming
// found data and the peer's FIN already there, or it re-queued itself after
// 32 results), it reads until a read drains the data and then waits for the
// next wake-up, though RDHUP was in the mask it just saw. A UNIX stream
// reports 0 bytes left after that read (SO_INQ, Linux 6.17), so no further
// read is tried; the peer's shutdown has already happened, so no wake-up
// comes. The receive stays armed and the EOF never arrives. (The kernel's
// fix for this race loops again only when several wake-ups were pending.)
// TCP is spared: after a FIN it reports one byte left and reads on into the
// EOF.
//
// So a multishot receive on a UNIX stream goes into the kernel with a watch
// beside it: a one-shot poll for RDHUP alone, which data's wake-ups do not
// match. Until the peer hangs up, the receive is the kernel's multishot, at
// its cost. When the watch fires, the fd is marked to be received one
// result per arming from then on, and the receive is ended by a cancel that
// pauses it (as the per-fd cap does: its -ECANCELED is no terminal result)
// and is armed again at once, now one result at a time: every arming tries
// the socket afresh, reads what is left and then sees the end. A receive
// that ends while its watch is still in the kernel (its EOF, an error, a
// cancel, a close of its fd) removes the watch and holds its terminal
// result until the watch's event comes (OpState::hangup_wait), because that
// event names the operation. Where there is no room for the watch, the
// receive is armed one result at a time from the start. Which fds are UNIX
// streams is learned at an fd's first multishot receive (two getsockopt
// calls) and kept in the fd table until the loop closes the fd. epoll reads
// on after RDHUP itself and never asks.
#pragma once

#include "fd_table.hpp"

namespace ringsock::detail {

/// How multishot receives on fd are armed on io_uring: learned at the fd's
/// first one (RecvPath::watched for a UNIX stream, else multishot).
RecvPath learn_recv_path(FdTable& fds, int fd) noexcept;

}  // namespace ringsock::detail
