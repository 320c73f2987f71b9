// The loop core: the life cycle of operations, the same on every backend.
//
// It starts operations (on the backend, or by the UNIX datagram direct send),
// runs cancel-safe close over the fd table, turns raw kernel events into
// callbacks after each reap, continues short stream sends, re-arms multishot
// operations the kernel ended early, pauses multishot receives on ENOBUFS and
// resumes them as buffers come back, and maps a linked deadline's -ECANCELED
// to -ETIMEDOUT.
#pragma once

#include "backend/chosen_backend.hpp"
#include "buffer_pool.hpp"
#include "event_queue.hpp"
#include "fd_table.hpp"
#include "hot_path.hpp"
#include "owner_thread.hpp"
#include "post_box.hpp"
#include "unix_dgram_send.hpp"
#include "unix_stream_recv.hpp"
#include <cerrno>

#include "ringsock/loop.hpp"

namespace ringsock::detail {

class LoopCore {
 public:
  explicit LoopCore(Loop& owner) noexcept : owner_(owner), owner_thread_(current_thread()) {}
  ~LoopCore() { deinit(); }
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  int init(const LoopOptions& options) noexcept;
  void deinit() noexcept;

  /// Whether the calling thread is the one that created the loop.
  bool on_owner_thread() const noexcept { return current_thread() == owner_thread_; }
  /// 0 if an operation may be submitted on fd now, else -EBADF.
  int check_fd(int fd) const noexcept { return fds_.check(fd); }
  /// Starts a filled-in operation (kind, fd, args, callback already set).
  /// Inline: the common kinds go from the Loop call to the SQE in one function.
  RINGSOCK_HOT int submit(Operation& op) noexcept {
    op.flags = 0;
    op.transferred = 0;
    if (__builtin_expect(op.timeout_ns != 0 || set_up_at_submit(op.kind), 0)) {
      return submit_set_up(op);
    }
    choose_send_path(op);
    choose_zero_copy(op);
    choose_recv_path(op);
    if (__builtin_expect(at_cap_at_start(op.kind, op.fd), 0)) return begin_paused(op);
    return begin(op);
  }
  /// Whether a new operation of this kind on fd (already checked) is sure
  /// to start: no deadline and no work at submit, a send path known to be
  /// the ring's, room in the backend. Asked before the operation is written,
  /// so a Loop call's common path has nothing to undo.
  RINGSOCK_HOT bool reserve(OpKind kind, int fd, uint64_t timeout_ns) noexcept {
    if (timeout_ns != 0 || set_up_at_submit(kind)) return false;
    // A send that may go zero-copy takes the ordinary start, which chooses.
    if (is_send(kind) && (fds_.send_path(fd) != SendPath::ring ||
                          (zero_copy_min_bytes_ != 0 && !fds_.copies(fd)))) {
      return false;
    }
    if (kind == OpKind::recv_multishot && fds_.recv_path(fd) != RecvPath::multishot) return false;
    if (at_cap_at_start(kind, fd)) return false;
    return backend_.reserve(kind);
  }
  /// submit() for a filled operation after reserve() said yes: cannot fail.
  RINGSOCK_HOT void submit_reserved(Operation& op) noexcept {
    op.flags = 0;
    op.transferred = 0;
    const int fd = op.fd;  // read before the backend's stores (see UringBackend::start)
    op.state = OpState::submitted;
    backend_.start_reserved(op);
    track(op, fd);
  }
  int cancel(Operation& op) noexcept;
  /// This loop's mark on the operations submitted to it (Operation::loop_tag):
  /// 1 to 65535, from a process-wide count, so two loops alive together
  /// differ unless a multiple of 65535 loops were made between them.
  uint16_t tag() const noexcept { return tag_; }
  int run(RunMode mode) noexcept;
  void stop() noexcept { stop_requested_ = true; }
  int wake() noexcept { return backend_.wake(); }
  // Posts (post.cpp). post() and post_to() run on the posting thread, inside
  // the target's post gate; the rest on the loop's own thread.
  /// Queues a filled post in this loop's post box and wakes the loop. Any thread.
  int post(Operation& op) noexcept;
  /// Sends a filled post to `target` from this loop's thread: by MSG_RING
  /// when both loops can, else through the target's post box.
  int post_to(LoopCore& target, Operation& op) noexcept;
  /// At deinit, after the post gate closed and emptied: every post not yet
  /// delivered is called back, with -ECANCELED (a failed MSG_RING of this
  /// loop's with its error). The Loop refuses every call meanwhile.
  void end_posts() noexcept;
  int release_buffer(uint16_t buffer_id) noexcept;

