// The epoll backend: readiness turned into completions with io_uring's
// semantics, for kernels and sandboxes where io_uring cannot be set up.
//
// start() only queues an operation; the next turn() tries its syscall first
// and parks it on its fd's read or write queue only on EAGAIN (one readiness
// record per fd, libuv's model); a turn whose tries already gave results
// leaves epoll_wait to the next turn. Interest is edge-triggered: an fd is
// reported once per change, not at every epoll_wait while it stays ready, so
// a direction that is left undrained (a multishot operation's fairness budget
// spent, or the event queue full) goes on a list served again at the next
// turn without waiting for an event. Results go to the core's event queue in the
// same form io_uring's CQEs take, so the core cannot tell the two apart:
// multishot accept/recv/recvfrom are emulated with the same buffer pool (an
// empty pool reports -ENOBUFS, which the core turns into a pause), timers and
// deadlines live in a fixed-size heap.
#pragma once

#include <sys/epoll.h>

#include "backend/contract.hpp"
#include "fd_table.hpp"
#include "timer_heap.hpp"

namespace ringsock::detail {

/// Operation::backend_flags on epoll: which of the backend's lists hold an operation.
enum EpollOpFlag : uint8_t {
  kInPending = 1u << 0,    ///< on the list of operations to try at the next turn
  kInFdQueue = 1u << 1,    ///< waiting in its fd's read or write queue
  kInTimerHeap = 1u << 2,  ///< in the deadline heap (a timer, or a deadline)
  kHoldsSlot = 1u << 3,    ///< out of the heap with a result, its slot kept for a restart
};

class EpollBackend {
 public:
  EpollBackend() noexcept = default;
  ~EpollBackend() { deinit(); }
  EpollBackend(const EpollBackend&) = delete;
  EpollBackend& operator=(const EpollBackend&) = delete;

  int init(const LoopOptions& options, BufferPool& pool, EventQueue& queue, Capabilities& caps,
           LoopStats& stats) noexcept;
  /// Under a per-fd cap (LoopOptions::max_lent_per_fd), a multishot receive
  /// reads no more buffers than its fd has left under it, counting `fds`'
  /// lent buffers and those read this turn that the core has not seen.
  void cap_lending(const FdTable& fds) noexcept { lent_ = &fds; }
  void deinit() noexcept;
  int start(Operation& op) noexcept;
  /// Only timed operations can be refused (a full deadline heap).
  bool reserve(OpKind) const noexcept { return true; }
  bool startable(OpKind) const noexcept { return true; }
  void start_reserved(Operation& op) noexcept {
    pending_.push(op);
    op.backend_flags = kInPending;  // in no other list: untimed, not yet tried
  }
  /// A timed operation comes back to the deadline slot it held (see report):
  /// never refused.
  int restart(Operation& op) noexcept { return start(op); }
  /// Between two starts the slot stays held: nothing to do.
  void arming_ended(Operation&) noexcept {}
  /// The core delivers op's terminal result: a slot it held is free again.
  /// Nothing of op is left in the kernel to wait for.
  bool ended(Operation& op) noexcept {
    if (__builtin_expect(op.backend_flags & kHoldsSlot, 0)) {
      timers_.release_held();
      op.backend_flags &= uint8_t(~kHoldsSlot);
    }
    return false;
  }
  int cancel(Operation& op) noexcept;
  void forget(int fd) noexcept;
  /// fd is a socket new to the loop (accepted, or connecting): what was kept
  /// for its number belonged to a socket closed outside the loop.
  void adopt(int fd) noexcept;
  int turn(EventQueue& queue, bool wait) noexcept;
  /// Results wait in the core's event queue, in order.
  bool next_event(EventQueue& queue, RawEvent& event) noexcept {
    if (queue.empty()) return false;
    event = queue.pop();
    return true;
  }
  bool has_events(const EventQueue& queue) const noexcept { return !queue.empty(); }
  /// Only epoll_wait can tell: busy polling asks it every time.
  bool may_have_events() const noexcept { return true; }
  /// Started work is tried at the next turn, which comes right after the batch.
  void submit_early() noexcept {}
  int wake() noexcept;
  /// The kernel holds nothing for a post: they wait in the core's post box.
  void take_final_events() noexcept {}
  void recycle_buffer(uint16_t buffer_id) noexcept { pool_->push_free(buffer_id); }
  const char* reason() const noexcept { return "epoll"; }

