#include "loop_core.hpp"

#include <sys/resource.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "assert.hpp"
#include "sendv.hpp"
#include "user_data.hpp"

namespace ringsock::detail {

namespace {

constexpr uint32_t kMaxRingEntries = 32768;
constexpr uint32_t kMaxCompletionEntries = 1u << 20;
constexpr uint32_t kDefaultMaxFds = 65536;
constexpr uint32_t kMaxFdsLimit = FdTable::kMaxFds;
constexpr uint32_t kMaxBusyPollUs = 1'000'000;
constexpr uint32_t kMaxBatchWaitUs = 1'000'000;
constexpr uint32_t kMaxDirectDescriptors = 65536;

// A spin-wait hint to the core (and to a hypervisor that watches for spins).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

uint32_t round_up_power_of_two(uint32_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

uint32_t default_max_fds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return kDefaultMaxFds;
  }
  return limit.rlim_cur < kDefaultMaxFds ? uint32_t(limit.rlim_cur) : kDefaultMaxFds;
}

uint64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return uint64_t(now.tv_sec) * 1'000'000'000u + uint64_t(now.tv_nsec);
}

TimeSpec64 deadline_after(uint64_t timeout_ns) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t total = uint64_t(now.tv_nsec) + timeout_ns % 1000000000u;
  return TimeSpec64{int64_t(now.tv_sec) + int64_t(timeout_ns / 1000000000u + total / 1000000000u),
                    int64_t(total % 1000000000u)};
}

}  // namespace

int LoopCore::init(const LoopOptions& options) noexcept {
  LoopOptions o = options;
  // Two at least: an operation with a deadline takes two SQEs in a row.
  if (o.ring_entries < 2 || o.ring_entries > kMaxRingEntries) return -EINVAL;
  if (o.completion_entries == 0) o.completion_entries = 4 * o.ring_entries;
  if (o.completion_entries < o.ring_entries || o.completion_entries > kMaxCompletionEntries) {
    return -EINVAL;
  }
  if (o.max_fds == 0) o.max_fds = default_max_fds();
  if (o.max_fds > kMaxFdsLimit) return -EINVAL;
  if (o.max_timers == 0) o.max_timers = 2 * o.max_fds + 64;
  if (o.max_timers > 2 * kMaxFdsLimit) return -EINVAL;
  if (o.busy_poll_us > kMaxBusyPollUs) return -EINVAL;
  if (o.batch_wait_us > kMaxBatchWaitUs || o.batch_wait_count > o.completion_entries) {
    return -EINVAL;
  }
  if (o.batch_wait_count == 0) o.batch_wait_count = o.completion_entries;
  if (o.max_lent_per_fd > o.buffer_count) o.max_lent_per_fd = 0;  // the pool is the bound
  if (o.direct_descriptors > kMaxDirectDescriptors) return -EINVAL;
  if (o.backend != BackendChoice::automatic && o.backend != BackendChoice::uring &&
      o.backend != BackendChoice::epoll) {
    return -EINVAL;
  }
  int rc = pool_.init(o.buffer_count, o.buffer_size);
  if (rc < 0) return rc;
  bundle_ids_ = static_cast<uint16_t*>(calloc(o.buffer_count, sizeof(uint16_t)));
  if (fds_.init(o.max_fds, o.direct_descriptors, o.buffer_count, o.max_lent_per_fd) < 0 ||
      bundle_ids_ == nullptr ||
      !events_.init(2 * round_up_power_of_two(o.completion_entries))) {
    deinit();
    return -ENOMEM;
  }
  busy_poll_ns_ = uint64_t(o.busy_poll_us) * 1000u;
  rc = backend_.init(o, pool_, events_, caps_, stats_);
  if (rc < 0) {
    deinit();
    return rc;
  }
  if (caps_.backend == BackendKind::uring && caps_.send_zc) {
    zero_copy_min_bytes_ = o.zero_copy_min_bytes;
  }
  fds_.use_direct(caps_.direct_descriptors);
  if (fds_.capped()) backend_.cap_lending(fds_);
  return 0;
}

