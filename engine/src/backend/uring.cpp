#include "backend/uring.hpp"

#include <sys/eventfd.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "assert.hpp"
#include "user_data.hpp"

namespace ringsock::detail {

static_assert(sizeof(TimeSpec64) == sizeof(__kernel_timespec));
static_assert(kEventBuffer == IORING_CQE_F_BUFFER && kEventMore == IORING_CQE_F_MORE);
static_assert(kEventBufferShift == IORING_CQE_BUFFER_SHIFT);
static_assert(kEventNotif == IORING_CQE_F_NOTIF);
static_assert(sizeof(RecvMsgHeader) == sizeof(io_uring_recvmsg_out));
static_assert(offsetof(TimeSpec64, nanoseconds) == offsetof(__kernel_timespec, tv_nsec));

namespace {

// Setup flag sets, best first. A kernel that lacks one answers -EINVAL and we
// try the next: SINGLE_ISSUER|DEFER_TASKRUN (6.1) runs completions only when
// we ask for them, which suits one loop per thread; COOP_TASKRUN (5.19) avoids
// interrupting the thread; SUBMIT_ALL (5.18) keeps submitting past a bad SQE.
// TASKRUN_FLAG has the kernel mark the SQ ring when completions wait to be
// run, which busy polling reads instead of entering the kernel to look. Only
// a busy-polling loop asks for it: liburing's io_uring_submit also reads the
// mark and then collects completions, so an early submit in the middle of a
// turn would run completion work that DEFER_TASKRUN keeps for the turn's one
// enter; and the mark is an atomic write, from the CPU that queues the work,
// to the cache line of the completion queue's tail.
constexpr unsigned kSetupAttempts[] = {
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
        IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
    IORING_SETUP_SUBMIT_ALL,
    0,
};

// A coalesced wait's general timeout, which must exceed its minimum (at
// most a second): a wait that long without a completion returns -ETIME and
// the loop waits again.
constexpr long kBatchWaitTimeoutS = 60;

// The running kernel's version is at least major.minor (uname's release,
// "6.18.0-1-amd64" and the like).
bool kernel_at_least(unsigned major, unsigned minor) {
  utsname name{};
  if (uname(&name) != 0) return false;
  unsigned have_major = 0, have_minor = 0;
  const char* p = name.release;
  while (*p >= '0' && *p <= '9') have_major = have_major * 10 + unsigned(*p++ - '0');
  if (*p++ != '.') return false;
  while (*p >= '0' && *p <= '9') have_minor = have_minor * 10 + unsigned(*p++ - '0');
  return have_major > major || (have_major == major && have_minor >= minor);
}

const char* setup_reason(int error) {
  switch (error) {
    case -ENOSYS: return "io_uring_setup: ENOSYS (kernel without io_uring, or qemu-user)";
    case -EPERM: return "io_uring_setup: EPERM (seccomp or kernel.io_uring_disabled?)";
    case -ENOMEM: return "io_uring_setup: ENOMEM (RLIMIT_MEMLOCK too low?)";
    case -EMFILE: return "io_uring_setup: EMFILE (out of file descriptors)";
    case -EOPNOTSUPP: return "io_uring: kernel lacks socket opcodes the engine needs";
    default: return "io_uring_setup failed";
  }
}

}  // namespace

int UringBackend::init(const LoopOptions& options, BufferPool& pool, EventQueue& queue,
                       Capabilities& caps, LoopStats& stats) noexcept {
  stats_ = &stats;
  pool_ = &pool;
  queue_ = &queue;
  caps_ = &caps;
  int rc = setup_ring(options);
  if (rc == 0) rc = setup_buffer_ring();
  if (rc == 0) rc = setup_wake();
  if (rc < 0) {
    const char* why = setup_reason(rc);
    deinit();
    reason_ = why;
    return rc;
  }
  caps.backend = BackendKind::uring;
  direct_base_ = uint32_t(kDirectDescriptor) + options.max_fds;  // as FdTable::direct_base
  setup_direct(options.direct_descriptors);
  one_buffer_per_recv_ = options.max_lent_per_fd != 0;
  if (caps.min_timeout) {
    batch_wait_us_ = options.batch_wait_us;
    batch_wait_count_ = options.batch_wait_count;
  }
  reason_ = "io_uring";
  return 0;
}

int UringBackend::setup_ring(const LoopOptions& options) noexcept {
  int rc = -EINVAL;
  for (unsigned flags : kSetupAttempts) {
    if ((flags & IORING_SETUP_TASKRUN_FLAG) && options.busy_poll_us == 0) continue;
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE;
    params.cq_entries = options.completion_entries;
    rc = io_uring_queue_init_params(options.ring_entries, &ring_, &params);
    if (rc != -EINVAL) {
      if (rc < 0) return rc;
      ring_ready_ = true;
      Capabilities& caps = *caps_;
      caps.sq_entries = params.sq_entries;
      caps.cq_entries = params.cq_entries;
      caps.single_issuer = flags & IORING_SETUP_SINGLE_ISSUER;
      caps.defer_taskrun = flags & IORING_SETUP_DEFER_TASKRUN;
      caps.coop_taskrun = flags & IORING_SETUP_COOP_TASKRUN;
      caps.submit_all = flags & IORING_SETUP_SUBMIT_ALL;
      taskrun_flag_ = flags & IORING_SETUP_TASKRUN_FLAG;
      // A registered ring fd saves an fdget per io_uring_enter (5.18); optional.
      caps.registered_ring_fd = io_uring_register_ring_fd(&ring_) == 1;
      return probe_uring(ring_, params.features, caps);
    }
  }
  return rc;
}

int UringBackend::setup_buffer_ring() noexcept {
  uint32_t count = pool_->count();
  size_t page = size_t(sysconf(_SC_PAGESIZE));
  size_t bytes = (count * sizeof(io_uring_buf) + page - 1) / page * page;
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return -errno;
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(memory);
  reg.ring_entries = count;
  reg.bgid = kBufferGroup;
  if (io_uring_register_buf_ring(&ring_, &reg, 0) != 0) {
    // Before 5.19: no buffer rings. Caller-buffer operations still work;
    // multishot receives report -EOPNOTSUPP.
    munmap(memory, bytes);
    return 0;
  }
  ring_position_ = static_cast<uint16_t*>(calloc(count, sizeof(uint16_t)));
  if (ring_position_ == nullptr) {
    io_uring_unregister_buf_ring(&ring_, kBufferGroup);
    munmap(memory, bytes);
    return -ENOMEM;
  }
  buffer_ring_ = static_cast<io_uring_buf_ring*>(memory);
  buffer_ring_bytes_ = bytes;
  io_uring_buf_ring_init(buffer_ring_);
  for (uint32_t id = 0; id < count; ++id) add_buffer(uint16_t(id), int(id));
  io_uring_buf_ring_advance(buffer_ring_, int(count));
  caps_->buffer_ring = true;
  // Multishot accept arrived with buffer rings (5.19); without it, accept is re-armed.
  caps_->multishot_accept = true;
  return 0;
}

// A sparse table: every slot empty until an accept fills it. Linux 6.13 or
// later only: before it, a file taken out of the table was put only once
// every request issued before the removal had completed, so a connection
// closed while another one's multishot receive stayed armed kept its socket
// open (its peer never saw the end). Elsewhere, and with a table larger
// than RLIMIT_NOFILE (-EMFILE), the loop stays on fds:
// Capabilities::direct_descriptors is 0. The registration is the raw call:
// liburing's io_uring_register_files_sparse answers -EMFILE by raising the
// process's RLIMIT_NOFILE and trying again.
void UringBackend::setup_direct(uint32_t slots) noexcept {
  if (slots == 0 || !caps_->multishot_accept || !kernel_at_least(6, 13)) return;
  io_uring_rsrc_register table{};
  table.nr = slots;
  table.flags = IORING_RSRC_REGISTER_SPARSE;
  long rc = syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_FILES2, &table,
                    sizeof table);
  if (rc != 0) return;
  caps_->direct_descriptors = slots;
  direct_ = true;
}

