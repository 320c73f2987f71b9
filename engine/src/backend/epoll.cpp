#include "backend/epoll.hpp"

#include <netinet/in.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "assert.hpp"
#include "monotonic_clock.hpp"
#include "plain_syscalls.hpp"
#include "sendv.hpp"
#include "user_data.hpp"

namespace ringsock::detail {

namespace {

constexpr int kReadyBatch = 256;       // epoll events taken per turn
constexpr unsigned kMultishotBudget = 16;  // results per multishot op per readiness: fairness
constexpr unsigned kStreamVector = 16;  // pool buffers one stream recvmsg(2) may fill
constexpr int kAcceptFlags = SOCK_NONBLOCK | SOCK_CLOEXEC;
// perform()'s private code for "connect said EAGAIN": delivered as -EAGAIN,
// not taken for "wait for readiness" (no errno has this value).
constexpr int32_t kConnectBacklogFull = 4096;

int32_t result_of(ssize_t rc) { return rc >= 0 ? int32_t(rc) : -errno; }

// What a reader waits for. EPOLLPRI: TCP urgent or UNIX out-of-band data,
// after which short reads prove nothing (note_read).
constexpr uint32_t kReadInterest = EPOLLIN | EPOLLRDHUP | EPOLLPRI;

}  // namespace

// ---- the intrusive FIFO ----------------------------------------------------------

void EpollBackend::OpList::push(Operation& op) noexcept {
  op.queue_next = nullptr;
  if (tail != nullptr) {
    tail->queue_next = &op;
  } else {
    head = &op;
  }
  tail = &op;
}

Operation& EpollBackend::OpList::pop() noexcept {
  Operation& op = *head;
  head = op.queue_next;
  if (head == nullptr) tail = nullptr;
  op.queue_next = nullptr;
  return op;
}

void EpollBackend::OpList::remove(Operation& op) noexcept {
  Operation* previous = nullptr;
  for (Operation* o = head; o != nullptr; previous = o, o = o->queue_next) {
    if (o != &op) continue;
    (previous ? previous->queue_next : head) = o->queue_next;
    if (tail == o) tail = previous;
    op.queue_next = nullptr;
    return;
  }
}

// ---- set-up ------------------------------------------------------------------------

int EpollBackend::init(const LoopOptions& options, BufferPool& pool, EventQueue&,
                       Capabilities& caps, LoopStats& stats) noexcept {
  pool_ = &pool;
  stats_ = &stats;
  max_fds_ = options.max_fds;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  fds_ = static_cast<FdState*>(calloc(max_fds_, sizeof(FdState)));
  ready_ = static_cast<epoll_event*>(calloc(kReadyBatch, sizeof(epoll_event)));
  int rc = 0;
  if (epoll_fd_ < 0 || wake_fd_ < 0) rc = -errno;
  if (rc == 0 && (fds_ == nullptr || ready_ == nullptr || !timers_.init(options.max_timers))) {
    rc = -ENOMEM;
  }
  if (rc == 0) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_fd_;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) rc = -errno;
  }
  if (rc < 0) {
    deinit();
    return rc;
  }
  caps = Capabilities{};
  caps.backend = BackendKind::epoll;
  return 0;
}

void EpollBackend::deinit() noexcept {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  epoll_fd_ = wake_fd_ = -1;
  free(fds_);
  free(ready_);
  fds_ = nullptr;
  ready_ = nullptr;
  timers_.deinit();
  pending_ = OpList{};
  done_ = OpList{};
  polled_last_turn_ = true;
  again_head_ = again_tail_ = -1;
}

// ---- what the core calls ---------------------------------------------------------

// Nothing runs here: the syscall is tried at the next turn, so no result can
// appear inside a submit and the event queue is only filled where it has room.
int EpollBackend::start(Operation& op) noexcept {
  bool timed = op.kind == OpKind::timeout || (op.flags & kHasDeadline);
  bool held = op.backend_flags & kHoldsSlot;
  RINGSOCK_ASSERT(timed || !held);  // only a deadline's operation holds a slot
  op.backend_flags = 0;  // a start begins in none of our lists
  if (timed) {
    if (held) {
      timers_.push_held(op);  // a restart: its own slot
    } else if (!timers_.push(op)) {
      return -EAGAIN;  // every timer slot is taken
    }
    op.backend_flags = kInTimerHeap;
  }
  if (op.kind == OpKind::timeout) return 0;
  pending_.push(op);
  op.backend_flags |= kInPending;
  return 0;
}