// What is in flight is dropped without callbacks (the backend's kernel
// state goes with it). A close still waiting for its fd's operations to end
// closes the fd here, so no fd is left open behind a close the caller
// asked for; a close that already closed its fd is only missing its callback.
void LoopCore::deinit() noexcept {
  backend_.deinit();
  pool_.deinit();
  fds_.close_waiting();
  fds_.deinit();
  free(bundle_ids_);
  bundle_ids_ = nullptr;
  active_ = 0;
}

// submit() for operations with a deadline, timers and close.
int LoopCore::submit_set_up(Operation& op) noexcept {
  if (op.kind == OpKind::timeout) {
    op.deadline = deadline_after(op.args.timer.duration_ns);
  } else if (op.timeout_ns != 0) {
    op.flags |= kHasDeadline;
    op.deadline = deadline_after(op.timeout_ns);
  }
  if (op.kind == OpKind::close) return submit_close(op);
  if (direct_accept(op)) return submit_direct_accept(op);
  choose_send_path(op);
  choose_zero_copy(op);
  return begin(op);
}

// The result is delivered at drain time like any other: never inside submit.
// `again`: the operation is already in flight (see restart).
int LoopCore::send_direct(Operation& op, bool again) noexcept {
  int32_t result;
  if (try_direct_send(op, fds_, result) == DirectSend::wait_ready) {
    return again ? backend_.restart(op) : backend_.start(op);
  }
  defer(op, result);
  return 0;
}

// Close waits for the fd's operations: each is cancelled and completes once,
// and only then is the fd closed, so its number cannot be reused while a
// completion for it is still on its way.
int LoopCore::submit_close(Operation& op) noexcept {
  ++active_;
  Operation* in_flight = fds_.begin_close(op);
  if (in_flight == nullptr) {
    close_now(op);
    return 0;
  }
  op.state = OpState::close_wait;
  for (Operation* o = in_flight; o != nullptr; o = o->fd_next) {
    if (o->state == OpState::notify_wait) {
      abort_zero_copy(*o);  // zero_copy.cpp: cancel has nothing left to end
    } else {
      cancel(*o);
    }
  }
  return 0;
}

uint16_t LoopCore::next_tag() noexcept {
  static std::atomic<uint32_t> count{0};
  return uint16_t(count.fetch_add(1, std::memory_order_relaxed) % 65535 + 1);
}

int LoopCore::cancel(Operation& op) noexcept {
  if (op.state == OpState::idle) return -ENOENT;
  if (op.kind == OpKind::post) return -EALREADY;  // on its way: it cannot be called back
  if (op.loop_tag != tag_) return -EINVAL;  // in flight on another loop: not ours to touch
  if ((op.flags & kCancelRequested) || op.state == OpState::deferred ||
      op.state == OpState::notify_wait || op.state == OpState::hangup_wait) {
    return -EALREADY;  // ending already (only the kernel's notification or watch is left)
  }
  switch (op.state) {
    case OpState::submitted: {
      if (op.kind == OpKind::close) return -EALREADY;  // the close itself is running
      op.flags |= kCancelRequested;
      int rc = backend_.cancel(op);
      if (rc == kEndedBeforeStart) {  // it waited for room to restart: ends here
        if (direct_accept(op)) fds_.release_slot();
        break;
      }
      if (rc < 0) op.flags &= uint8_t(~kCancelRequested);
      return rc;
    }
    case OpState::paused: {
      Operation** link = &paused_head_;
      while (*link != &op) {
        RINGSOCK_ASSERT(*link != nullptr);  // a paused operation is on the paused list
        link = &(*link)->queue_next;
      }
      *link = op.queue_next;
      break;
    }
    case OpState::close_wait:
      fds_.abandon_close(op.fd);
      break;
    case OpState::rearm:
    case OpState::idle:
    case OpState::deferred:
    case OpState::notify_wait:
    case OpState::hangup_wait:
      break;
  }
  op.flags |= kCancelRequested;
  defer(op, -ECANCELED);
  return 0;
}

