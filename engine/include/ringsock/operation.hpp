// Operations: caller-owned, intrusive completion records.
//
// An Operation holds everything the engine needs to run one socket call and
// report it: arguments, links, state, result, callback and a user pointer.
// The engine keeps a pointer to it (io_uring user_data), never a copy, and
// never allocates one. The caller keeps it alive and unmoved from the submit
// call until its terminal completion (the callback with `more == false`).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "ringsock/endpoint.hpp"

namespace ringsock {

class Loop;
struct Operation;

/// What the callback receives for one result of an operation.
struct Completion {
  /// >= 0 success (bytes, accepted fd, 0 for a fired timer or EOF), < 0 a negated errno.
  int32_t result = 0;
  /// Multishot only: true while the operation stays armed and more results follow.
  bool more = false;
  /// The datagram or message was longer than the buffer and was cut (MSG_TRUNC).
  bool truncated = false;
  /// Set when `data` is a pool buffer lent to the callback; give it back with
  /// Loop::release_buffer(buffer_id), now or later (for example after echoing it).
  bool has_buffer = false;
  uint16_t buffer_id = 0;
  /// Multishot receive: the received bytes (`result` of them) inside the pool buffer.
  uint8_t* data = nullptr;
  /// Multishot recvfrom: the sender's address, inside the pool buffer.
  const sockaddr* peer = nullptr;
  socklen_t peer_length = 0;
};

/// Called once per result; may submit new work, cancel, close sockets or stop the loop.
using Callback = void (*)(Loop& loop, Operation& op, const Completion& completion);

/// The call an operation performs.
enum class OpKind : uint8_t {
  none = 0,
  accept,
  accept_multishot,
  connect,
  send,
  recv,
  recv_multishot,
  sendto,
  recvfrom,
  recvfrom_multishot,
  shutdown,
  close,
  timeout,
  nop,
  sendv,    ///< a stream send of several pieces (Loop::sendv)
  sendtov,  ///< one datagram of several pieces (Loop::sendtov)
  post,     ///< a callback delivered on a loop from any thread (Loop::post, Loop::post_to)
};

namespace detail {
/// Where an operation is in its life; the engine's business only.
enum class OpState : uint8_t {
  idle = 0,    ///< not submitted, or terminal completion delivered
  submitted,   ///< the backend has it
  paused,      ///< multishot receive waiting for pool buffers (ENOBUFS)
  rearm,       ///< multishot ended by the kernel, re-armed after the callback
  close_wait,  ///< close waiting for the fd's in-flight operations to end
  deferred,    ///< terminal result decided by the engine, delivered at drain time
  notify_wait, ///< a zero-copy send with its result in, waiting for the kernel's notification
  hangup_wait, ///< a multishot receive with its terminal result in, waiting for its hang-up watch to end
};

/// Layout-compatible with the kernel's __kernel_timespec.
struct TimeSpec64 {
  int64_t seconds;
  int64_t nanoseconds;
};

/// Arguments of each kind; only the member of `Operation::kind` is meaningful.
union OpArgs {
  struct {
    Endpoint* peer;  // optional: filled with the client's address
  } accept;
  struct {
    const Endpoint* peer;
  } connect;
  struct {
    void* data;
    uint32_t length;
    int how;  // shutdown
  } io;
  struct {
    uint64_t duration_ns;
  } timer;
  struct {
    msghdr header;   // sendv: msg_iov / msg_iovlen = the pieces not yet wholly sent
    iovec vector;
    Endpoint* peer;  // recvfrom: filled with the sender
    uint32_t piece_offset;  // sendv: bytes of msg_iov[0] already sent (sendv.hpp)
    uint32_t total_length;  // sendv, sendtov: the bytes of all pieces
  } message;
  struct {
    uint64_t value;  // post: what the callback reads with Operation::post_value()
  } post;
};
}  // namespace detail

/// One caller-owned operation. Zero-initialise (or default-construct) it once;
/// it may be resubmitted from its own callback after its terminal completion.
struct alignas(16) Operation {
  // public: set by the caller
  /// Deadline for this operation, relative to its submit call, in nanoseconds;
  /// 0 = none. On expiry the operation ends with -ETIMEDOUT. It persists across
  /// resubmissions. Not valid for timeout and multishot operations (-EINVAL).
  uint64_t timeout_ns = 0;
  void* user_data = nullptr;

  // read-only: valid inside the callback
  Callback callback = nullptr;
  int32_t fd = -1;
  OpKind kind = OpKind::none;
  // private (in a gap of the layout): the loop it was last submitted to, so
  // that another loop's cancel() refuses it (LoopCore::tag)
  uint16_t loop_tag = 0;
  /// Stream send (send, sendv): bytes that went out, exact even when the send failed midway.
  uint32_t transferred = 0;

  // private: the engine's
  detail::OpState state = detail::OpState::idle;
  uint8_t flags = 0;          // the core's (detail::OpFlag)
  uint8_t backend_flags = 0;  // the backend's own (epoll: its lists; io_uring: an SQE waiting for room)
  int32_t deferred_result = 0;
  uint32_t backend_slot = 0;  // epoll: index in the deadline heap
  Operation* fd_prev = nullptr;
  Operation* fd_next = nullptr;
  Operation* queue_next = nullptr;
  detail::TimeSpec64 deadline{};  // absolute CLOCK_MONOTONIC
  detail::OpArgs args{};

  bool in_flight() const noexcept { return state != detail::OpState::idle; }
  /// A post's value (Loop::post, Loop::post_to), valid in its callback and
  /// after it until the operation is submitted again.
  uint64_t post_value() const noexcept { return args.post.value; }
};

}  // namespace ringsock
