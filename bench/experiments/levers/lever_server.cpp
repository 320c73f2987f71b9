// lever_server: a raw-liburing echo/sink server whose io_uring levers are
// switched by flags, to measure each lever alone. It follows the peers'
// contract (bench/peers: `--mode echo|sink ENDPOINT...`, prints `ready`,
// counters on SIGTERM) so bench/experiments/levers/levers.py can drive it like a peer.
//
// `--threads N` runs N rings, one per thread, each with its own
// SO_REUSEPORT sockets (the peers' layout), for levers whose cost depends on
// a process having several threads (direct descriptors).
//
// TCP (echo, sink) and UDP (sink only). Every received byte is copied out of
// the provided buffer at once, so buffers go straight back to the ring and
// no lever changes how long they are held.
//
// Send modes and why each keeps the echoed bytes valid:
// - batch (default), per-chunk: one send in flight per connection from a
//   per-connection vector that nothing appends to until the send completes.
// - parallel: each chunk owns a pooled vector until its own completion.
//   Ordering is NOT guaranteed: a send that hits a full socket buffer waits
//   for POLLOUT while a later one may go inline. The client's CRC check shows
//   it if it happens; links would only order sends within one submission.
// - skip-success: at the end of a turn one send per connection with
//   MSG_DONTWAIT|MSG_WAITALL and IOSQE_CQE_SKIP_SUCCESS. MSG_DONTWAIT makes
//   the kernel mark the request NOWAIT: it is tried inline during the
//   io_uring_enter that submits it and is never parked for later, so the
//   bytes are no longer needed once that submit returns (the pending vector
//   is cleared then). A send that cannot go out whole at once fails with a
//   CQE (-EAGAIN; failure turns the skip off); the connection is then closed
//   and counted under send_errors, because part of it may have been sent.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

#include <liburing.h>

#include "buffer_ring.hpp"
#include "options.hpp"
#include "peer_common.h"
#include "uring_compat.hpp"

namespace levers {
namespace {

constexpr uint32_t kMaxConnections = 16384;  // slots, indexed by fd or direct index
constexpr unsigned kSqEntries = 256;
constexpr unsigned kCqEntries = 8192;
constexpr uint16_t kBufferGroup = 1;
constexpr uint16_t kSendGroupBase = 2;      // --send-bundle: group of slot s is 2 + s
constexpr unsigned kSendRingEntries = 256;  // receive buffers one connection may hold

enum class Kind : uint8_t { kAccept = 1, kRecv, kSend, kSendSkip, kClose, kSignal, kUdpRecv };

// user_data: kind (4 bits) | generation (12) | slot (16) | extra (32).
uint64_t tag(Kind kind, uint32_t slot, uint32_t gen, uint32_t extra = 0) {
  return (static_cast<uint64_t>(kind) << 60) | (static_cast<uint64_t>(gen & 0xfff) << 48) |
         (static_cast<uint64_t>(slot & 0xffff) << 32) | extra;
}
Kind kind_of(uint64_t t) { return static_cast<Kind>(t >> 60); }
uint32_t gen_of(uint64_t t) { return static_cast<uint32_t>(t >> 48) & 0xfff; }
uint32_t slot_of(uint64_t t) { return static_cast<uint32_t>(t >> 32) & 0xffff; }
uint32_t extra_of(uint64_t t) { return static_cast<uint32_t>(t); }

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const char* what, int err) {
  std::fprintf(stderr, "lever_server: %s: %s\n", what, std::strerror(err < 0 ? -err : err));
  std::exit(1);
}

struct Conn {
  bool open = false;
  bool reading = false;
  uint32_t gen = 0;
  int fd = -1;                   // a file descriptor, or a direct index with --direct
  uint32_t sends_inflight = 0;
  std::vector<char> pending;     // bytes received, not yet handed to a send
  std::vector<char> sending;     // bytes of the one send in flight (batch, per-chunk)
  size_t sending_off = 0;
  std::deque<uint32_t> chunk_lengths;  // per-chunk: boundaries inside `pending`
  size_t pending_off = 0;        // per-chunk: bytes of `pending` already taken
  std::vector<char> rx;          // --single-recv: the receive buffer
  bool dirty = false;            // skip-success: in the turn's flush list
  // --send-bundle: the connection's send ring (group kSendGroupBase + slot),
  // mapped at its slot's first connection and registered while it is open,
  // and the receive buffers it holds, in ring order: (buffer id, bytes).
  io_uring_buf_ring* send_ring = nullptr;
  bool send_registered = false;
  std::deque<std::pair<uint16_t, uint32_t>> held;
};

struct Stats {
  uint64_t cqes = 0, turns = 0, enters = 0, send_errors = 0, enobufs = 0, short_sends = 0;
};

class Server {
 public:
  // endpoints: this loop's sockets. stop_fd: readable once the server is to
  // stop (peer_run's, with --threads); -1: a signalfd of its own.
  Server(const Options& o, peer_config* config, peer_endpoint* endpoints, int stop_fd)
      : o_(o), config_(config), endpoints_(endpoints), stop_fd_(stop_fd) {}
  void start();
  int init_without_sq_array(io_uring_params& p);
  void run();
  void finish();
  const peer_counters& counters() const { return counters_; }
  void print_stats() const;