// Synchronous, as a close of an fd is (fd_table.cpp says why): the slot is
// emptied by the update, not by an IORING_OP_CLOSE to come.
int UringBackend::close_direct(int fd) noexcept {
  RINGSOCK_ASSERT(direct_ && is_direct_descriptor(fd));
  int empty = -1;
  unsigned slot = unsigned(fd) - direct_base_;
  int rc = io_uring_register_files_update(&ring_, slot, &empty, 1);
  return rc < 0 ? rc : 0;
}

int UringBackend::setup_wake() noexcept {
  // Blocking on purpose: io_uring completes a read of an O_NONBLOCK file with
  // -EAGAIN instead of waiting for it. The counter cannot saturate in practice.
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return -errno;
  arm_wake();
  return 0;
}

void UringBackend::deinit() noexcept {
  if (ring_ready_) {
    io_uring_queue_exit(&ring_);  // cancels what is left and unregisters the buffer ring
    ring_ready_ = false;
  }
  if (buffer_ring_ != nullptr) munmap(buffer_ring_, buffer_ring_bytes_);
  buffer_ring_ = nullptr;
  free(ring_position_);
  ring_position_ = nullptr;
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
  wake_armed_ = false;
  prepare_turn_ = true;
  waiting_head_ = waiting_tail_ = nullptr;  // dropped with the ring, as in-flight work is
}