int LoopCore::run(RunMode mode) noexcept {
  if (running_) return -EBUSY;
  running_ = true;
  int callbacks = 0;
  int rc = 0;
  for (;;) {
    bool pending = backend_.has_events(events_) || deferred_head_ != nullptr;
    if (mode == RunMode::until_done && active_ == 0 && !pending) break;
    rc = turn(mode != RunMode::no_wait && !pending);
    if (rc < 0) break;
    callbacks += int(drain());
    if (mode != RunMode::until_done || stop_requested_) break;
  }
  running_ = false;
  stop_requested_ = false;  // honoured: a stop() outside run() ends the next one
  return rc < 0 ? rc : callbacks;
}

// One turn of the backend; a turn that would block may busy-poll first.
inline int LoopCore::turn(bool wait) noexcept {
  if (__builtin_expect(wait && busy_poll_ns_ != 0, 0)) {
    int rc = busy_poll();
    if (rc != 0) return rc < 0 ? rc : 0;
  }
  int rc = backend_.turn(events_, wait);
  return rc < 0 ? rc : 0;
}

// Busy polling: checks without blocking, again and again, until something
// happens (a completion, or a wake: the backend says how many kernel events
// it saw) or the budget is spent. Returns 1 if something happened, 0 if the
// budget ran out (block now), or -errno. The first turn submits what is
// queued; after it, a backend that can tell from user space whether a turn
// would find anything (io_uring's TASKRUN flag) is asked first, so the poll
// spins on memory instead of entering the kernel each time round.
int LoopCore::busy_poll() noexcept {
  uint64_t start = monotonic_ns();
  bool first = true;
  do {
    if (!first && !backend_.may_have_events()) {
      cpu_relax();
      continue;
    }
    first = false;
    int rc = backend_.turn(events_, false);
    if (rc < 0) return rc;
    if (rc > 0 || backend_.has_events(events_)) {
      ++stats_.busy_poll_hits;
      return 1;
    }
  } while (monotonic_ns() - start < busy_poll_ns_);
  ++stats_.busy_poll_misses;
  return 0;
}

inline uint32_t LoopCore::drain() noexcept {
  uint32_t callbacks = 0;
  for (;;) {
    RawEvent event;
    if (backend_.next_event(events_, event)) {
      Operation& op = *operation_of(event.user_data);
      // A result for an operation the core does not count in flight: a
      // second terminal result, or a user_data that is no operation's.
      RINGSOCK_ASSERT(op.state != OpState::idle);
      // Most results need nothing from the engine but the callback: plain
      // kinds, and a stream send or sendv that sent the rest of its bytes.
      int32_t result = event.result;
      bool ready = result >= 0 && !(op.flags & (kAwaitReady | kZeroCopy));
      if (__builtin_expect(ready && plain_result(op.kind), 1)) {
        Completion completion{};
        finish_inline(op, result, completion);
        ++callbacks;
      } else if (ready && op.kind == OpKind::send && result > 0 &&
                 op.transferred + uint32_t(result) == op.args.message.vector.iov_len) {
        op.transferred += uint32_t(result);
        Completion completion{};
        finish_inline(op, int32_t(op.transferred), completion);
        ++callbacks;
      } else if (ready && op.kind == OpKind::sendv && result > 0 &&
                 op.transferred + uint32_t(result) == op.args.message.total_length) {
        // Its last bytes: its place in the pieces is not needed any more.
        op.transferred += uint32_t(result);
        Completion completion{};
        finish_inline(op, int32_t(op.transferred), completion);
        ++callbacks;
      } else {
        callbacks += dispatch(op, event);
      }
      // Every 8th callback is often enough to find 32 queued SQEs soon.
      if ((callbacks & 7) == 0) backend_.submit_early();
    } else if (deferred_head_ != nullptr) {
      Operation& op = *deferred_head_;
      deferred_head_ = op.queue_next;
      if (deferred_head_ == nullptr) deferred_tail_ = nullptr;
      if (finish(op, op.deferred_result)) ++callbacks;
    } else {
      return callbacks;
    }
  }
}