 private:
  /// A FIFO of operations linked through Operation::queue_next.
  struct OpList {
    Operation* head = nullptr;
    Operation* tail = nullptr;
    bool empty() const noexcept { return head == nullptr; }
    void push(Operation& op) noexcept;
    Operation& pop() noexcept;
    void remove(Operation& op) noexcept;
  };
  /// The readiness record of one fd: who waits to read, who waits to write,
  /// and what epoll currently watches for it.
  struct FdState {
    OpList readers;
    OpList writers;
    uint32_t registered = 0;  // EPOLLIN/EPOLLRDHUP/EPOLLOUT watched (EPOLLET not included)
    bool added = false;
    uint8_t again = 0;         // kAgainRead | kAgainWrite: directions left undrained
    // An event reported the peer's end of stream (EPOLLRDHUP/EPOLLHUP) or an
    // error: from then on a short read is no proof that nothing is left to
    // read, since the end came in the same edge as the data (see receive_stream).
    bool read_ended = false;
    // A receive of this TCP or UNIX stream socket came back short (it
    // emptied the socket) and no readable edge has been served since: a new
    // receive waits for the edge instead of trying a read that would say
    // EAGAIN (note_read).
    bool read_drained = false;
    uint8_t short_reads = kShortReadsUnknown;  // whether a short read proves the socket empty
    bool in_again_list = false;
    int32_t again_next = -1;   // the next fd on the again list
    // Under a per-fd cap: buffers read for this fd in the turn `lent_turn`,
    // which the core has not counted yet (it counts them as it delivers).
    uint32_t lent_turn = 0;
    uint32_t lent_unseen = 0;
  };
  // What a short read of the socket proves (short_reads_of).
  static constexpr uint8_t kShortReadsUnknown = 0;  // not asked yet
  static constexpr uint8_t kShortReadsDrain = 1;    // TCP, low-water mark 1, no urgent data seen
  static constexpr uint8_t kShortReadsDrainUnlessTruncated = 2;  // UNIX stream: unless MSG_CTRUNC
  static constexpr uint8_t kShortReadsProveNothing = 3;
  /// Whether a short read emptied the socket: on TCP always, on a UNIX
  /// stream unless the read may have stopped at control data (`truncated`:
  /// MSG_CTRUNC, or a read that could not tell).
  static bool short_read_drains(uint8_t proves, bool truncated) noexcept {
    return proves == kShortReadsDrain || (proves == kShortReadsDrainUnlessTruncated && !truncated);
  }
  static constexpr uint8_t kAgainRead = 1;
  static constexpr uint8_t kAgainWrite = 2;
  /// blocked: the syscall said EAGAIN; armed: a multishot operation drained
  /// its socket and waits for the next edge; more: it stopped with data
  /// perhaps still waiting (budget or queue space); finished: a result.
  enum class Attempt { blocked, armed, more, finished };

  void try_pending(EventQueue& queue) noexcept;
  void flush_done(EventQueue& queue) noexcept;
  void expire_timers(EventQueue& queue) noexcept;
  int next_timeout_ms() const noexcept;
  /// One epoll event: its bits become the directions to serve.
  void serve_events(int fd, uint32_t events, EventQueue& queue) noexcept;
  /// Serves fd's readers and/or writers, from an event or the again list.
  void serve_directions(int fd, bool readable, bool writable, EventQueue& queue) noexcept;
  /// Runs one direction's waiting operations in order until one would block.
  bool serve_waiters(OpList& list, EventQueue& queue) noexcept;
  void mark_again(int fd, uint8_t directions) noexcept;
  /// The again list: directions left undrained last turn, served without an event.
  void serve_undrained(EventQueue& queue) noexcept;
  Attempt attempt(Operation& op, EventQueue& queue) noexcept;
  Attempt attempt_multishot(Operation& op, EventQueue& queue) noexcept;
  int32_t perform(Operation& op) noexcept;
  /// Whether a receive starting now should wait for the next readable edge
  /// without a read first: its stream socket was emptied by the last read and no
  /// edge came since (serve_directions forgets it at every readable edge).
  /// Only while epoll still watches the fd for reading: otherwise watching
  /// it would cost the epoll_ctl call that the read saves.
  bool waits_for_edge(const Operation& op, const FdState& state) const noexcept {
    return op.kind == OpKind::recv && state.read_drained && !state.read_ended &&
           (state.registered & EPOLLIN);
  }
  /// A single receive's read (recv, or recvmsg on a UNIX stream).
  int32_t receive(Operation& op) noexcept;
  /// After a receive's read: whether it emptied the socket.
  void note_read(const Operation& op, int32_t result, bool truncated) noexcept;
  /// What a short read of fd proves (asked once per socket).
  uint8_t short_reads_of(int fd, FdState& state) noexcept;
  static void reset(FdState& state) noexcept;
  Attempt receive_stream(Operation& op, EventQueue& queue, unsigned limit,
                         unsigned& delivered) noexcept;
  int32_t receive_into_pool(Operation& op, uint16_t id) noexcept;
  void park(Operation& op) noexcept;
  int watch(int fd, uint32_t wanted) noexcept;
  void unwatch_idle(int fd) noexcept;
  /// Puts a result in the core's event queue now, as a CQE would be.
  void report(Operation& op, int32_t result, uint32_t flags, EventQueue& queue) noexcept;
  /// A result decided outside a turn (cancel, an fd epoll refuses): reported at the next turn.
  void report_later(Operation& op, int32_t result) noexcept;
  void detach(Operation& op) noexcept;
  static bool writes(const Operation& op) noexcept;
  unsigned lend_room(int fd) noexcept;

  LoopStats* stats_ = nullptr;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  FdState* fds_ = nullptr;
  uint32_t max_fds_ = 0;
  epoll_event* ready_ = nullptr;
  OpList pending_;  // started, syscall not tried yet
  OpList done_;     // ended by cancel or deadline; result in deferred_result
  bool polled_last_turn_ = true;  // turn() skips a poll only right after one
  int32_t again_head_ = -1;  // fds to serve again without an event, in order
  int32_t again_tail_ = -1;
  TimerHeap timers_;
  BufferPool* pool_ = nullptr;
  const FdTable* lent_ = nullptr;  // the core's counts, under a per-fd cap (cap_lending)
  uint32_t turn_count_ = 1;
  Operation mailbox_ = mailbox_operation();  // what a wake's event names
};

static_assert(BackendContract<EpollBackend>);

}  // namespace ringsock::detail