  uint32_t buffer_size() const noexcept { return pool_.size_bytes(); }
  uint32_t buffers_lent() const noexcept { return pool_.lent(); }
  uint32_t active() const noexcept { return active_; }
  bool running() const noexcept { return running_; }
  const Capabilities& capabilities() const noexcept { return caps_; }
  const char* reason() const noexcept { return backend_.reason(); }
  const LoopStats& stats() const noexcept { return stats_; }

 private:
  /// Kinds with work at submit: a timer's deadline, close, an accept into
  /// direct descriptors.
  bool set_up_at_submit(OpKind kind) const noexcept {
    // The kind first: in a Loop call it is a constant, and the rest folds away.
    return kind == OpKind::timeout || kind == OpKind::close ||
           (is_accept(kind) && caps_.direct_descriptors != 0);
  }
  static bool is_accept(OpKind kind) noexcept {
    return kind == OpKind::accept || kind == OpKind::accept_multishot;
  }
  // Direct descriptors (direct_descriptors.cpp).
  /// Whether op is an accept into direct descriptors, which claims a slot
  /// for every arming.
  bool direct_accept(const Operation& op) const noexcept {
    return is_accept(op.kind) && caps_.direct_descriptors != 0;
  }
  int submit_direct_accept(Operation& op) noexcept;
  int32_t close_direct(int fd) noexcept;
  int submit_set_up(Operation& op) noexcept;
  /// A receive started on an fd that already holds its cap of lent buffers
  /// (LoopOptions::max_lent_per_fd): it would take one more (io_uring) or
  /// find no room and spin (epoll), so it waits paused instead.
  bool at_cap_at_start(OpKind kind, int fd) const noexcept {
    return lends_buffers(kind) && fds_.at_cap(fd);
  }
  /// Tracks such a receive as paused, as one that reached its cap is; it
  /// starts when a buffer of its fd comes back (resume_paused).
  [[gnu::cold, gnu::noinline]] int begin_paused(Operation& op) noexcept;
  /// Hands a submitted operation to the backend and tracks it; on refusal op is idle again.
  RINGSOCK_HOT int begin(Operation& op) noexcept {
    const int fd = op.fd;  // read before the backend's stores (see UringBackend::start)
    op.state = OpState::submitted;
    int rc = start(op);
    if (__builtin_expect(rc < 0, 0)) {
      op.state = OpState::idle;
      return rc;
    }
    track(op, fd);
    return 0;
  }
  /// A started operation counts as active and joins its fd's list (close
  /// waits for that list).
  RINGSOCK_HOT void track(Operation& op, int fd) noexcept {
    if (fd >= 0) fds_.link(op, fd);
    ++active_;
  }
  int submit_close(Operation& op) noexcept;
  /// Marks a send of any kind that goes out by sendmsg(2) (see sends_directly);
  /// the common case, an fd known to send through the ring, stays inline.
  void choose_send_path(Operation& op) noexcept {
    if (is_send(op.kind) && fds_.send_path(op.fd) != SendPath::ring &&
        sends_directly(fds_, op.fd)) {
      op.flags |= kDirectSend;
    }
  }
  /// Marks a send that goes out by SEND_ZC (zero_copy.hpp): only when
  /// LoopOptions::zero_copy_min_bytes is set, so the common case is one test.
  void choose_zero_copy(Operation& op) noexcept {
    if (__builtin_expect(zero_copy_min_bytes_ != 0, 0) && is_send(op.kind)) mark_zero_copy(op);
  }
  void mark_zero_copy(Operation& op) noexcept;
  /// A zero-copy send's result or notification (zero_copy.cpp): false while
  /// the operation waits for its notification or went out again by copying;
  /// true when `event` (its kept result, after a notification) goes on as
  /// any send's result.
  bool zero_copy_event(Operation& op, RawEvent& event) noexcept;
  /// A zero-copy send's result, before its notification: kept, and when it
  /// is final the operation waits only for the kernel (OpState::notify_wait).
  void zero_copy_result(Operation& op, int32_t result) noexcept;
  /// A close of the fd of such an operation: the connection is aborted so
  /// that the kernel lets go of the buffer now (zero_copy.hpp).
  void abort_zero_copy(Operation& op) noexcept;
  /// A multishot receive on an fd not yet known to take the plain multishot:
  /// on io_uring a UNIX stream's is watched for the peer's hang-up, or armed
  /// one result at a time (unix_stream_recv.cpp); epoll learns nothing and
  /// never asks again.
  void choose_recv_path(Operation& op) noexcept {
    if (op.kind != OpKind::recv_multishot || fds_.recv_path(op.fd) == RecvPath::multishot) return;
    choose_unix_recv_path(op);
  }
  void choose_unix_recv_path(Operation& op) noexcept;
  /// The event of a receive's hang-up watch (unix_stream_recv.cpp).
  [[gnu::cold, gnu::noinline]] uint32_t hangup_event(Operation& op) noexcept;
  /// A terminal result held until the receive's hang-up watch has ended.
  void hold_for_watch(Operation& op, int32_t result, const Completion& completion) noexcept;
  RINGSOCK_HOT inline int turn(bool wait) noexcept;
  [[gnu::cold, gnu::noinline]] int busy_poll() noexcept;
  /// Every first start goes through here (restarts through restart()):
  /// direct sends try the syscall first.
  RINGSOCK_HOT int start(Operation& op) noexcept {
    if (__builtin_expect((op.flags & kDirectSend) && !(op.flags & kAwaitReady), 0)) {
      return send_direct(op, false);
    }
    return backend_.start(op);
  }
  int send_direct(Operation& op, bool again) noexcept;
  bool retry_when_ready(Operation& op, int32_t& result) noexcept;
  RINGSOCK_HOT inline uint32_t drain() noexcept;
  /// Returns the number of callbacks made (a wake may deliver many posts).
  [[gnu::noinline]] uint32_t dispatch(Operation& op, RawEvent event) noexcept;
  [[gnu::cold, gnu::noinline]] uint32_t receive_post(Operation& op, const RawEvent& event) noexcept;
  uint32_t deliver_post_box(int32_t result) noexcept;
  void deliver_post(Operation& op, int32_t result) noexcept;
  bool dispatch_multishot(Operation& op, const RawEvent& event) noexcept;
  bool dispatch_bundle(Operation& op, const RawEvent& event) noexcept;
  bool dispatch_send(Operation& op, int32_t result) noexcept;
  void fill_recvfrom(Operation& op, Completion& completion) const noexcept;
  int32_t lend_buffer(Operation& op, const RawEvent& event, Completion& completion) noexcept;
  /// A linked deadline that fired shows as -ECANCELED: report it as -ETIMEDOUT.
  static int32_t map_deadline(const Operation& op, int32_t result) noexcept {
    bool expired = (op.flags & kHasDeadline) && !(op.flags & kCancelRequested);
    return (expired && result == -ECANCELED) ? -ETIMEDOUT : result;
  }
  /// The terminal result: unlinks op, makes it idle and calls back. False
  /// when op's result is held instead, until a request of the backend's
  /// naming it has ended (a hang-up watch): no callback was made.
  [[gnu::noinline]] bool finish(Operation& op, int32_t result, Completion& completion) noexcept;
  /// finish() itself, inlined where results are most common (drain).
  RINGSOCK_HOT inline bool finish_inline(Operation& op, int32_t result,
                                         Completion& completion) noexcept;
  bool finish(Operation& op, int32_t result) noexcept {
    Completion completion{};
    return finish(op, result, completion);
  }
  /// Kinds whose successful result goes to the callback as it is (no
  /// continuation, no buffer, no address to fill in).
  static bool plain_result(OpKind kind) noexcept {
    constexpr uint32_t kPlain = 1u << unsigned(OpKind::connect) | 1u << unsigned(OpKind::recv) |
                                1u << unsigned(OpKind::sendto) | 1u << unsigned(OpKind::shutdown) |
                                1u << unsigned(OpKind::timeout) | 1u << unsigned(OpKind::nop) |
                                1u << unsigned(OpKind::sendtov);
    return (kPlain >> unsigned(kind)) & 1u;
  }
  void restart(Operation& op) noexcept;
  void defer(Operation& op, int32_t result) noexcept;
  void pause(Operation& op) noexcept;
  [[gnu::cold, gnu::noinline]] void pause_at_cap(Operation& op, bool lent) noexcept;
  void resume_paused() noexcept;
  void close_now(Operation& op) noexcept;
  int32_t admit(Operation& listener, int32_t result) noexcept;

  Loop& owner_;
  static uint16_t next_tag() noexcept;
  uint16_t tag_ = next_tag();
  const uintptr_t owner_thread_;  // current_thread() of init: see owner_thread.hpp
  ChosenBackend backend_;
  BufferPool pool_;
  EventQueue events_;
  Capabilities caps_;
  LoopStats stats_;
  FdTable fds_;
  uint16_t* bundle_ids_ = nullptr;  // scratch: the buffers of one receive bundle
  uint64_t busy_poll_ns_ = 0;  // LoopOptions::busy_poll_us
  uint32_t zero_copy_min_bytes_ = 0;  // LoopOptions::zero_copy_min_bytes where io_uring can; else 0
  Operation* deferred_head_ = nullptr;
  Operation* deferred_tail_ = nullptr;
  Operation* paused_head_ = nullptr;
  uint32_t active_ = 0;
  bool stop_requested_ = false;
  bool running_ = false;
  PostBox posts_;  // written by other threads: padded off the fields above
};

}  // namespace ringsock::detail