// Every result drain() does not pass straight to the callback. Returns
// how many callbacks were made.
uint32_t LoopCore::dispatch(Operation& op, RawEvent event) noexcept {
  if (__builtin_expect(tag_of(event.user_data) == Tag::hangup, 0)) return hangup_event(op);
  if (__builtin_expect(op.flags & kZeroCopy, 0) && !zero_copy_event(op, event)) return 0;
  int32_t result = event.result;
  // Before a restart, a pause or a deferral reuses op's links.
  if (!(event.flags & kEventMore) && op.backend_flags != 0) backend_.arming_ended(op);
  if (is_multishot(op.kind)) return dispatch_multishot(op, event);
  if (__builtin_expect(op.kind == OpKind::post, 0)) return receive_post(op, event);
  if (result == -EINTR && !(op.flags & kCancelRequested) && op.kind != OpKind::close) {
    restart(op);  // interrupted inside the kernel: run it again
    return false;
  }
  bool unusual = result == -EAGAIN || (op.flags & kAwaitReady);
  if (__builtin_expect(unusual, 0) && retry_when_ready(op, result)) return false;
  Completion completion{};
  switch (op.kind) {
    case OpKind::send:
    case OpKind::sendv:
      return dispatch_send(op, result);
    case OpKind::accept:
      result = admit(op, result);
      if (result >= 0 && op.args.accept.peer != nullptr) {
        Endpoint& peer = *op.args.accept.peer;
        peer.transport = peer.family() == AF_UNIX ? Transport::unix_stream : Transport::tcp;
      }
      break;
    case OpKind::recvfrom:
      if (result >= 0) fill_recvfrom(op, completion);
      break;
    case OpKind::timeout:
      if (result == -ETIME) result = 0;  // the timer fired: that is its success
      break;
    default:
      break;
  }
  finish(op, map_deadline(op, result), completion);
  return true;
}

// -EAGAIN from an operation that should have waited (the kernel gives it for
// some non-blocking sockets, e.g. sendmsg to a full UNIX datagram queue): poll
// for readiness, then run the operation again. Returns true while it goes on.
bool LoopCore::retry_when_ready(Operation& op, int32_t& result) noexcept {
  if (op.flags & kAwaitReady) {
    op.flags &= uint8_t(~kAwaitReady);
    if (result < 0) return false;  // the poll failed or was cancelled: that is the result
    if (op.flags & kCancelRequested) {
      result = -ECANCELED;  // cancelled while it waited: do not start it again
      return false;
    }
    op.flags |= kWokeReady;
    restart(op);
    op.flags &= uint8_t(~kWokeReady);
    return true;
  }
  bool waits = is_send(op.kind) || op.kind == OpKind::recv || op.kind == OpKind::recvfrom ||
               op.kind == OpKind::accept;
  if (result != -EAGAIN || !waits) return false;
  if (op.flags & kCancelRequested) {
    result = -ECANCELED;
    return false;
  }
  op.flags |= kAwaitReady;
  restart(op);
  return true;
}

void LoopCore::fill_recvfrom(Operation& op, Completion& completion) const noexcept {
  const msghdr& header = op.args.message.header;
  completion.truncated = header.msg_flags & MSG_TRUNC;
  Endpoint* peer = op.args.message.peer;
  if (peer != nullptr) {
    peer->length = header.msg_namelen;
    peer->transport = peer->family() == AF_UNIX ? Transport::unix_dgram : Transport::udp;
  }
}