 private:
  io_uring_sqe* sqe();
  void queued();
  void submit_now();
  void after_submit();
  void reap();
  void dispatch(io_uring_cqe* cqe);
  void busy_poll();
  int wait_batch();
  int wait_delayed();
  void arm_due();

  void arm_accept(int listener_index);
  void arm_recv(uint32_t slot);
  void arm_udp(int endpoint_index);
  void on_accept(int listener_index, io_uring_cqe* cqe);
  void on_recv(uint32_t slot, io_uring_cqe* cqe);
  void on_send(uint32_t slot, uint32_t extra, int res);
  void on_udp(int endpoint_index, io_uring_cqe* cqe);
  void deliver(Conn& c, uint32_t slot, const char* data, uint32_t length);
  void end_chunk(Conn& c, uint32_t slot, uint32_t length);
  void send_bytes(Conn& c, uint32_t slot, const char* data, size_t length, uint32_t extra);
  void start_send(Conn& c, uint32_t slot);
  void open_send_ring(Conn& c, uint32_t slot);
  void hold_for_send(Conn& c, uint32_t bid, const char* data, uint32_t length);
  void start_bundle_send(Conn& c, uint32_t slot);
  void on_bundle_sent(Conn& c, uint32_t slot, int res);
  void close_send_ring(Conn& c, uint32_t slot);
  void flush_skip_sends();
  void maybe_close(uint32_t slot);

  Options o_;
  peer_config* config_;
  peer_endpoint* endpoints_;
  int stop_fd_;
  peer_counters counters_{};
  Stats stats_{};
  io_uring ring_{};
  BufferRing buffers_;
  std::vector<Conn> conns_;
  std::vector<uint32_t> dirty_;          // skip-success: slots with bytes for this turn
  std::vector<uint32_t> skip_submitted_; // skip-success: slots whose pending goes with the next submit
  std::vector<std::vector<char>> chunks_;  // parallel: chunk storage
  std::vector<uint32_t> free_chunks_;
  std::vector<std::vector<char>> udp_rx_;  // --single-recv on UDP
  struct Delayed {
    uint64_t due_ns;
    uint32_t slot, gen;
  };
  std::deque<Delayed> delayed_;  // --recv-delay: receives to arm, oldest first
  int signal_fd_ = -1;
  bool stop_ = false;
  bool echo_ = true;
};

// liburing 2.3 does not know IORING_SETUP_NO_SQARRAY: its
// io_uring_queue_init_params would take the array the kernel no longer has
// to be at offset 0 of the SQ ring (sq_off.array stays 0) and write the
// identity indices over the ring's head and tail. So this ring is set up by
// hand: io_uring_setup with the flag, then io_uring_queue_mmap with
// sq_off.array pointed into the CQE area of the same mapping. 2.3 never
// writes the array when it submits (its flush stores the tail only); what it
// may write there while mapping is overwritten by the kernel's first CQEs.
int Server::init_without_sq_array(io_uring_params& p) {
  p.flags |= kSetupNoSqArray;
  int fd = int(syscall(__NR_io_uring_setup, kSqEntries, &p));
  if (fd < 0) return -errno;
  if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
    close(fd);
    return -EOPNOTSUPP;
  }
  p.sq_off.array = p.cq_off.cqes;
  int ret = io_uring_queue_mmap(fd, &p, &ring_);
  if (ret < 0) {
    close(fd);
    return ret;
  }
  ring_.features = p.features;
  return 0;
}