// A full SQ is flushed to the kernel and checked again; if the kernel pushes
// back (-EBUSY: completions must be reaped first) they are moved to the event
// queue (spill), never dispatched here.
bool UringBackend::make_room(unsigned count) noexcept {
  for (int attempt = 0; attempt < 3; ++attempt) {
    ++stats_->sq_full_flushes;
    int rc;
    do {
      rc = io_uring_submit(&ring_);
    } while (rc == -EINTR);
    if (rc == -EBUSY || rc == -EAGAIN) spill(*queue_);
    queue_waiting();  // those waiting for room came first
    if (has_room(count)) return true;
  }
  return false;
}

// A close waits for its cancels, so a cancel is never refused: with no room
// even after a flush it waits its turn. One that waited to restart never
// reached the kernel: it leaves the queue and the core ends it.
int UringBackend::cancel(Operation& op) noexcept {
  if (op.backend_flags & kWaitingStart) {
    unlink_waiting(op);
    return kEndedBeforeStart;
  }
  if (op.backend_flags & kWaitingCancel) return 0;  // one request is enough
  io_uring_sqe* sqe = waiting_head_ == nullptr ? get_sqes(1) : nullptr;
  if (sqe == nullptr) {
    wait_for_room(op, kWaitingCancel);
    return 0;
  }
  prep_cancel(sqe, op);
  return 0;
}

void UringBackend::prep_cancel(io_uring_sqe* sqe, Operation& op) noexcept {
  io_uring_prep_cancel64(sqe, encode(&op, Tag::operation), 0);
  io_uring_sqe_set_data64(sqe, encode(nullptr, Tag::internal));
}

// The watch is a one-shot poll for RDHUP alone (POLLERR and POLLHUP come
// with every poll): the wake-ups of arriving data do not match it, so it
// costs nothing per message. Its SQE goes in before the receive's, and the
// room for both is made first (a flush, as any start makes room), so the
// receive's start cannot be refused.
bool UringBackend::watch_hangup(Operation& op) noexcept {
  if (!caps_->multishot_recv || one_buffer_per_recv_ || buffer_ring_ == nullptr) return false;
  if (waiting_head_ != nullptr || (!has_room(2) && !make_room(2))) return false;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_poll_add(sqe, op.fd, POLLRDHUP);
  fix_file(sqe, op.fd);
  io_uring_sqe_set_data64(sqe, encode(&op, Tag::hangup));
  op.backend_flags |= kWatchingHangup;
  return true;
}