// A stream send (send, sendv) goes on until every byte is out; the result
// is exact either way. A sendv keeps its place in its pieces (sendv.hpp).
bool LoopCore::dispatch_send(Operation& op, int32_t result) noexcept {
  bool vectored = op.kind == OpKind::sendv;
  auto length = vectored ? op.args.message.total_length : uint32_t(op.args.message.vector.iov_len);
  if (result > 0) {
    if (vectored) {
      advance_pieces(op, uint32_t(result));
    } else {
      op.transferred += uint32_t(result);
    }
    result = int32_t(op.transferred);
    if (op.transferred < length) {
      if (op.flags & kCancelRequested) {
        result = -ECANCELED;
      } else {
        ++stats_.send_continuations;
        restart(op);
        return false;
      }
    }
  } else if (result == 0) {
    // Zero bytes for a non-empty send: never a success, and retrying could spin.
    result = op.transferred == length ? int32_t(length) : -EIO;
  }
  finish(op, map_deadline(op, result));
  return true;
}

bool LoopCore::dispatch_multishot(Operation& op, const RawEvent& event) noexcept {
  if ((event.flags & kEventBuffer) && event.result > int32_t(pool_.size_bytes())) {
    return dispatch_bundle(op, event);
  }
  Completion completion{};
  int32_t result = event.result;
  if (event.flags & kEventBuffer) result = lend_buffer(op, event, completion);
  if (op.kind == OpKind::accept_multishot) {
    // An arming of one accept (emulated, or into direct descriptors) that
    // a signal interrupted: arm it again, with its claim on a slot, as a
    // single accept is. (-EAGAIN ends it, as before: re-armed at once, an
    // old kernel's would spin.)
    bool again = result == -EINTR && !(event.flags & kEventMore) &&
                 !(op.flags & kCancelRequested);
    if (__builtin_expect(again, 0)) {
      restart(op);
      return false;
    }
    result = admit(op, result);
  }
  completion.result = result;
  if (event.flags & kEventMore) {
    completion.more = true;
    op.callback(owner_, op, completion);
    if (__builtin_expect(fds_.capped(), 0)) pause_at_cap(op, completion.has_buffer);
    return true;
  }
  // The kernel ended this arming of the operation: on an empty pool, or
  // when the core asked it to (its fd's cap), it pauses until buffers return.
  bool cancelled = op.flags & kCancelRequested;
  bool paused_by_core = result == -ECANCELED && (op.flags & kPauseRequested);
  if ((result == -ENOBUFS || paused_by_core) && !cancelled &&
      op.kind != OpKind::accept_multishot) {
    if (!paused_by_core) ++stats_.buffer_pauses;
    pause(op);
    return false;
  }
  bool delivered = op.kind == OpKind::accept_multishot ? result >= 0 : completion.has_buffer;
  if (!delivered) {
    return finish(op, result, completion);  // EOF (0), an error, or -ECANCELED
  }
  // A result without MORE that is not the end (CQ overflow, emulated
  // multishot): deliver it as one of many and arm the operation again.
  op.state = OpState::rearm;
  completion.more = true;
  op.callback(owner_, op, completion);
  if (op.state == OpState::rearm) {
    op.flags &= uint8_t(~kPauseRequested);  // that arming ended: a cancel sent for it is spent
    if (cancelled) {
      defer(op, -ECANCELED);
    } else if (fds_.at_cap(op.fd)) {
      ++stats_.fd_cap_pauses;
      pause(op);
    } else if (direct_accept(op) && !fds_.claim_slot()) {
      defer(op, -EMFILE);  // every slot is taken: the fd limit (direct_descriptors.cpp)
    } else {
      ++stats_.rearms;
      restart(op);
    }
  }
  return true;
}

