// UNIX stream receives on io_uring are armed one result at a time.
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
// EOF. So a multishot receive on a UNIX stream socket becomes a single
// receive (a bundle where the kernel has them) that the core arms again
// after each result, as it does when a kernel ends a multishot early: every
// arming tries the socket afresh and sees the end. Which fds are UNIX
// streams is learned at an fd's first multishot receive (two getsockopt
// calls) and kept in the fd table until the loop closes the fd. epoll reads
// on after RDHUP itself and never asks.
#pragma once

#include "fd_table.hpp"

namespace ringsock::detail {

/// Whether multishot receives on fd (io_uring) are armed one result at a time.
bool receives_one_at_a_time(FdTable& fds, int fd) noexcept;

}  // namespace ringsock::detail