// Never refused: with no room it waits its turn, as a cancel does. Its own
// result is ignored; the watch's event (-ECANCELED, or the hang-up it
// reported just before) is what the core waits for.
void UringBackend::unwatch(Operation& op) noexcept {
  io_uring_sqe* sqe = waiting_head_ == nullptr ? get_sqes(1) : nullptr;
  if (sqe == nullptr) {
    wait_for_room(op, kWaitingUnwatch);
    return;
  }
  prep_unwatch(sqe, op);
}

void UringBackend::prep_unwatch(io_uring_sqe* sqe, Operation& op) noexcept {
  io_uring_prep_poll_remove(sqe, encode(&op, Tag::hangup));
  io_uring_sqe_set_data64(sqe, encode(nullptr, Tag::internal));
}

// ---- Waiting for room ----------------------------------------------------------
//
// The core cannot take a refusal back once an operation is in flight (a
// continued send, a re-armed multishot, the cancels a close waits for). On a
// kernel that pushes back (-EBUSY until its CQ is read), a full SQ may stay
// full after a flush: then the operation waits on a FIFO, and its SQE goes in,
// in order, as soon as a flush makes room (make_room, and every turn, which
// never blocks while one waits). No allocation: the links are the operation's.

void UringBackend::wait_for_room(Operation& op, uint8_t what) noexcept {
  RINGSOCK_ASSERT(!(op.backend_flags & kWaitingForRoom));  // once at a time
  op.backend_flags = uint8_t(op.backend_flags | what);
  op.queue_next = nullptr;
  prepare_turn_ = true;
  if (waiting_tail_ != nullptr) {
    waiting_tail_->queue_next = &op;
  } else {
    waiting_head_ = &op;
  }
  waiting_tail_ = &op;
}

// Moves waiting SQEs into the SQ, oldest first, while they fit.
void UringBackend::queue_waiting() noexcept {
  while (waiting_head_ != nullptr) {
    Operation& op = *waiting_head_;
    const uint8_t what = op.backend_flags & kWaitingForRoom;
    unsigned count = what == kWaitingStart && (op.flags & kHasDeadline) ? 2 : 1;
    if (!has_room(count)) return;
    waiting_head_ = op.queue_next;
    if (waiting_head_ == nullptr) waiting_tail_ = nullptr;
    op.queue_next = nullptr;
    op.backend_flags &= uint8_t(~kWaitingForRoom);
    if (what == kWaitingCancel) {
      prep_cancel(next_sqe(), op);
    } else if (what == kWaitingUnwatch) {
      prep_unwatch(next_sqe(), op);
    } else {
      int rc = start(op);  // startable: it started before
      RINGSOCK_ASSERT(rc == 0);
      (void)rc;
    }
  }
}

// Before a turn with operations waiting: flush and move them in until none
// waits. Returns false if some still wait (the kernel took nothing: its CQ
// must be read first), and then the turn must not block.
bool UringBackend::flush_waiting(EventQueue& queue) noexcept {
  for (;;) {
    queue_waiting();
    if (waiting_head_ == nullptr) return true;
    ++stats_->sq_full_flushes;
    int rc;
    do {
      rc = io_uring_submit_and_get_events(&ring_);
    } while (rc == -EINTR);
    if (rc == -EBUSY || rc == -EAGAIN) spill(queue);
    if (!has_room(2)) return false;
  }
}

// turn() when the wake reader must be armed again or SQEs wait for room
// (out of line: the common turn keeps neither). Never blocks with SQEs still
// waiting: they may be what ends the wait.
int UringBackend::turn_prepared(EventQueue& queue, bool wait) noexcept {
  if (!wake_armed_) arm_wake();
  if (waiting_head_ != nullptr && !flush_waiting(queue)) wait = false;
  prepare_turn_ = !wake_armed_ || waiting_head_ != nullptr;
  int rc = enter(wait);
  if (rc < 0) return turn_retry(queue, wait, rc);
  return int(observe());
}

void UringBackend::unlink_waiting(Operation& op) noexcept {
  Operation* previous = nullptr;
  for (Operation* o = waiting_head_; o != nullptr; previous = o, o = o->queue_next) {
    if (o != &op) continue;
    (previous ? previous->queue_next : waiting_head_) = o->queue_next;
    if (waiting_tail_ == o) waiting_tail_ = previous;
    break;
  }
  op.queue_next = nullptr;
  op.backend_flags &= uint8_t(~kWaitingForRoom);
}