// A receive bundle: one kernel result spread over consecutive ring buffers,
// every one full but the last. Each is delivered as a completion of its own,
// in order, so callers see the same lent buffers as without bundles. The ids
// are all read before the first callback, which may give buffers back.
bool LoopCore::dispatch_bundle(Operation& op, const RawEvent& event) noexcept {
  uint32_t size = pool_.size_bytes();
  auto first = uint16_t(event.flags >> kEventBufferShift);
  uint32_t count = (uint32_t(event.result) + size - 1) / size;
  // A bundle never spans more buffers than the ring holds; the clamp keeps
  // bundle_ids_ in bounds should a kernel say otherwise in a Release build.
  RINGSOCK_ASSERT(count <= pool_.count());
  if (count > pool_.count()) count = pool_.count();
  for (uint32_t i = 0; i < count; ++i) bundle_ids_[i] = backend_.bundle_buffer(first, i);
  ++stats_.receive_bundles;
  uint32_t left = uint32_t(event.result);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t bytes = left < size ? left : size;
    left -= bytes;
    // Every piece but the last says MORE; the last carries the kernel's word.
    uint32_t more = i + 1 < count ? kEventMore : (event.flags & kEventMore);
    RawEvent piece{event.user_data, int32_t(bytes),
                   (uint32_t(bundle_ids_[i]) << kEventBufferShift) | kEventBuffer | more};
    dispatch_multishot(op, piece);
  }
  return true;
}

// Fills the completion with the pool buffer a receive landed in and returns
// the payload bytes in it (a recvfrom buffer starts with header and address).
int32_t LoopCore::lend_buffer(Operation& op, const RawEvent& event,
                              Completion& completion) noexcept {
  auto id = uint16_t(event.flags >> kEventBufferShift);
  if (event.result <= 0) {
    backend_.recycle_buffer(id);  // no data in it: straight back to the ring
    return event.result;
  }
  // The kernel handed out a buffer that is out of the pool or still lent: it
  // never does; a Release build reports -EIO rather than lend it twice.
  bool fresh = pool_.mark_lent(id);
  RINGSOCK_ASSERT(fresh);
  if (!fresh) return -EIO;
  uint8_t* buffer = pool_.data(id);
  if (__builtin_expect(fds_.capped(), 0)) fds_.note_lent(op.fd, id);
  completion.has_buffer = true;
  completion.buffer_id = id;
  completion.data = buffer;
  if (op.kind != OpKind::recvfrom_multishot) return event.result;
  const auto* header = reinterpret_cast<const RecvMsgHeader*>(buffer);
  // Both backends lay out header, a name of at most kRecvMsgNameBytes and the
  // payload; the clamps below only guard a Release build.
  RINGSOCK_ASSERT(header->name_length <= kRecvMsgNameBytes);
  RINGSOCK_ASSERT(event.result >= int32_t(kRecvMsgPayloadOffset));
  completion.peer = reinterpret_cast<const sockaddr*>(buffer + sizeof(RecvMsgHeader));
  completion.peer_length = header->name_length < kRecvMsgNameBytes ? header->name_length
                                                                     : kRecvMsgNameBytes;
  completion.truncated = header->flags & MSG_TRUNC;
  completion.data = buffer + kRecvMsgPayloadOffset;
  int32_t payload = event.result - int32_t(kRecvMsgPayloadOffset);
  return payload > 0 ? payload : 0;
}

bool LoopCore::finish(Operation& op, int32_t result, Completion& completion) noexcept {
  return finish_inline(op, result, completion);
}