void Server::start() {
  echo_ = config_->mode == PEER_ECHO;
  io_uring_params p{};
  p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
  p.cq_entries = kCqEntries;
  if (o_.setup == Setup::kCoop) p.flags |= IORING_SETUP_COOP_TASKRUN;
  if (o_.setup == Setup::kDefer) p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int ret = o_.no_sqarray ? init_without_sq_array(p) : io_uring_queue_init_params(kSqEntries, &ring_, &p);
  if (o_.no_sqarray && (ret == -EINVAL || ret == -EOPNOTSUPP)) {
    std::fprintf(stderr, "lever_server: this kernel has no IORING_SETUP_NO_SQARRAY (6.6)\n");
    std::exit(77);
  }
  if (ret < 0) die(o_.no_sqarray ? "io_uring_setup with IORING_SETUP_NO_SQARRAY" : "io_uring_queue_init_params", ret);
  if ((o_.bundle || o_.send_mode == SendMode::kBundle) && !(p.features & kFeatRecvSendBundle)) {
    std::fprintf(stderr, "lever_server: this kernel has no recv bundles (IORING_FEAT_RECVSEND_BUNDLE)\n");
    std::exit(77);
  }
  if (o_.register_ring_fd) {
    ret = io_uring_register_ring_fd(&ring_);
    if (ret < 0) die("io_uring_register_ring_fd", ret);
  }
  if (o_.min_wait_us && !(p.features & kFeatMinTimeout)) {
    std::fprintf(stderr, "lever_server: this kernel has no min_wait_usec (IORING_FEAT_MIN_TIMEOUT)\n");
    std::exit(77);
  }
  if (!o_.single_recv) {
    ret = buffers_.init(&ring_, kBufferGroup, o_.buffer_count, o_.buffer_size_bytes, o_.incremental);
    if (ret < 0) {
      if (o_.incremental && ret == -EINVAL) {
        std::fprintf(stderr, "lever_server: this kernel has no incremental buffer rings\n");
        std::exit(77);
      }
      die("buffer ring", ret);
    }
  }
  if (o_.direct) {
    ret = io_uring_register_files_sparse(&ring_, kMaxConnections);
    if (ret < 0) die("io_uring_register_files_sparse", ret);
  }
  conns_.resize(kMaxConnections);

  if (stop_fd_ < 0) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) die("signalfd", errno);
  }
  io_uring_sqe* s = sqe();
  io_uring_prep_poll_multishot(s, stop_fd_ >= 0 ? stop_fd_ : signal_fd_, POLLIN);
  io_uring_sqe_set_data64(s, tag(Kind::kSignal, 0, 0));
  queued();

  udp_rx_.resize(static_cast<size_t>(config_->count));
  for (int i = 0; i < config_->count; ++i) {
    const peer_endpoint& ep = endpoints_[i];
    if (ep.transport == PEER_UDP) {
      if (echo_) {
        std::fprintf(stderr, "lever_server: UDP echo is not implemented (sink only)\n");
        std::exit(2);
      }
      arm_udp(i);
    } else {
      // Accepted TCP sockets inherit TCP_NODELAY from the listener, which
      // also covers direct descriptors (no fd to call setsockopt on).
      if (ep.transport == PEER_TCP) {
        int one = 1;
        setsockopt(ep.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
      arm_accept(i);
    }
  }
  submit_now();
}

io_uring_sqe* Server::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  while (s == nullptr) {  // the SQ is full: flush it and try again
    submit_now();
    s = io_uring_get_sqe(&ring_);
  }
  return s;
}

void Server::queued() {
  if (o_.submit_each) submit_now();
}

void Server::submit_now() {
  int ret;
  do {
    ret = io_uring_submit(&ring_);
  } while (ret == -EINTR);
  ++stats_.enters;
  if (ret < 0) die("io_uring_submit", ret);
  after_submit();
}

// Everything prepared so far has been through io_uring_enter: skip-success
// sends (MSG_DONTWAIT) have copied their bytes or failed.
void Server::after_submit() {
  for (uint32_t slot : skip_submitted_) conns_[slot].pending.clear();
  skip_submitted_.clear();
}