void UringBackend::arm_wake() noexcept {
  io_uring_sqe* sqe = get_sqes(1);
  if (sqe == nullptr) return;  // retried at the next turn
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof(wake_value_), 0);
  io_uring_sqe_set_data64(sqe, encode(&mailbox_, Tag::wake));
  wake_armed_ = true;
}

// A wake CQE means the wake reader must be armed again, and goes to the core
// (the post box may hold posts). A post's CQE came from another thread's
// ring: the acquire pairs with the sender's release of op.state (post.cpp),
// so the operation's fields are read after the sender wrote them (the
// kernel orders them too; this tells the thread sanitizer).
bool UringBackend::for_core_rare(uint64_t user_data) noexcept {
  switch (tag_of(user_data)) {
    case Tag::wake:
      wake_armed_ = false;
      prepare_turn_ = true;
      return true;
    case Tag::post:
      (void)std::atomic_ref<OpState>(operation_of(user_data)->state).load(std::memory_order_acquire);
      return true;
    case Tag::post_failed:
    case Tag::hangup:
      return true;
    default:
      return false;
  }
}

// The target's fd stays valid while this runs: the caller holds the target's
// post gate, and the target's deinit waits for it. The SQE must therefore be
// taken by the kernel before this returns, never at a later turn when the fd
// may be closed or reused: it is submitted now, and if the kernel did not
// take it (it pushed back until our CQ is read), it becomes a NOP and the
// caller uses the post box. With CQE_SKIP_SUCCESS only a failed message
// comes back here (Tag::post_failed). Nothing of op is read after the
// submit: the target may be running its callback already.
int UringBackend::send_post(int target_fd, Operation& op) noexcept {
  if (waiting_head_ != nullptr || !has_room(1)) return -EAGAIN;
  const unsigned index = ring_.sq.sqe_tail;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_msg_ring(sqe, target_fd, 0, encode(&op, Tag::post), 0);
  io_uring_sqe_set_data64(sqe, encode(&op, Tag::post_failed));
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  int rc;
  do {
    rc = io_uring_submit(&ring_);
  } while (rc == -EINTR);
  if (int(IO_URING_READ_ONCE(*ring_.sq.khead) - (index + 1)) >= 0) return 0;
  io_uring_prep_nop(sqe);  // still ours: no SQPOLL, and only this thread submits
  sqe->flags = 0;
  io_uring_sqe_set_data64(sqe, encode(nullptr, Tag::internal));
  return -EAGAIN;
}

// At deinit: runs the task work the kernel keeps for this ring (DEFER_TASKRUN:
// a MSG_RING to it waits there) without submitting, so next_event reads the
// CQEs. The kernel runs a bounded number of task works per call (20 on 6.x):
// the core calls until a call brings nothing. From a thread that is not the
// ring's (a destructor elsewhere) the kernel refuses, and those are not read.
void UringBackend::take_final_events() noexcept {
  if (!ring_ready_) return;
  io_uring_get_events(&ring_);
  observe();
}

// The rare answers of io_uring_enter: retried, or returned as they are.
// EINTR while waiting returns to the caller, so a stop() from a signal
// handler is seen.
int UringBackend::turn_retry(EventQueue& queue, bool wait, int rc) noexcept {
  for (;;) {
    if (rc >= 0 || rc == -ETIME) break;
    if (rc == -EINTR) {
      if (wait) break;
    } else if (rc == -EBUSY || rc == -EAGAIN) {
      // The kernel wants its completion queue read before taking more: let
      // the core read what is there (next_event flushes an overflow) first.
      unsigned seen = observe();
      if (seen > 0 || io_uring_cq_has_overflow(&ring_) || !queue.empty()) return int(seen);
    } else {
      return rc;
    }
    rc = enter(wait);
  }
  return int(observe());
}