inline bool LoopCore::finish_inline(Operation& op, int32_t result, Completion& completion) noexcept {
  RINGSOCK_ASSERT(active_ > 0);
  // The backend keeps something for op (a waiting cancel, a deadline slot,
  // a hang-up watch still in the kernel: then op ends when that does).
  if (__builtin_expect(op.backend_flags != 0, 0) && backend_.ended(op)) {
    hold_for_watch(op, result, completion);
    return false;
  }
  --active_;
  op.state = OpState::idle;
  completion.result = result;
  completion.more = false;
  if (op.fd >= 0 && op.kind != OpKind::close) {
    Operation* waiting_close = fds_.unlink(op);
    if (__builtin_expect(waiting_close != nullptr, 0)) close_now(*waiting_close);
  }
  op.callback(owner_, op, completion);
  return true;
}

// The fd's operations have all ended (or there were none): close it now,
// and deliver the close's result at drain time.
void LoopCore::close_now(Operation& op) noexcept {
  backend_.forget(op.fd);
  defer(op, is_direct_descriptor(op.fd) ? close_direct(op.fd) : fds_.close_now(op.fd));
}

// Starts an operation that is already in flight again (continuation, re-arm,
// resume). No room now is no refusal: io_uring queues it until the SQ has
// room, epoll gives it back the deadline slot it held. What the backend still
// refuses becomes its terminal result.
void LoopCore::restart(Operation& op) noexcept {
  op.state = OpState::submitted;
  int rc = (op.flags & kDirectSend) && !(op.flags & kAwaitReady) ? send_direct(op, true)
                                                                   : backend_.restart(op);
  if (rc < 0) {
    if (direct_accept(op)) fds_.release_slot();
    defer(op, rc);
  }
}

void LoopCore::defer(Operation& op, int32_t result) noexcept {
  op.state = OpState::deferred;
  op.deferred_result = result;
  op.queue_next = nullptr;
  if (deferred_tail_ != nullptr) {
    deferred_tail_->queue_next = &op;
  } else {
    deferred_head_ = &op;
  }
  deferred_tail_ = &op;
}

void LoopCore::pause(Operation& op) noexcept {
  op.flags &= uint8_t(~kPauseRequested);
  op.state = OpState::paused;
  op.queue_next = paused_head_;
  paused_head_ = &op;
  // Buffers may have come back between the kernel's attempt and now.
  if (pool_.lent() < pool_.count()) resume_paused();
}

int LoopCore::begin_paused(Operation& op) noexcept {
  // One the backend cannot run is refused now, as it would be when not at the cap.
  if (!backend_.startable(op.kind)) return begin(op);
  op.state = OpState::submitted;
  track(op, op.fd);
  ++stats_.fd_cap_pauses;
  pause(op);
  return 0;
}

// Operations whose fd still holds its cap of lent buffers stay paused.
void LoopCore::resume_paused() noexcept {
  Operation* op = paused_head_;
  paused_head_ = nullptr;
  while (op != nullptr) {
    Operation* next = op->queue_next;
    if (fds_.at_cap(op->fd)) {
      op->queue_next = paused_head_;
      paused_head_ = op;
    } else {
      restart(*op);
    }
    op = next;
  }
}

// A multishot receive whose fd now holds its cap of lent buffers (checked
// after the callback, which may have given some back): the kernel is asked
// to end it, and its -ECANCELED pauses it instead of ending it.
void LoopCore::pause_at_cap(Operation& op, bool lent) noexcept {
  if (!lent) return;
  bool armed = op.state == OpState::submitted && !(op.flags & (kCancelRequested | kPauseRequested));
  if (!armed || !fds_.at_cap(op.fd)) return;
  op.flags |= kPauseRequested;
  backend_.cancel(op);  // armed: never one waiting to restart, and never refused
  ++stats_.fd_cap_pauses;
}

int LoopCore::release_buffer(uint16_t buffer_id) noexcept {
  if (!pool_.mark_returned(buffer_id)) return -EINVAL;
  if (__builtin_expect(fds_.capped(), 0)) fds_.note_returned(buffer_id);
  backend_.recycle_buffer(buffer_id);
  if (paused_head_ != nullptr) resume_paused();
  return 0;
}

}  // namespace ringsock::detail