void Server::arm_accept(int i) {
  io_uring_sqe* s = sqe();
  if (o_.direct) {
    io_uring_prep_multishot_accept_direct(s, endpoints_[i].fd, nullptr, nullptr, 0);
  } else {
    io_uring_prep_multishot_accept(s, endpoints_[i].fd, nullptr, nullptr, 0);
  }
  io_uring_sqe_set_data64(s, tag(Kind::kAccept, static_cast<uint32_t>(i), 0));
  queued();
}

void Server::arm_recv(uint32_t slot) {
  Conn& c = conns_[slot];
  io_uring_sqe* s = sqe();
  if (o_.single_recv) {
    io_uring_prep_recv(s, c.fd, c.rx.data(), c.rx.size(), 0);
  } else {
    io_uring_prep_recv_multishot(s, c.fd, nullptr, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = buffers_.group();
    if (o_.bundle) s->ioprio |= kRecvSendBundle;
  }
  if (o_.direct) s->flags |= IOSQE_FIXED_FILE;
  io_uring_sqe_set_data64(s, tag(Kind::kRecv, slot, c.gen));
  queued();
}

void Server::arm_udp(int i) {
  int fd = endpoints_[i].fd;
  io_uring_sqe* s = sqe();
  if (o_.single_recv) {
    std::vector<char>& rx = udp_rx_[static_cast<size_t>(i)];
    if (rx.empty()) rx.resize(PEER_BUFFER_SIZE);
    io_uring_prep_recv(s, fd, rx.data(), rx.size(), 0);
  } else {
    // One datagram per completion; bundles do not apply to datagrams.
    io_uring_prep_recv_multishot(s, fd, nullptr, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = buffers_.group();
  }
  io_uring_sqe_set_data64(s, tag(Kind::kUdpRecv, static_cast<uint32_t>(i), 0));
  queued();
}

void Server::run() {
  if (stop_fd_ < 0) {
    peer_ready();
  } else {
    peer_loop_ready();
  }
  while (!stop_) {
    ++stats_.turns;
    if (o_.busy_poll_us && !io_uring_cq_ready(&ring_)) busy_poll();
    if (!o_.busy_poll_us || !io_uring_cq_ready(&ring_)) {
      int ret = o_.min_wait_us      ? wait_batch()
                : o_.recv_delay_us ? wait_delayed()
                                   : io_uring_submit_and_wait(&ring_, 1);
      ++stats_.enters;
      if (ret < 0 && ret != -EINTR && ret != -ETIME) die("io_uring_submit_and_wait", ret);
      after_submit();
    }
    reap();
    if (!o_.single_recv) buffers_.publish();
    if (o_.send_mode == SendMode::kSkip) flush_skip_sends();
  }
}

// Submits what is queued, then asks the kernel for completions without
// sleeping (io_uring_get_events runs deferred task work) until one shows or
// the budget is spent.
void Server::busy_poll() {
  submit_now();
  uint64_t deadline = now_ns() + static_cast<uint64_t>(o_.busy_poll_us) * 1000u;
  while (!io_uring_cq_ready(&ring_)) {
    io_uring_get_events(&ring_);
    ++stats_.enters;
    if (now_ns() >= deadline) break;
  }
}

// --min-wait: submit, then wait for wait_nr CQEs, or for min_wait_us and
// any CQE (liburing 2.3 has no helper: the wait is an io_uring_enter of our
// own, with min_wait_usec in the getevents argument's former `pad`).
int Server::wait_batch() {
  int ret = io_uring_submit(&ring_);
  ++stats_.enters;
  if (ret < 0) return ret;
  io_uring_getevents_arg arg{};
  arg.sigmask_sz = _NSIG / 8;
  arg.pad = o_.min_wait_us;  // min_wait_usec since 6.12
  unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
  int fd = ring_.ring_fd;
  if (o_.register_ring_fd) {
    flags |= IORING_ENTER_REGISTERED_RING;
    fd = ring_.enter_ring_fd;
  }
  ret = static_cast<int>(syscall(__NR_io_uring_enter, fd, 0, o_.wait_nr, flags, &arg, sizeof arg));
  return ret < 0 ? -errno : ret;
}

// --recv-delay: the receives whose delay is over go in; the wait ends when
// the next one is due, if no completion ends it first.
void Server::arm_due() {
  uint64_t now = now_ns();
  while (!delayed_.empty() && delayed_.front().due_ns <= now) {
    Delayed d = delayed_.front();
    delayed_.pop_front();
    const Conn& c = conns_[d.slot];
    if (c.open && c.reading && c.gen == d.gen) arm_recv(d.slot);  // not a reused slot
  }
}

int Server::wait_delayed() {
  arm_due();
  if (delayed_.empty()) return io_uring_submit_and_wait(&ring_, 1);
  uint64_t due = delayed_.front().due_ns;
  uint64_t left = due - std::min(due, now_ns());
  __kernel_timespec ts{int64_t(left / 1000000000u), int64_t(left % 1000000000u)};
  io_uring_cqe* cqe = nullptr;
  int ret = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  arm_due();
  return ret;
}

void Server::reap() {
  unsigned head;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    dispatch(cqe);
    ++seen;
  }
  io_uring_cq_advance(&ring_, seen);
  stats_.cqes += seen;
}

void Server::dispatch(io_uring_cqe* cqe) {
  uint64_t t = cqe->user_data;
  uint32_t slot = slot_of(t);
  switch (kind_of(t)) {
    case Kind::kSignal:
      stop_ = true;
      return;
    case Kind::kAccept:
      on_accept(static_cast<int>(slot), cqe);
      return;
    case Kind::kUdpRecv:
      on_udp(static_cast<int>(slot), cqe);
      return;
    case Kind::kClose:
      return;
    case Kind::kRecv:
      if (conns_[slot].open && conns_[slot].gen % 4096 == gen_of(t)) {
        on_recv(slot, cqe);
      } else if (!o_.single_recv) {
        buffers_.consume(cqe->flags, cqe->res, [](const char*, uint32_t) {});
      }
      return;
    case Kind::kSend:
      if (conns_[slot].open && conns_[slot].gen % 4096 == gen_of(t)) on_send(slot, extra_of(t), cqe->res);
      return;
    case Kind::kSendSkip:  // only failures arrive here
      if (stats_.send_errors++ < 3) {
        std::fprintf(stderr, "lever_server: skip-success send failed: %d (%s)\n", cqe->res,
                     cqe->res < 0 ? std::strerror(-cqe->res) : "short");
      }
      if (conns_[slot].open && conns_[slot].gen % 4096 == gen_of(t)) {
        Conn& c = conns_[slot];
        c.pending.clear();
        // Part of the stream may be lost: end the connection (the multishot
        // recv then ends and the slot closes).
        io_uring_sqe* s = sqe();
        io_uring_prep_shutdown(s, c.fd, SHUT_RDWR);
        if (o_.direct) s->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(s, tag(Kind::kClose, slot, c.gen));
        queued();
      }
      return;
  }
}

void Server::on_accept(int i, io_uring_cqe* cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) arm_accept(i);
  if (cqe->res < 0) {
    if (!peer_accept_should_pause(-cqe->res)) {
      std::fprintf(stderr, "lever_server: accept: %s\n", std::strerror(-cqe->res));
    }
    return;
  }
  uint32_t slot = static_cast<uint32_t>(cqe->res);
  if (slot >= kMaxConnections) {  // only possible without --direct
    close(cqe->res);
    return;
  }
  Conn& c = conns_[slot];
  c.open = true;
  c.reading = true;
  c.fd = cqe->res;
  c.sends_inflight = 0;
  c.pending.clear();
  c.sending.clear();
  c.sending_off = 0;
  c.pending_off = 0;
  c.chunk_lengths.clear();
  c.dirty = false;
  if (o_.single_recv && c.rx.empty()) c.rx.resize(o_.buffer_size_bytes);
  if (o_.send_mode == SendMode::kBundle && echo_) open_send_ring(c, slot);
  ++counters_.connections;
  arm_recv(slot);
}

