// Zero-copy sends (LoopOptions::zero_copy_min_bytes), io_uring only.
//
// A send of at least the set size is marked kZeroCopy at submit, and the
// io_uring backend preps it as SEND_ZC (SENDMSG_ZC for the message kinds),
// asking the kernel to report whether it copied after all. Such a request
// completes twice: its result, with MORE when a notification will follow,
// then the notification (NOTIF), once the kernel has let go of the caller's
// memory. The core keeps the result in the operation until the
// notification comes, and only then treats it as any send's result
// (continue a short send, retry, or the one terminal callback), so the
// caller's buffer is never handed back while the kernel may still read it.
// A result without MORE has no notification to wait for (the request failed
// before one was set up) and goes on at once. After a final result (every
// byte queued, an error, a cancel, an expired deadline) only the kernel's
// notification is left (OpState::notify_wait): cancel answers -EALREADY.
// On TCP that notification waits for the peer's ACK of every byte, which a
// peer that stops reading holds back for ever; a close, which waits for
// every operation of its fd, would wait with it. So a close aborts the
// connection of such a send (abort_zero_copy: a reset, and the kernel drops
// what it holds) and the send ends with -ECANCELED before the close ends.
// Streams send with MSG_WAITALL, so a short send goes on in the same request
// rather than one notification at a time.
//
// Where zero-copy does not pay, the loop stops asking on that fd until the
// loop closes it or accepts a new socket with its number: when a
// notification says the kernel copied (loopback always does; so does a
// device without scatter-gather), and when the socket refuses SEND_ZC
// (-EOPNOTSUPP: UNIX sockets; -EINVAL: a kernel before 6.2, which lacks the
// copy report), in which case the same send goes out again by copying.
#pragma once

#include <sys/socket.h>

#include <cstdint>

#include "ringsock/operation.hpp"

namespace ringsock::detail {

/// The notification's result bit that says the kernel copied the data
/// (IORING_NOTIF_USAGE_ZC_COPIED, Linux 6.2; newer than liburing 2.3).
inline constexpr uint32_t kZeroCopyCopied = 1u << 31;
/// The SQE's ioprio flag that asks for that report (IORING_SEND_ZC_REPORT_USAGE).
inline constexpr uint16_t kZeroCopyReportUsage = 1u << 3;

/// A zero-copy send's flags. MSG_WAITALL: on a stream the kernel goes on
/// inside the same request (and under its one notification) after a short
/// send, instead of ending it and having the core start another once the
/// first notification came, which on a NIC waits for the peer's ACK of
/// every byte: the send would go out in stop-and-wait bursts. Datagram
/// sockets ignore it.
inline constexpr int kZeroCopySendFlags = MSG_NOSIGNAL | MSG_WAITALL;

/// The bytes a send of any kind sends in all.
inline uint32_t send_bytes(const Operation& op) noexcept {
  bool vectored = op.kind == OpKind::sendv || op.kind == OpKind::sendtov;
  return vectored ? op.args.message.total_length : uint32_t(op.args.message.vector.iov_len);
}

}  // namespace ringsock::detail
