// The io_uring backend: operations become SQEs whose user_data is the
// operation's address; the core reads CQEs off the ring one at a time
// (next_event), each released to the kernel before its callback runs.
#pragma once

#include <liburing.h>

#include "backend/contract.hpp"

namespace ringsock::detail {

/// Operation::backend_flags on io_uring: which SQE an operation waits to
/// have queued, and whether a hang-up watch of it is in the kernel (bits
/// apart from epoll's, so a stale one from a loop of the other kind is
/// never taken for these).
enum UringOpFlag : uint8_t {
  kWatchingHangup = 1u << 4,  ///< its hang-up watch is armed (unix_stream_recv.hpp)
  kWaitingUnwatch = 1u << 5,  ///< the removal of that watch found the SQ full
  kWaitingStart = 1u << 6,    ///< its restart found the SQ full
  kWaitingCancel = 1u << 7,   ///< a cancel of it found the SQ full
};
inline constexpr uint8_t kWaitingForRoom = kWaitingStart | kWaitingCancel | kWaitingUnwatch;

class UringBackend {
 public:
  UringBackend() noexcept = default;
  ~UringBackend() { deinit(); }
  UringBackend(const UringBackend&) = delete;
  UringBackend& operator=(const UringBackend&) = delete;

  int init(const LoopOptions& options, BufferPool& pool, EventQueue& queue, Capabilities& caps,
           LoopStats& stats) noexcept;
  void deinit() noexcept;
  int start(Operation& op) noexcept;                  // inline: uring_hot_path.hpp
  bool reserve(OpKind kind) const noexcept;          // inline: uring_hot_path.hpp
  bool startable(OpKind kind) const noexcept;        // inline: uring_hot_path.hpp
  void start_reserved(Operation& op) noexcept;       // inline: uring_hot_path.hpp
  int restart(Operation& op) noexcept;               // inline: uring_hot_path.hpp
  int cancel(Operation& op) noexcept;
  /// A cancel of op still waiting for SQ room has nothing left to end.
  void arming_ended(Operation& op) noexcept {
    if (op.backend_flags & kWaitingCancel) unlink_waiting(op);
  }
  /// True while op's hang-up watch is still in the kernel: its removal is
  /// on its way, and op must not end before the watch's event comes.
  bool ended(Operation& op) noexcept {
    arming_ended(op);
    if (__builtin_expect(!(op.backend_flags & kWatchingHangup), 1)) return false;
    unwatch(op);
    return true;
  }
  /// Arms a watch for the peer's hang-up on op's fd (a multishot receive
  /// about to start): its one event names op (Tag::hangup). False, and
  /// nothing armed, where it is not needed (no multishot receive in the
  /// kernel, one buffer per arming) or there is no room for both the watch
  /// and the receive's SQE. unix_stream_recv.hpp says why.
  bool watch_hangup(Operation& op) noexcept;
  /// The watch's event came: it is no longer in the kernel, and its
  /// removal, if that still waits for SQ room, has nothing left to remove.
  void watch_ended(Operation& op) noexcept {
    if (op.backend_flags & kWaitingUnwatch) unlink_waiting(op);
    op.backend_flags &= uint8_t(~kWatchingHangup);
  }
  void forget(int) noexcept {}  // the ring keeps nothing per fd
  void adopt(int) noexcept {}
  /// Empties a direct descriptor's slot (LoopOptions::direct_descriptors),
  /// at once: when it returns, an accept may put the next connection there.
  /// The socket closes when the kernel's last reference goes. 0 or -errno.
  int close_direct(int fd) noexcept;
  int turn(EventQueue& queue, bool wait) noexcept;  // inline: uring_hot_path.hpp
  bool next_event(EventQueue& queue, RawEvent& event) noexcept;  // inline: uring_hot_path.hpp
  bool has_events(const EventQueue& queue) const noexcept;        // inline: uring_hot_path.hpp
  /// For busy polling, without entering the kernel: whether a turn could
  /// find anything (CQEs posted, completions waiting to be run, an
  /// overflow). Always true when the ring cannot tell (no TASKRUN_FLAG).
  bool may_have_events() const noexcept {
    if (!taskrun_flag_) return true;
    return (IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) ||
           io_uring_smp_load_acquire(ring_.cq.ktail) != *ring_.cq.khead;
  }
  void submit_early() noexcept;                                  // inline: uring_hot_path.hpp
  int wake() noexcept;
  void take_final_events() noexcept;
  /// The ring's fd for a MSG_RING to it (Loop::post_to), or -1 when the
  /// kernel lacks MSG_RING. Fixed from init to deinit.
  int post_ring_fd() const noexcept { return caps_ != nullptr && caps_->msg_ring ? ring_.ring_fd : -1; }
  /// Sends the filled post `op` to the ring `target_fd` by MSG_RING, at
  /// once (one io_uring_enter): when this returns 0 the kernel has taken
  /// the message. -EAGAIN: not sent (no SQ room), nothing left behind.
  int send_post(int target_fd, Operation& op) noexcept;
  void recycle_buffer(uint16_t buffer_id) noexcept;
  /// A receive bundle takes consecutive entries of the buffer ring: the id of
  /// the buffer `index` entries after `first`. Valid while the bundle's
  /// buffers are not yet given back (their entries are not rewritten before).
  uint16_t bundle_buffer(uint16_t first, uint32_t index) const noexcept {
    uint32_t mask = pool_->count() - 1;
    return buffer_ring_->bufs[(ring_position_[first] + index) & mask].bid;
  }
  const char* reason() const noexcept { return reason_; }