void Server::on_recv(uint32_t slot, io_uring_cqe* cqe) {
  Conn& c = conns_[slot];
  int res = cqe->res;
  if (res > 0) {
    ++counters_.messages_in;
    counters_.bytes_in += static_cast<uint64_t>(res);
    if (o_.single_recv) {
      deliver(c, slot, c.rx.data(), static_cast<uint32_t>(res));
    } else if (o_.send_mode == SendMode::kBundle && echo_) {
      buffers_.hold(cqe->flags, res, [&](uint32_t bid, const char* d, uint32_t n) {
        hold_for_send(c, bid, d, n);
      });
    } else {
      buffers_.consume(cqe->flags, res,
                       [&](const char* d, uint32_t n) { deliver(c, slot, d, n); });
    }
    end_chunk(c, slot, static_cast<uint32_t>(res));
    // --recv-after-send: the next recv goes in once the reply is out (Asio's
    // read, write, read), unless no send started (sink).
    bool later = o_.recv_after_send && echo_ && c.sends_inflight > 0;
    if (!later && (o_.single_recv || !(cqe->flags & IORING_CQE_F_MORE))) arm_recv(slot);
    return;
  }
  if (!o_.single_recv) buffers_.consume(cqe->flags, res, [](const char*, uint32_t) {});
  if (res == -ENOBUFS) {  // the ring ran dry; the buffers are back after this turn
    ++stats_.enobufs;
    if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(slot);
    return;
  }
  if (cqe->flags & IORING_CQE_F_MORE) return;
  c.reading = false;  // end of stream or an error: close once sends are done
  maybe_close(slot);
}