// An operation whose result is already in the event queue is in none of our
// lists: then its real result stands, as on io_uring.
int EpollBackend::cancel(Operation& op) noexcept {
  bool waiting = op.backend_flags & (kInPending | kInFdQueue | kInTimerHeap);
  if (!waiting) return 0;
  detach(op);
  report_later(op, -ECANCELED);
  return 0;
}

int EpollBackend::wake() noexcept {
  uint64_t one = 1;
  ssize_t n;
  do {
    n = ::write(wake_fd_, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
  // EAGAIN: the counter is saturated, so a wake is pending anyway.
  return (n < 0 && errno != EAGAIN) ? -errno : 0;
}

int EpollBackend::turn(EventQueue& queue, bool wait) noexcept {
  // A new turn once the core has delivered (and counted) every buffer read
  // before. Results still queued (a run that stopped on an error before it
  // drained them) keep the turn's number, so their buffers still count
  // against their fds' caps (lend_room).
  if (queue.empty()) ++turn_count_;
  try_pending(queue);
  if (again_head_ >= 0) serve_undrained(queue);
  flush_done(queue);
  expire_timers(queue);
  // Results are here already (a send tried just now, a cancel): a poll now
  // could not wait, and in a ping-pong it finds nothing (the peer has not
  // answered yet). Deliver them and poll at the next turn, which is never
  // skipped, so readiness waits at most one turn behind a steady stream of
  // tried-at-once work.
  if (!queue.empty() && polled_last_turn_) {
    polled_last_turn_ = false;
    return 0;
  }
  polled_last_turn_ = true;
  bool idle = queue.empty() && pending_.empty() && done_.empty() && again_head_ < 0;
  int timeout_ms = (wait && idle) ? next_timeout_ms() : 0;
  int count = sys::epoll_wait(epoll_fd_, ready_, kReadyBatch, timeout_ms);
  if (count < 0) return errno == EINTR ? 0 : -errno;
  for (int i = 0; i < count; ++i) {
    int fd = ready_[i].data.fd;
    if (fd == wake_fd_) {
      // A wake goes to the core as its mailbox's event (the post box may
      // hold posts). No room: the eventfd stays readable (level-triggered)
      // and the next poll reports it again.
      if (queue.space() == 0) continue;
      uint64_t value;
      while (::read(wake_fd_, &value, sizeof(value)) > 0) {
      }
      queue.push(RawEvent{encode(&mailbox_, Tag::wake), 0, 0});
    } else {
      serve_events(fd, ready_[i].events, queue);
    }
  }
  expire_timers(queue);
  return count;
}

// ---- the turn's steps ------------------------------------------------------------

void EpollBackend::try_pending(EventQueue& queue) noexcept {
  while (!pending_.empty() && queue.space() > 0) {
    Operation& op = pending_.pop();
    op.backend_flags &= uint8_t(~kInPending);
    if (op.kind == OpKind::nop) {
      report(op, 0, 0, queue);
      continue;
    }
    if (op.kind == OpKind::shutdown) {
      // It waits for nothing, as on io_uring: not behind a receive that
      // waits for data (it may be what ends that receive) nor behind a send.
      attempt(op, queue);
      continue;
    }
    FdState& state = fds_[op.fd];
    if (op.kind == OpKind::connect && state.readers.empty() && state.writers.empty()) {
      adopt(op.fd);  // a socket's life begins: its number may have served another
    }
    bool sends = writes(op);
    OpList& line = sends ? state.writers : state.readers;
    // Wait behind earlier operations in the same direction: sends keep their
    // order. A receive of a stream socket the last read emptied waits for
    // its edge (note_read).
    bool saved_read = line.empty() && waits_for_edge(op, state);
    if (!line.empty() || (op.flags & kAwaitReady) || saved_read) {
      if (saved_read) ++stats_->reads_waited;
      park(op);
      continue;
    }
    Attempt attempt_result = attempt(op, queue);
    if (attempt_result == Attempt::finished) continue;
    int fd = op.fd;  // park may end op (an fd epoll refuses)
    park(op);
    // Stopped with data perhaps waiting: no edge will tell, so serve it again.
    if (attempt_result == Attempt::more) mark_again(fd, sends ? kAgainWrite : kAgainRead);
  }
}

void EpollBackend::flush_done(EventQueue& queue) noexcept {
  while (!done_.empty() && queue.space() > 0) {
    Operation& op = done_.pop();
    queue.push(RawEvent{encode(&op, Tag::operation), op.deferred_result, 0});
  }
}

void EpollBackend::expire_timers(EventQueue& queue) noexcept {
  if (timers_.empty()) return;
  TimeSpec64 now = monotonic_now();
  while (!timers_.empty() && queue.space() > 0 && reached(timers_.top().deadline, now)) {
    Operation& op = timers_.top();
    detach(op);
    // A timer reports -ETIME like io_uring's; a deadline ends its operation
    // with -ECANCELED, which the core turns into -ETIMEDOUT.
    report(op, op.kind == OpKind::timeout ? -ETIME : -ECANCELED, 0, queue);
  }
}

int EpollBackend::next_timeout_ms() const noexcept {
  if (timers_.empty()) return -1;
  TimeSpec64 now = monotonic_now();
  const TimeSpec64& deadline = timers_.top().deadline;
  // Far away (a timer of up to 2^64 ns, 584 years): the longest wait, not an
  // overflow of the nanoseconds below into a wait of 0 (a spin).
  const int64_t seconds = deadline.seconds - now.seconds;
  if (seconds > INT_MAX / 1000) return INT_MAX;
  int64_t ns = seconds * 1000000000 + (deadline.nanoseconds - now.nanoseconds);
  if (ns <= 0) return 0;
  int64_t ms = (ns + 999999) / 1000000;  // round up: never wake before the deadline
  return ms > INT_MAX ? INT_MAX : int(ms);
}

void EpollBackend::serve_events(int fd, uint32_t events, EventQueue& queue) noexcept {
  bool failed = events & (EPOLLERR | EPOLLHUP);
  if (events & EPOLLPRI) {
    // Urgent data (TCP) or out-of-band data (UNIX stream): a read stops
    // short at its mark with data behind it, so short reads of this socket
    // prove nothing from now on.
    fds_[fd].short_reads = kShortReadsProveNothing;
    fds_[fd].read_drained = false;
  }
  // Sticky: the end of a stream stays, and this edge is its only report.
  if (failed || (events & EPOLLRDHUP)) fds_[fd].read_ended = true;
  bool readable = (events & (EPOLLIN | EPOLLRDHUP)) || failed;
  bool writable = (events & EPOLLOUT) || failed;
  serve_directions(fd, readable, writable, queue);
}

void EpollBackend::serve_directions(int fd, bool readable, bool writable, EventQueue& queue) noexcept {
  FdState& state = fds_[fd];
  if (readable) state.read_drained = false;  // data may have come: the next receive reads
  // An event nobody waits for means the interest outlived its waiters.
  bool unwanted = (readable && state.readers.empty()) || (writable && state.writers.empty());
  uint8_t again = 0;
  if (readable && !serve_waiters(state.readers, queue)) again |= kAgainRead;
  if (writable && !serve_waiters(state.writers, queue)) again |= kAgainWrite;
  if (again != 0) mark_again(fd, again);
  // Read interest is dropped lazily (the next receive usually comes first);
  // write interest at once, since a socket is nearly always writable.
  bool stale_write = state.writers.empty() && (state.registered & EPOLLOUT);
  if (unwanted || stale_write) unwatch_idle(fd);
}

// Serves the queue in order until an operation would block. Returns false if
// it stopped with the direction perhaps still ready (a multishot budget, or
// no room in the event queue): the edge is spent, so the caller serves it
// again at the next turn.
bool EpollBackend::serve_waiters(OpList& list, EventQueue& queue) noexcept {
  while (!list.empty()) {
    if (queue.space() == 0) return false;
    Operation& op = *list.head;
    Attempt result = attempt(op, queue);
    if (result == Attempt::more) return false;
    if (result != Attempt::finished) return true;
    if (list.head == &op) list.pop();  // report() may have detached it already
    op.backend_flags &= uint8_t(~kInFdQueue);
  }
  return true;
}

// Puts fd on the again list (once) with the directions left undrained.
void EpollBackend::mark_again(int fd, uint8_t directions) noexcept {
  FdState& state = fds_[fd];
  state.again |= directions;
  if (state.in_again_list) return;
  state.in_again_list = true;
  state.again_next = -1;
  if (again_tail_ >= 0) {
    fds_[again_tail_].again_next = fd;
  } else {
    again_head_ = fd;
  }
  again_tail_ = fd;
}

// Serves the fds left undrained, as if an edge had come. The list is taken
// whole first: an fd still undrained goes on the new one, for the next turn.
void EpollBackend::serve_undrained(EventQueue& queue) noexcept {
  int32_t fd = again_head_;
  again_head_ = again_tail_ = -1;
  while (fd >= 0) {
    FdState& state = fds_[fd];
    int32_t next = state.again_next;
    uint8_t directions = state.again;
    state.in_again_list = false;
    state.again = 0;
    if (directions != 0) {  // 0: the fd was closed meanwhile
      serve_directions(fd, directions & kAgainRead, directions & kAgainWrite, queue);
    }
    fd = next;
  }
}

// ---- one operation's syscall -------------------------------------------------------

// A single receive into the caller's buffer. A UNIX stream is read with
// recvmsg(2) rather than recv(2): its msg_flags tell whether the read
// stopped at control data (MSG_CTRUNC), without which a short read proves
// the socket empty and the next receive can wait for its edge (note_read).
// So is a socket not yet asked what it is (at its first short read): its
// first short read may prove it too. TCP, once known, takes recv(2).
int32_t EpollBackend::receive(Operation& op) noexcept {
  const uint8_t proves = fds_[op.fd].short_reads;
  const bool by_message = proves == kShortReadsUnknown || proves == kShortReadsDrainUnlessTruncated;
  iovec vector{op.args.io.data, op.args.io.length};
  msghdr header{};
  header.msg_iov = &vector;
  header.msg_iovlen = 1;
  ssize_t rc;
  do {
    rc = by_message ? sys::recvmsg(op.fd, &header, MSG_DONTWAIT)
                    : sys::recv(op.fd, vector.iov_base, vector.iov_len, MSG_DONTWAIT);
  } while (rc < 0 && errno == EINTR);
  int32_t result = rc < 0 && errno == EWOULDBLOCK ? -EAGAIN : result_of(rc);
  note_read(op, result, !by_message || (header.msg_flags & MSG_CTRUNC));
  return result;
}

// A TCP read that returns fewer bytes than asked took everything queued
// (tcp_recvmsg reads on while the receive queue has data, and takes in its
// backlog first), so the next receive waits for the edge that new data
// brings and saves the read that would say EAGAIN: in a request/response
// exchange, one syscall per reply. EAGAIN says the same. A full buffer,
// EOF or an error prove nothing. Neither does a short read where the
// kernel stops before the queue is empty: not of datagrams (one message per
// read), other stream protocols (MPTCP; SCTP reads a message at a time), a
// socket with SO_RCVLOWAT above 1 (data below the mark wakes nobody), nor
// once urgent data was reported (EPOLLPRI; a read stops at its mark). A
// UNIX stream read also stops at a message carrying descriptors or
// credentials: the multishot receive reads those with recvmsg(2) and trusts
// a short read only without MSG_CTRUNC (receive_stream), and so does a
// single receive once it reads the socket with recvmsg (receive):
// `truncated` says it saw control data, or read with recv and cannot tell.
void EpollBackend::note_read(const Operation& op, int32_t result, bool truncated) noexcept {
  FdState& state = fds_[op.fd];
  bool short_read = result > 0 && uint32_t(result) < op.args.io.length;
  if (!short_read) {
    state.read_drained = result == -EAGAIN;
    return;
  }
  state.read_drained = short_read_drains(short_reads_of(op.fd, state), truncated);
}

// Asked with getsockopt at the socket's first short read (single recv) or
// first multishot read, and again after adopt() or forget().
uint8_t EpollBackend::short_reads_of(int fd, FdState& state) noexcept {
  if (state.short_reads != kShortReadsUnknown) return state.short_reads;
  auto option = [fd](int name, int& value) {
    socklen_t length = sizeof(value);
    return getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0;
  };
  int protocol = -1, type = 0, domain = 0, low_water = 0;
  uint8_t kind = kShortReadsProveNothing;
  if (option(SO_PROTOCOL, protocol) && option(SO_RCVLOWAT, low_water) && low_water <= 1) {
    if (protocol == IPPROTO_TCP) {
      kind = kShortReadsDrain;
    } else if (protocol == 0 && option(SO_TYPE, type) && type == SOCK_STREAM &&
               option(SO_DOMAIN, domain) && domain == AF_UNIX) {
      kind = kShortReadsDrainUnlessTruncated;
    }
  }
  state.short_reads = kind;
  return kind;
}

EpollBackend::Attempt EpollBackend::attempt(Operation& op, EventQueue& queue) noexcept {
  if (is_multishot(op.kind)) return attempt_multishot(op, queue);
  if (op.flags & kAwaitReady) {
    // The core waits for readiness only (a direct send): report it.
    report(op, writes(op) ? EPOLLOUT : EPOLLIN, 0, queue);
    return Attempt::finished;
  }
  int32_t result = op.kind == OpKind::recv ? receive(op) : perform(op);
  if (result == -EAGAIN) return Attempt::blocked;
  if (result == -kConnectBacklogFull) result = -EAGAIN;
  report(op, result, 0, queue);
  return Attempt::finished;
}

int32_t EpollBackend::perform(Operation& op) noexcept {
  OpArgs& a = op.args;
  ssize_t rc;
  do {
    switch (op.kind) {
      case OpKind::accept: {
        Endpoint* peer = a.accept.peer;
        if (peer != nullptr) peer->length = sizeof(peer->storage);
        rc = sys::accept4(op.fd, peer ? peer->address() : nullptr,
                          peer ? &peer->length : nullptr, kAcceptFlags);
        break;
      }
      case OpKind::connect:
        // Called again after EINPROGRESS: EALREADY while pending, EISCONN when
        // done, or the connection's error. A plain EAGAIN (a UNIX listener's
        // backlog is full) is a result, as on io_uring: poll reports an
        // unconnected UNIX socket writable at once, so waiting would spin.
        rc = sys::connect(op.fd, a.connect.peer->address(), a.connect.peer->length);
        if (rc < 0 && errno == EISCONN) rc = 0;
        if (rc < 0 && errno == EAGAIN) return -kConnectBacklogFull;
        if (rc < 0 && (errno == EINPROGRESS || errno == EALREADY)) errno = EAGAIN;
        break;
      case OpKind::send:
        rc = sys::send(op.fd, static_cast<uint8_t*>(a.message.vector.iov_base) + op.transferred,
                       a.message.vector.iov_len - op.transferred, MSG_NOSIGNAL | MSG_DONTWAIT);
        break;
      case OpKind::sendto:
      case OpKind::sendtov:
        rc = sys::sendmsg(op.fd, &a.message.header, MSG_NOSIGNAL | MSG_DONTWAIT);
        break;
      case OpKind::sendv:
        // Inside a piece after a short send: its rest alone (sendv.hpp).
        rc = in_piece(op) ? sys::send(op.fd, piece_rest(op), piece_rest_length(op),
                                      MSG_NOSIGNAL | MSG_DONTWAIT)
                          : sys::sendmsg(op.fd, &a.message.header, MSG_NOSIGNAL | MSG_DONTWAIT);
        break;
      case OpKind::recvfrom:
        a.message.header.msg_namelen = a.message.peer ? sizeof(a.message.peer->storage) : 0;
        rc = sys::recvmsg(op.fd, &a.message.header, MSG_DONTWAIT);
        break;
      case OpKind::shutdown:
        rc = ::shutdown(op.fd, a.io.how);
        break;
      default:  // nop
        rc = 0;
        break;
    }
  } while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno == EWOULDBLOCK) return -EAGAIN;
  return result_of(rc);
}

EpollBackend::Attempt EpollBackend::attempt_multishot(Operation& op, EventQueue& queue) noexcept {
  for (unsigned results = 0; results < kMultishotBudget && queue.space() > 0; ++results) {
    if (op.kind == OpKind::accept_multishot) {
      int fd;
      do {
        fd = sys::accept4(op.fd, nullptr, nullptr, kAcceptFlags);
      } while (fd < 0 && errno == EINTR);
      if (fd < 0 && errno == EAGAIN) return Attempt::armed;
      if (fd < 0) {
        report(op, -errno, 0, queue);  // ends it, as io_uring's multishot accept does
        return Attempt::finished;
      }
      report(op, fd, kEventMore, queue);
      continue;
    }
    if (op.kind == OpKind::recv_multishot) {
      // One buffer first: most reads are small, and a plain recv costs less
      // than a recvmsg with a vector. Only a full buffer asks for many.
      unsigned limit = results == 0 ? 1 : kMultishotBudget - results;
      if (__builtin_expect(lent_ != nullptr, 0)) {
        unsigned room = lend_room(op.fd);
        // At the cap: the core pauses it as it delivers what was read; until
        // then it is served again at each turn (the socket may hold data).
        if (room == 0) return Attempt::more;
        if (limit > room) limit = room;
      }
      unsigned delivered = 0;
      Attempt attempt = receive_stream(op, queue, limit, delivered);
      if (lent_ != nullptr) fds_[op.fd].lent_unseen += delivered;
      if (attempt != Attempt::blocked) return attempt;  // blocked here means "read again"
      results += delivered - 1;
      continue;
    }
    uint16_t id;
    if (!pool_->pop_free(id)) {
      report(op, -ENOBUFS, 0, queue);  // the core pauses it until buffers return
      return Attempt::finished;
    }
    int32_t result = receive_into_pool(op, id);
    if (result < 0) pool_->push_free(id);
    if (result == -EAGAIN) return Attempt::armed;
    if (result < 0) {
      report(op, result, 0, queue);
      return Attempt::finished;
    }
    report(op, result, kEventMore | kEventBuffer | (uint32_t(id) << kEventBufferShift), queue);
  }
  return Attempt::more;  // the budget or the queue ran out, not the socket's data
}

// The buffers fd may still be lent under the per-fd cap: the core's count,
// and what this turn read for it that the core has not delivered yet (a run
// delivers every event before the next turn, so nothing older is uncounted).
unsigned EpollBackend::lend_room(int fd) noexcept {
  FdState& state = fds_[fd];
  if (state.lent_turn != turn_count_) {
    state.lent_turn = turn_count_;
    state.lent_unseen = 0;
  }
  return lent_->lend_room(fd, state.lent_unseen);
}

// A stream receive reads into up to `limit` pool buffers (at most
// kStreamVector) with one recvmsg(2) and reports each filled buffer as a
// completion of its own, as io_uring's receive bundles do. Returns finished
// (EOF, an error, no buffers), armed (the socket is drained), or blocked when
// more may be waiting (every buffer was filled, or the peer's end was
// reported and must still be read): read again.
EpollBackend::Attempt EpollBackend::receive_stream(Operation& op, EventQueue& queue,
                                                   unsigned limit, unsigned& delivered) noexcept {
  uint16_t ids[kStreamVector];
  iovec vector[kStreamVector];
  uint32_t size = pool_->size_bytes();
  unsigned want = limit < kStreamVector ? limit : kStreamVector;
  if (queue.space() < want) want = queue.space();
  unsigned count = 0;
  while (count < want && pool_->pop_free(ids[count])) {
    vector[count] = iovec{pool_->data(ids[count]), size};
    ++count;
  }
  if (count == 0) {
    report(op, -ENOBUFS, 0, queue);  // the core pauses it until buffers return
    return Attempt::finished;
  }
  FdState& state = fds_[op.fd];
  const uint8_t proves = short_reads_of(op.fd, state);
  // A UNIX stream is read with recvmsg even into one buffer: its msg_flags
  // tell whether the read stopped at control data (MSG_CTRUNC).
  const bool plain = count == 1 && proves != kShortReadsDrainUnlessTruncated;
  msghdr header{};
  header.msg_iov = vector;
  header.msg_iovlen = count;
  ssize_t rc;
  do {
    rc = plain ? sys::recv(op.fd, vector[0].iov_base, size, MSG_DONTWAIT)
               : sys::recvmsg(op.fd, &header, MSG_DONTWAIT);
  } while (rc < 0 && errno == EINTR);
  int32_t result = rc >= 0 ? int32_t(rc) : (errno == EWOULDBLOCK ? -EAGAIN : -errno);
  unsigned used = result > 0 ? unsigned((uint32_t(result) + size - 1) / size) : 0;
  for (unsigned i = count; i-- > used;) pool_->push_free(ids[i]);  // the pool's order kept
  if (result == -EAGAIN) return Attempt::armed;
  if (result <= 0) {
    report(op, result, 0, queue);  // EOF or an error ends it
    return Attempt::finished;
  }
  uint32_t left = uint32_t(result);
  for (unsigned i = 0; i < used; ++i) {
    uint32_t bytes = left < size ? left : size;
    left -= bytes;
    report(op, int32_t(bytes), kEventMore | kEventBuffer | (uint32_t(ids[i]) << kEventBufferShift),
             queue);
  }
  delivered = used;
  // A short read that emptied the socket (note_read says which do): wait
  // for readiness rather than ask again. Not once the peer's end (or an
  // error) was reported: it came in the same edge as this data, no other
  // edge follows, and only another read returns it (0, or the error).
  // Otherwise read again, until EAGAIN.
  bool full = uint32_t(result) == count * size;
  bool truncated = !plain && (header.msg_flags & MSG_CTRUNC);
  bool drained = !full && !state.read_ended && short_read_drains(proves, truncated);
  return drained ? Attempt::armed : Attempt::blocked;
}

// recvfrom lays the buffer out as io_uring does: header, sender, payload.
// recvfrom(2) with MSG_TRUNC, not recvmsg(2): no msghdr and iovec to copy in
// per datagram (perf, UDP sink: ~3.5% of the server's time), and the full
// length it returns tells a truncated datagram as well as msg_flags did.
int32_t EpollBackend::receive_into_pool(Operation& op, uint16_t id) noexcept {
  uint8_t* buffer = pool_->data(id);
  const size_t capacity = pool_->size_bytes() - kRecvMsgPayloadOffset;
  auto* name = reinterpret_cast<sockaddr*>(buffer + sizeof(RecvMsgHeader));
  socklen_t name_length;
  ssize_t rc;
  do {
    name_length = kRecvMsgNameBytes;
    rc = sys::recvfrom(op.fd, buffer + kRecvMsgPayloadOffset, capacity, MSG_DONTWAIT | MSG_TRUNC,
                       name, &name_length);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  bool truncated = size_t(rc) > capacity;
  uint32_t payload = truncated ? uint32_t(capacity) : uint32_t(rc);
  auto* out = reinterpret_cast<RecvMsgHeader*>(buffer);
  *out = RecvMsgHeader{name_length, 0, payload, truncated ? uint32_t(MSG_TRUNC) : 0u};
  return int32_t(kRecvMsgPayloadOffset + payload);
}

// A socket new to the loop: its number may have been closed outside the
// loop and reused, and the kernel dropped the old registration with its
// file. Operations still queued were left by a close(2) while they were in
// flight, which the engine does not support: then nothing is reset.
void EpollBackend::adopt(int fd) noexcept {
  FdState& state = fds_[fd];
  if (!state.readers.empty() || !state.writers.empty()) return;
  // A registration the kernel still holds for this very socket (one that
  // connects again) is dropped with the record, so that it neither wakes
  // the loop for nothing nor stays unknown to it. For a number closed and
  // reused it is gone already (ENOENT). (An old file kept open by a
  // duplicate keeps its registration under the number: no call on the
  // number reaches it; its events only wake this fd's readers early.)
  if (state.added) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  reset(state);
}

// The core starts a close only when nothing else is in flight on the fd.
void EpollBackend::forget(int fd) noexcept {
  FdState& state = fds_[fd];
  if (state.added) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  reset(state);
}

// A fresh record; its place on the again list is kept (with no directions,
// so it is skipped): the list is singly linked.
void EpollBackend::reset(FdState& state) noexcept {
  bool listed = state.in_again_list;
  int32_t next = state.again_next;
  state = FdState{};
  state.in_again_list = listed;
  state.again_next = next;
}

// ---- readiness records -------------------------------------------------------------

void EpollBackend::park(Operation& op) noexcept {
  FdState& state = fds_[op.fd];
  (writes(op) ? state.writers : state.readers).push(op);
  op.backend_flags |= kInFdQueue;
  uint32_t wanted = (state.readers.empty() ? 0 : kReadInterest) |
                    (state.writers.empty() ? 0 : uint32_t(EPOLLOUT));
  int rc = watch(op.fd, wanted);
  if (rc < 0) {
    // Not pollable (or out of memory): the operation ends with the reason.
    detach(op);
    report_later(op, rc);
  }
}

// Adds interest at once; serve_events() decides when to drop it (unwatch_idle).
int EpollBackend::watch(int fd, uint32_t wanted) noexcept {
  FdState& state = fds_[fd];
  if ((wanted & ~state.registered) == 0) return 0;
  epoll_event event{};
  uint32_t registered = wanted | state.registered;
  // Adding or changing interest makes epoll look at the fd once: what is
  // ready now is reported even though no edge comes.
  event.events = registered | EPOLLET;
  event.data.fd = fd;
  int rc = epoll_ctl(epoll_fd_, state.added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event);
  bool added_again = rc < 0 && errno == ENOENT;  // closed and reused outside the loop
  if (added_again) rc = epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  if (added_again) state.short_reads = kShortReadsUnknown;  // perhaps another socket now
  if (rc < 0 && errno == EEXIST) rc = epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  if (rc < 0) return -errno;
  state.added = true;
  state.registered = registered;
  return 0;
}

// Stop watching what nobody waits for. With nothing wanted the fd leaves the
// set, since epoll reports EPOLLHUP/EPOLLERR even for an empty mask.
void EpollBackend::unwatch_idle(int fd) noexcept {
  FdState& state = fds_[fd];
  uint32_t wanted = (state.readers.empty() ? 0 : kReadInterest) |
                    (state.writers.empty() ? 0 : uint32_t(EPOLLOUT));
  if (!state.added || state.registered == wanted) return;
  if (wanted == 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    state.added = false;
  } else {
    epoll_event event{};
    event.events = wanted | EPOLLET;
    event.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  }
  state.registered = wanted;
}

// ---- results -------------------------------------------------------------------------

void EpollBackend::report(Operation& op, int32_t result, uint32_t flags,
                            EventQueue& queue) noexcept {
  if (!(flags & kEventMore) && (op.backend_flags & kInTimerHeap)) {
    timers_.remove(op);
    op.backend_flags &= uint8_t(~kInTimerHeap);
    // The core may start it again (a short send, a readiness report): its
    // slot is kept, so that restart is never refused for a full heap. The
    // terminal result gives it back (ended).
    if (op.kind != OpKind::timeout) {  // a deadline's operation: kHasDeadline
      timers_.hold();
      op.backend_flags |= kHoldsSlot;
    }
  }
  queue.push(RawEvent{encode(&op, Tag::operation), result, flags});
}

void EpollBackend::report_later(Operation& op, int32_t result) noexcept {
  op.deferred_result = result;
  done_.push(op);
}

// Takes op out of every list and the heap.
void EpollBackend::detach(Operation& op) noexcept {
  if (op.backend_flags & kInPending) pending_.remove(op);
  if (op.backend_flags & kInFdQueue) {
    FdState& state = fds_[op.fd];
    (writes(op) ? state.writers : state.readers).remove(op);
  }
  if (op.backend_flags & kInTimerHeap) timers_.remove(op);
  op.backend_flags &= uint8_t(~(kInPending | kInFdQueue | kInTimerHeap));
}

bool EpollBackend::writes(const Operation& op) noexcept {
  return is_send(op.kind) || op.kind == OpKind::connect;
}

}  // namespace ringsock::detail