 private:
  int setup_ring(const LoopOptions& options) noexcept;
  int setup_buffer_ring() noexcept;
  int setup_wake() noexcept;
  // The hot path is inline (uring_hot_path.hpp); the cold helpers are in uring.cpp.
  bool has_room(unsigned count) const noexcept;
  io_uring_sqe* next_sqe() noexcept;
  io_uring_sqe* get_sqes(unsigned count) noexcept;
  [[gnu::cold, gnu::noinline]] bool make_room(unsigned count) noexcept;
  void prep(io_uring_sqe* sqe, Operation& op, OpKind kind, uint8_t flags) noexcept;
  /// A send of the operation's msghdr: SENDMSG_ZC when it is a zero-copy send.
  static void prep_sendmsg(io_uring_sqe* sqe, Operation& op, uint8_t flags) noexcept;
  unsigned observe() noexcept;
  bool for_core(uint64_t user_data) noexcept;
  [[gnu::cold, gnu::noinline]] bool for_core_rare(uint64_t user_data) noexcept;
  [[gnu::cold, gnu::noinline]] bool flush_overflow() noexcept;
  [[gnu::cold, gnu::noinline]] void spill(EventQueue& queue) noexcept;
  [[gnu::cold, gnu::noinline]] int turn_retry(EventQueue& queue, bool wait, int rc) noexcept;
  int enter(bool wait) noexcept;  // inline: uring_hot_path.hpp
  [[gnu::noinline]] int submit_and_wait_batch() noexcept;
  [[gnu::noinline]] void submit_now() noexcept;
  // Operations whose SQE found no room (see "Waiting for room" in uring.cpp).
  [[gnu::cold, gnu::noinline]] void wait_for_room(Operation& op, uint8_t what) noexcept;
  void queue_waiting() noexcept;
  [[gnu::cold, gnu::noinline]] bool flush_waiting(EventQueue& queue) noexcept;
  [[gnu::cold, gnu::noinline]] int turn_prepared(EventQueue& queue, bool wait) noexcept;
  [[gnu::cold, gnu::noinline]] void unlink_waiting(Operation& op) noexcept;
  void prep_cancel(io_uring_sqe* sqe, Operation& op) noexcept;
  void unwatch(Operation& op) noexcept;
  static void prep_unwatch(io_uring_sqe* sqe, Operation& op) noexcept;
  void arm_wake() noexcept;
  void add_buffer(uint16_t id, int offset) noexcept;
  void setup_direct(uint32_t slots) noexcept;
  /// An SQE on a direct descriptor names its slot, as a fixed file.
  void fix_file(io_uring_sqe* sqe, int fd) const noexcept {
    if (__builtin_expect(is_direct_descriptor(fd), 0)) {
      sqe->fd = int(unsigned(fd) - direct_base_);
      sqe->flags |= IOSQE_FIXED_FILE;
    }
  }

  io_uring ring_{};
  bool ring_ready_ = false;
  BufferPool* pool_ = nullptr;
  EventQueue* queue_ = nullptr;
  Capabilities* caps_ = nullptr;
  LoopStats* stats_ = nullptr;
  io_uring_buf_ring* buffer_ring_ = nullptr;
  size_t buffer_ring_bytes_ = 0;
  uint16_t* ring_position_ = nullptr;  // per buffer id: its entry in the buffer ring
  int wake_fd_ = -1;
  bool wake_armed_ = false;
  bool prepare_turn_ = true;  // the wake reader is not armed, or SQEs wait for room
  bool one_buffer_per_recv_ = false;  // LoopOptions::max_lent_per_fd is set
  // The user_data of the last event read when it was a one-shot receive
  // that took a pool buffer and left its socket empty (no
  // IORING_CQE_F_SOCK_NONEMPTY), else 0. Should the core arm that receive
  // again at once, from its dispatch, it is armed to wait for data first
  // (IORING_RECVSEND_POLL_FIRST) instead of trying a read that the kernel
  // would find empty before it arms its poll. Only a hint: an operation
  // started otherwise before the next event merely waits for readiness.
  uint64_t drained_ = 0;
  bool taskrun_flag_ = false;  // the kernel marks IORING_SQ_TASKRUN (may_have_events)
  bool direct_ = false;  // accepts fill the registered file table (LoopOptions::direct_descriptors)
  uint32_t direct_base_ = 0;  // the direct descriptor of slot 0 (FdTable::direct_base)
  unsigned batch_end_ = 0;  // the CQ tail seen by the last turn: next_event stops there
  uint32_t batch_wait_us_ = 0;     // LoopOptions::batch_wait_us, 0 unless the kernel has it
  uint32_t batch_wait_count_ = 0;  // LoopOptions::batch_wait_count
  // FIFO through Operation::queue_next of operations whose SQE (a restart,
  // a cancel of them, the removal of their hang-up watch) waits for SQ
  // room; Operation::backend_flags says which.
  Operation* waiting_head_ = nullptr;
  Operation* waiting_tail_ = nullptr;
  uint64_t wake_value_ = 0;
  Operation mailbox_ = mailbox_operation();  // what the wake reader's CQEs name
  const char* reason_ = "io_uring not started";
};

static_assert(BackendContract<UringBackend>);

/// Probes opcodes and features of a fresh ring into caps.
/// Returns 0, or -EOPNOTSUPP if an opcode the engine needs is missing.
int probe_uring(io_uring& ring, uint32_t features, Capabilities& caps) noexcept;

}  // namespace ringsock::detail

#include "backend/uring_hot_path.hpp"