void Server::deliver(Conn& c, uint32_t slot, const char* data, uint32_t n) {
  if (!echo_) return;
  if (o_.send_mode == SendMode::kParallel) {
    if (c.pending.empty()) c.pending.reserve(o_.buffer_size_bytes);
    c.pending.insert(c.pending.end(), data, data + n);  // the chunk, sent by end_chunk
    return;
  }
  c.pending.insert(c.pending.end(), data, data + n);
  (void)slot;
}

void Server::end_chunk(Conn& c, uint32_t slot, uint32_t n) {
  if (!echo_) return;
  counters_.bytes_out += n;
  switch (o_.send_mode) {
    case SendMode::kBatch:
      if (c.sends_inflight == 0) start_send(c, slot);
      return;
    case SendMode::kPerChunk:
      c.chunk_lengths.push_back(n);
      if (c.sends_inflight == 0) start_send(c, slot);
      return;
    case SendMode::kBundle:
      if (c.sends_inflight == 0) start_bundle_send(c, slot);
      return;
    case SendMode::kSkip:
      if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(slot);
      }
      return;
    case SendMode::kParallel: {
      uint32_t id;
      if (free_chunks_.empty()) {
        id = static_cast<uint32_t>(chunks_.size());
        chunks_.emplace_back();
      } else {
        id = free_chunks_.back();
        free_chunks_.pop_back();
      }
      chunks_[id].swap(c.pending);  // the chunk now owns the bytes
      c.pending.clear();
      send_bytes(c, slot, chunks_[id].data(), chunks_[id].size(), id);
      return;
    }
  }
}

void Server::send_bytes(Conn& c, uint32_t slot, const char* data, size_t n, uint32_t extra) {
  io_uring_sqe* s = sqe();
  io_uring_prep_send(s, c.fd, data, n, MSG_NOSIGNAL);
  if (o_.direct) s->flags |= IOSQE_FIXED_FILE;
  io_uring_sqe_set_data64(s, tag(Kind::kSend, slot, c.gen, extra));
  ++c.sends_inflight;
  queued();
}

// Batch: everything pending goes out as one send. Per-chunk: the oldest chunk.
void Server::start_send(Conn& c, uint32_t slot) {
  if (o_.send_mode == SendMode::kBatch) {
    if (c.pending.empty()) return;
    c.sending.swap(c.pending);
    c.pending.clear();
  } else {
    if (c.chunk_lengths.empty()) return;
    uint32_t n = c.chunk_lengths.front();
    c.chunk_lengths.pop_front();
    c.sending.assign(c.pending.begin() + static_cast<long>(c.pending_off),
                     c.pending.begin() + static_cast<long>(c.pending_off + n));
    c.pending_off += n;
    if (c.pending_off == c.pending.size()) {
      c.pending.clear();
      c.pending_off = 0;
    } else if (c.pending_off >= 65536) {  // keep the taken front from growing without bound
      c.pending.erase(c.pending.begin(), c.pending.begin() + static_cast<long>(c.pending_off));
      c.pending_off = 0;
    }
  }
  c.sending_off = 0;
  send_bytes(c, slot, c.sending.data(), c.sending.size(), 0);
}

