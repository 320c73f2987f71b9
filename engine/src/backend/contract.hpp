// BackendContract: what every backend (io_uring, epoll) implements, checked
// by the compiler. A backend only talks to the kernel; the loop core owns the
// operation life cycle (fd lists, cancel-safe close, continuations, ENOBUFS
// pauses) so that both backends share one set of semantics.
#pragma once

#include <sys/socket.h>

#include <concepts>
#include <cstdint>

#include "buffer_pool.hpp"
#include "event_queue.hpp"
#include "hot_path.hpp"
#include "ringsock/capabilities.hpp"
#include "ringsock/loop.hpp"
#include "ringsock/operation.hpp"

namespace ringsock::detail {

/// Operation::flags: bits the core sets and backends read. A backend keeps
/// its own bookkeeping in Operation::backend_flags, which the core never
/// touches: the backend sets it afresh at each start.
enum OpFlag : uint8_t {
  kCancelRequested = 1u << 0,  ///< cancel() was called; a deadline -ECANCELED stays -ECANCELED
  kHasDeadline = 1u << 1,      ///< op.deadline holds an absolute deadline to link
  kAwaitReady = 1u << 2,       ///< next start waits for readiness (poll), then the op runs again
  kDirectSend = 1u << 3,       ///< send by a non-blocking sendmsg(2) from the core (UNIX datagrams)
  kWokeReady = 1u << 4,        ///< this start follows a readiness report (see send_direct)
  kPauseRequested = 1u << 5,   ///< the core cancelled a multishot receive to pause it at its fd's cap
  kOneAtATime = 1u << 6,       ///< a multishot receive armed one result at a time (unix_stream_recv.hpp)
  kZeroCopy = 1u << 7,         ///< a send that goes out by SEND_ZC / SENDMSG_ZC (zero_copy.hpp)
};

/// Pool-buffer layout of one multishot recvfrom result, the same on every
/// backend: io_uring's io_uring_recvmsg_out (checked in uring.cpp), then the
/// sender's address, then the payload. epoll writes it; the core reads it.
struct RecvMsgHeader {
  uint32_t name_length;
  uint32_t control_length;
  uint32_t payload_length;
  uint32_t flags;
};
inline constexpr uint32_t kRecvMsgNameBytes = sizeof(sockaddr_storage);
inline constexpr uint32_t kRecvMsgPayloadOffset = sizeof(RecvMsgHeader) + kRecvMsgNameBytes;
static_assert(kRecvMsgPayloadOffset == kRecvfromMultishotHeaderBytes);

/// Operations that send: they wait for POLLOUT, and may go out by sendmsg(2)
/// directly (UNIX datagram sockets, unix_dgram_send.hpp).
inline bool is_send(OpKind kind) noexcept {
  return kind == OpKind::send || kind == OpKind::sendto || kind == OpKind::sendv ||
         kind == OpKind::sendtov;
}

/// The operation a backend's wake events name (Tag::wake): never submitted,
/// always in flight, of kind post, so the core's drain reads it like any
/// other and hands it to the post path, which empties the loop's post box.
inline Operation mailbox_operation() noexcept {
  Operation op;
  op.kind = OpKind::post;
  op.state = OpState::submitted;
  return op;
}

/// Operations whose results lend pool buffers (LoopOptions::max_lent_per_fd counts them).
inline bool lends_buffers(OpKind kind) noexcept {
  return kind == OpKind::recv_multishot || kind == OpKind::recvfrom_multishot;
}

/// Backend::cancel's answer for an operation that never reached the kernel.
inline constexpr int kEndedBeforeStart = 1;

/// Operations that report many results: each backend and the core treat them apart.
inline bool is_multishot(OpKind kind) noexcept {
  return kind == OpKind::accept_multishot || lends_buffers(kind);
}

template <class B>
concept BackendContract = requires(B& backend, const B& const_backend, Operation& op, EventQueue& queue,
                           RawEvent& event, OpKind kind, bool wait, int fd, uint16_t buffer_id,
                           const LoopOptions& options, BufferPool& pool, Capabilities& caps,
                           LoopStats& stats) {
  /// Sets up kernel state; -errno on failure (the reason is kept for reason()).
  { backend.init(options, pool, queue, caps, stats) } -> std::same_as<int>;
  { backend.deinit() } -> std::same_as<void>;
  /// Hands op's kernel work over (first start, continuation or re-arm).
  /// Returns 0, or -errno with nothing started.
  { backend.start(op) } -> std::same_as<int>;
  /// Whether an untimed operation of this kind can be started now without
  /// refusal (room in the SQ, the kernel features it needs). A Loop call asks
  /// before it writes the operation, so its common path has nothing to undo.
  { const_backend.reserve(kind) } -> std::same_as<bool>;
  /// Whether the backend can run this kind at all (io_uring: the kernel
  /// features it needs); start() refuses the others with -EOPNOTSUPP.
  { const_backend.startable(kind) } -> std::same_as<bool>;
  /// start() for a filled operation after reserve(kind) said yes, with no
  /// deadline and no flags: cannot fail.
  { backend.start_reserved(op) } -> std::same_as<void>;
  /// Starts an operation already in flight again (a continued send, a
  /// re-armed multishot, a resumed receive). Unlike start(), no room now is
  /// no refusal: the operation waits its turn (io_uring: for SQ room) and
  /// goes in, in order, after the next flush; a timed operation comes back to
  /// the deadline slot it held (epoll). Returns 0, or -errno with nothing
  /// started.
  { backend.restart(op) } -> std::same_as<int>;
  /// Asks the kernel to end op; its terminal result arrives as an event.
  /// Never refused for want of room: the request waits its turn as a restart
  /// does. Returns 0, or kEndedBeforeStart when op was still waiting to
  /// (re)start and never reached the kernel: the backend has let go of it
  /// and no event will come, so the core ends it.
  { backend.cancel(op) } -> std::same_as<int>;
  /// The kernel ended this arming of op (a result without MORE; the core
  /// asks only for an op whose backend_flags are set): a request still
  /// waiting for it (io_uring: a cancel waiting for SQ room) has nothing left
  /// to end, and must not reach the kernel after op is started again.
  { backend.arming_ended(op) } -> std::same_as<void>;
  /// The core is about to deliver op's terminal result (asked as
  /// arming_ended is): arming_ended, and whatever the backend kept for op
  /// between two starts (epoll: its deadline slot) is let go. True when a
  /// request naming op is still in the kernel (io_uring: a hang-up watch,
  /// whose removal this sends): the core then holds the result until that
  /// request's event comes, and asks again.
  { backend.ended(op) } -> std::same_as<bool>;
  /// fd is about to be closed by the core (no operation of it is in flight):
  /// drop whatever the backend keeps for it.
  { backend.forget(fd) } -> std::same_as<void>;
  /// fd was just accepted: a socket new to the loop, whose number may have
  /// belonged to one closed outside the loop (plain close(2) while idle).
  /// Whatever the backend kept for that number is stale. (The epoll backend
  /// also adopts an fd that starts a connect with nothing else queued.)
  { backend.adopt(fd) } -> std::same_as<void>;
  /// Submits pending work, waits for one event if `wait`, and makes the
  /// events ready now this turn's batch for next_event (epoll puts them in
  /// the queue; io_uring leaves them on its ring). Returns how many kernel
  /// events it saw (completions, wakes, the engine's own), or -errno.
  { backend.turn(queue, wait) } -> std::same_as<int>;
  /// The batch's next event for the core, oldest first; false when none is left.
  { backend.next_event(queue, event) } -> std::same_as<bool>;
  /// Whether next_event has something: the next turn must not block.
  { const_backend.has_events(queue) } -> std::same_as<bool>;
  /// Between the callbacks of a batch: hands queued work to the kernel now
  /// if enough has piled up (io_uring), so peers need not wait for the batch end.
  { backend.submit_early() } -> std::same_as<void>;
  /// Thread-safe: makes a waiting turn() return. The wake reaches the core
  /// as an event for the backend's mailbox operation (mailbox_operation()).
  { backend.wake() } -> std::same_as<int>;
  /// At deinit, on the loop's thread: what the kernel still holds for this
  /// loop (io_uring: posts by MSG_RING on their way) becomes readable by
  /// next_event, and nothing is submitted. The kernel may give only a batch
  /// per call: the core calls again until next_event has nothing more.
  { backend.take_final_events() } -> std::same_as<void>;
  /// A lent buffer came back: offer it to receives again.
  { backend.recycle_buffer(buffer_id) } -> std::same_as<void>;
  { const_backend.reason() } -> std::same_as<const char*>;
};

}  // namespace ringsock::detail