// A coalesced wait (LoopOptions::batch_wait_us): one io_uring_enter that
// submits what is queued and sleeps until batch_wait_count_ completions, or
// until batch_wait_us_ has passed and there is at least one (the kernel's
// min_wait_usec, 6.12, in the field liburing 2.3 still calls pad). The
// general timeout only has to be longer: without one the kernel would end
// the wait at the minimum even with nothing to read. Its -ETIME, like the
// other answers, is what turn_retry expects of a wait.
int UringBackend::submit_and_wait_batch() noexcept {
  ++stats_->batch_waits;
  io_uring_sq& sq = ring_.sq;
  const unsigned tail = sq.sqe_tail;
  if (sq.sqe_head != tail) {  // liburing's flush, for a ring without SQPOLL
    sq.sqe_head = tail;
    io_uring_smp_store_release(sq.ktail, tail);
  }
  const unsigned to_submit = tail - IO_URING_READ_ONCE(*sq.khead);
  __kernel_timespec longer{kBatchWaitTimeoutS, 0};
  io_uring_getevents_arg arg{};
  arg.ts = reinterpret_cast<uintptr_t>(&longer);
  arg.pad = batch_wait_us_;
  unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
  int fd = ring_.ring_fd;
  if (caps_->registered_ring_fd) {
    fd = ring_.enter_ring_fd;
    flags |= IORING_ENTER_REGISTERED_RING;
  }
  long rc = syscall(__NR_io_uring_enter, fd, to_submit, batch_wait_count_, flags, &arg,
                    sizeof arg);
  return rc < 0 ? -errno : int(rc);
}

// An early submit (submit_early) that the kernel refuses (-EBUSY, -EAGAIN)
// or a signal cuts short is left to the next turn, which retries it.
void UringBackend::submit_now() noexcept {
  ++stats_->early_submits;
  io_uring_submit(&ring_);
}

// The CQ ran over and the kernel kept the rest: move them into the CQ and
// make them part of this batch. Returns whether there is anything to read.
bool UringBackend::flush_overflow() noexcept {
  ++stats_->cq_overflow_flushes;
  io_uring_get_events(&ring_);
  return observe() != 0;
}

// Copies the ring's ready CQEs into the queue (as many as fit) and frees
// their entries, for a submit the kernel refused until its CQ is read. They
// are delivered before the ring's others (next_event reads the queue first).
void UringBackend::spill(EventQueue& queue) noexcept {
  io_uring_cq& cq = ring_.cq;
  unsigned head = *cq.khead;
  unsigned ready = io_uring_smp_load_acquire(cq.ktail) - head;
  unsigned space = queue.space();
  unsigned take = ready < space ? ready : space;
  RINGSOCK_ASSERT(!(ring_.flags & IORING_SETUP_CQE32));  // one io_uring_cqe per entry
  for (unsigned i = 0; i < take; ++i) {
    const io_uring_cqe& cqe = cq.cqes[(head + i) & cq.ring_mask];
    if (for_core(cqe.user_data)) queue.push(RawEvent{cqe.user_data, cqe.res, cqe.flags});
  }
  if (take == 0) return;
  io_uring_smp_store_release(cq.khead, head + take);
  // The batch end is never behind the head: the spilled part of the batch
  // is read from the queue now.
  if (int(batch_end_ - (head + take)) < 0) batch_end_ = head + take;
}

int UringBackend::wake() noexcept {
  uint64_t one = 1;
  ssize_t n;
  do {
    n = ::write(wake_fd_, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

// Puts a buffer in the ring entry `offset` after the tail and remembers the
// entry (bundles are read back from the ring by position).
void UringBackend::add_buffer(uint16_t id, int offset) noexcept {
  int mask = io_uring_buf_ring_mask(pool_->count());
  ring_position_[id] = uint16_t((buffer_ring_->tail + unsigned(offset)) & unsigned(mask));
  io_uring_buf_ring_add(buffer_ring_, pool_->data(id), pool_->size_bytes(), id, mask, offset);
}

void UringBackend::recycle_buffer(uint16_t buffer_id) noexcept {
  add_buffer(buffer_id, 0);
  io_uring_buf_ring_advance(buffer_ring_, 1);
}

}  // namespace ringsock::detail