// --send-bundle. Each connection has a provided-buffer ring of its own for
// sends. What a receive brings stays in the shared receive buffers: their
// addresses go into the connection's send ring in order, and one send with
// IOSQE_BUFFER_SELECT and IORING_RECVSEND_BUNDLE (6.10) takes every entry
// there. MSG_WAITALL makes the kernel finish a short send itself, so a
// completion covers whole entries; their buffers then go back to the
// receive ring. Compared with the default (batch), this saves the copy into
// the connection's pending bytes and costs a ring registration per
// connection and the kernel's buffer selection per send.
void Server::open_send_ring(Conn& c, uint32_t slot) {
  if (c.send_ring == nullptr) {  // mapped once per slot, kept for its next connections
    void* mem = mmap(nullptr, kSendRingEntries * sizeof(io_uring_buf), PROT_READ | PROT_WRITE,
                     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) die("mmap (send ring)", errno);
    c.send_ring = static_cast<io_uring_buf_ring*>(mem);
  }
  io_uring_buf_ring_init(c.send_ring);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(c.send_ring);
  reg.ring_entries = kSendRingEntries;
  reg.bgid = static_cast<uint16_t>(kSendGroupBase + slot);
  int ret = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (ret < 0) die("io_uring_register_buf_ring (send ring)", ret);
  c.send_registered = true;
  c.held.clear();
}

void Server::hold_for_send(Conn& c, uint32_t bid, const char* data, uint32_t n) {
  if (c.held.size() >= kSendRingEntries) die("--send-bundle: a connection's send ring is full", ENOSPC);
  io_uring_buf_ring_add(c.send_ring, const_cast<char*>(data), n, static_cast<unsigned short>(bid),
                        io_uring_buf_ring_mask(kSendRingEntries), 0);
  io_uring_buf_ring_advance(c.send_ring, 1);
  c.held.emplace_back(static_cast<uint16_t>(bid), n);
}

void Server::start_bundle_send(Conn& c, uint32_t slot) {
  if (c.held.empty()) return;
  io_uring_sqe* s = sqe();
  io_uring_prep_send(s, c.fd, nullptr, 0, MSG_NOSIGNAL | MSG_WAITALL);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = static_cast<uint16_t>(kSendGroupBase + slot);
  s->ioprio |= kRecvSendBundle;
  io_uring_sqe_set_data64(s, tag(Kind::kSend, slot, c.gen));
  ++c.sends_inflight;
  queued();
}

void Server::on_bundle_sent(Conn& c, uint32_t slot, int res) {
  if (res < 0) {
    if (stats_.send_errors++ < 3) {
      std::fprintf(stderr, "lever_server: bundle send failed: %s\n", std::strerror(-res));
    }
    return;  // the held buffers go back when the connection closes
  }
  uint32_t left = static_cast<uint32_t>(res);
  while (left > 0) {
    if (c.held.empty() || c.held.front().second > left) {
      die("--send-bundle: a send ended inside a buffer", EPROTO);
    }
    left -= c.held.front().second;
    buffers_.give_back(c.held.front().first);
    c.held.pop_front();
  }
  if (c.reading) start_bundle_send(c, slot);
}

void Server::close_send_ring(Conn& c, uint32_t slot) {
  io_uring_unregister_buf_ring(&ring_, static_cast<int>(kSendGroupBase + slot));
  for (const auto& h : c.held) buffers_.give_back(h.first);
  c.held.clear();
  c.send_registered = false;
}

void Server::on_send(uint32_t slot, uint32_t extra, int res) {
  Conn& c = conns_[slot];
  --c.sends_inflight;
  if (o_.send_mode == SendMode::kBundle) {
    on_bundle_sent(c, slot, res);
    return maybe_close(slot);
  }
  if (o_.send_mode == SendMode::kParallel) {
    std::vector<char>& chunk = chunks_[extra];
    if (res > 0 && static_cast<size_t>(res) < chunk.size()) {  // the rest, as a new chunk
      ++stats_.short_sends;
      chunk.erase(chunk.begin(), chunk.begin() + res);
      send_bytes(c, slot, chunk.data(), chunk.size(), extra);
      return;
    }
    chunk.clear();
    free_chunks_.push_back(extra);
  } else if (res > 0 && c.sending_off + static_cast<size_t>(res) < c.sending.size()) {
    ++stats_.short_sends;
    c.sending_off += static_cast<size_t>(res);
    send_bytes(c, slot, c.sending.data() + c.sending_off, c.sending.size() - c.sending_off, 0);
    return;
  } else if (res >= 0) {
    c.sending.clear();
    if (c.reading) start_send(c, slot);
    if (o_.recv_after_send && c.reading && c.sends_inflight == 0) {
      if (o_.recv_delay_us) {
        delayed_.push_back({now_ns() + uint64_t(o_.recv_delay_us) * 1000u, slot, c.gen});
      } else {
        arm_recv(slot);
      }
    }
  }
  if (res < 0) {
    if (stats_.send_errors++ < 3) {
      std::fprintf(stderr, "lever_server: send failed: %s\n", std::strerror(-res));
    }
    c.pending.clear();
    c.chunk_lengths.clear();
    c.pending_off = 0;
  }
  maybe_close(slot);
}

// Skip-success: one send per connection that received this turn, straight
// from `pending`, which stays untouched until the submit that carries it.
void Server::flush_skip_sends() {
  for (uint32_t slot : dirty_) {
    Conn& c = conns_[slot];
    c.dirty = false;
    if (!c.open || c.pending.empty()) continue;
    io_uring_sqe* s = sqe();
    io_uring_prep_send(s, c.fd, c.pending.data(), c.pending.size(),
                       MSG_NOSIGNAL | MSG_DONTWAIT | MSG_WAITALL);
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;
    if (o_.direct) s->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s, tag(Kind::kSendSkip, slot, c.gen));
    skip_submitted_.push_back(slot);
    queued();
  }
  dirty_.clear();
}

void Server::maybe_close(uint32_t slot) {
  Conn& c = conns_[slot];
  if (!c.open || c.reading || c.sends_inflight > 0) return;
  c.open = false;
  ++c.gen;  // completions still on their way for the old connection are ignored
  c.pending.clear();
  c.sending.clear();
  c.chunk_lengths.clear();
  c.pending_off = 0;
  if (c.send_registered) close_send_ring(c, slot);
  if (o_.direct) {
    io_uring_sqe* s = sqe();
    io_uring_prep_close_direct(s, static_cast<unsigned>(c.fd));
    io_uring_sqe_set_data64(s, tag(Kind::kClose, slot, c.gen));
    queued();
  } else {
    close(c.fd);
  }
  c.fd = -1;
}

void Server::on_udp(int i, io_uring_cqe* cqe) {
  int res = cqe->res;
  if (res >= 0) {
    ++counters_.messages_in;
    counters_.bytes_in += static_cast<uint64_t>(res);
  }
  if (!o_.single_recv) {
    buffers_.consume(cqe->flags, res, [](const char*, uint32_t) {});
    if (res == -ENOBUFS) ++stats_.enobufs;
    if (!(cqe->flags & IORING_CQE_F_MORE)) arm_udp(i);
  } else {
    arm_udp(i);
  }
}

void Server::finish() {
  peer_finish(config_, endpoints_, &counters_);
  print_stats();
}

void Server::print_stats() const {
  std::printf("levers: cqes %" PRIu64 ", turns %" PRIu64 ", enters %" PRIu64
              ", send_errors %" PRIu64 ", short_sends %" PRIu64 ", enobufs %" PRIu64 "\n",
              stats_.cqes, stats_.turns, stats_.enters, stats_.send_errors, stats_.short_sends,
              stats_.enobufs);
  std::fflush(stdout);
}

}  // namespace
}  // namespace levers

int main(int argc, char** argv) {
  levers::Options options;
  std::vector<char*> rest = levers::parse_levers(argc, argv, &options);
  peer_config config;
  peer_parse_args(static_cast<int>(rest.size()) - 1, rest.data(), &config);
  static levers::Options thread_options;
  static peer_config* thread_config;
  if (config.threads != 1) {
    // One ring per thread, each with its own SO_REUSEPORT sockets (a UNIX
    // listener is shared): the peers' --threads layout.
    thread_options = options;
    thread_config = &config;
    levers::print_levers(options);
    return peer_run(&config, 0, [](peer_thread* t) {
      levers::Server server(thread_options, thread_config, t->endpoints, t->stop_fd);
      server.start();
      server.run();
      t->counters = server.counters();
      server.print_stats();
    });
  }
  peer_setup_process();
  peer_endpoint opened[PEER_MAX_ENDPOINTS];
  peer_open_endpoints(&config, opened, 0, nullptr);
  std::copy(opened, opened + config.count, config.endpoints);
  levers::print_levers(options);
  levers::Server server(options, &config, config.endpoints, -1);
  server.start();
  server.run();
  server.finish();
  return 0;
}
