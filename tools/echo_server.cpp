#include "echo_server.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <future>

#include "echo_common.hpp"
#include "ringsock/socket.hpp"

namespace echo {

using ringsock::Completion;
using ringsock::Loop;
using ringsock::Operation;
using ringsock::RunMode;

namespace {
constexpr uint64_t kTeardownGuardNs = 5'000'000'000ull;
constexpr uint64_t kErrorsPrinted = 5;  // the rest are only counted
// Datagram sockets take a burst of connections x inflight datagrams; the
// kernel caps this at net.core.rmem_max / wmem_max, which is fine.
constexpr int kDatagramSocketBuffer = 4 << 20;
}  // namespace

struct EchoServer::Chunk {
  uint8_t* data;
  uint32_t length;
  uint16_t buffer_id;
};

struct EchoServer::StreamConn {
  EchoServer* server = nullptr;
  int fd = -1;
  bool sending = false;
  bool closing = false;
  // Ring of lent buffers waiting to go back, in arrival order. Its capacity is
  // the pool's buffer count: a connection cannot hold more buffers than exist.
  Chunk* queue = nullptr;
  uint32_t head = 0;
  uint32_t tail = 0;
  Operation recv_op;
  Operation send_op;
  Operation close_op;
};

struct EchoServer::DatagramSlot {
  EchoServer* server = nullptr;
  uint32_t index = 0;
  uint16_t buffer_id = 0;
  uint32_t length = 0;
  // The sender's address lives in the lent buffer too, but sendto wants an
  // Endpoint that outlives the operation: keep our own copy with the slot.
  ringsock::Endpoint peer;
  Operation send_op;
};

EchoServer::EchoServer() = default;

EchoServer::~EchoServer() {
  stop();
  if (fd_ >= 0) ::close(fd_);  // bound but never started
}

int EchoServer::bind(const ringsock::Endpoint& requested) {
  stream_ = requested.is_stream();
  int fd = stream_ ? ringsock::listen_on(requested) : ringsock::bind_datagram(requested);
  if (fd < 0) return fd;
  int rc = ringsock::local_endpoint(fd, requested.transport, bound_);
  if (rc < 0) {
    ::close(fd);
    return rc;
  }
  if (!stream_) ringsock::set_buffer_sizes(fd, kDatagramSocketBuffer, kDatagramSocketBuffer);
  fd_ = fd;
  return 0;
}

int EchoServer::start(uint32_t max_connections, const ringsock::LoopOptions& loop_options) {
  std::promise<int> ready;
  std::future<int> started = ready.get_future();
  // The promise moves into the thread: it must outlive its own set_value().
  thread_ = std::thread(&EchoServer::thread_main, this, max_connections, loop_options,
                        std::move(ready));
  int rc = started.get();
  if (rc < 0) thread_.join();
  return rc;
}

void EchoServer::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stop_requested_.store(true, std::memory_order_release);
    loop_.wake();  // -EINVAL if the thread already deinit()ed: harmless
  }
  thread_.join();
}

// The loop is created, run and destroyed on this thread, as ringsock requires.
void EchoServer::thread_main(uint32_t max_connections, ringsock::LoopOptions loop_options,
                             std::promise<int> ready) {
  queue_capacity_ = loop_options.buffer_count;
  allocate(max_connections);
  int rc = loop_.init(loop_options);
  if (rc < 0) failure_ = "server loop init";
  if (rc == 0) rc = arm();
  if (rc < 0) {
    loop_.deinit();
    ready.set_value(rc);
    return;
  }
  ready.set_value(0);
  while (!stop_requested_.load(std::memory_order_acquire)) {
    int n = loop_.run(RunMode::once);
    if (n < 0) {
      note_error("loop run", n);
      break;
    }
  }
  teardown();
  std::lock_guard<std::mutex> lock(wake_mutex_);
  loop_.deinit();
}

// All memory the echo path needs, taken before the first byte moves.
void EchoServer::allocate(uint32_t max_connections) {
  conn_count_ = stream_ ? max_connections : 0;
  if (stream_) {
    conns_ = std::make_unique<StreamConn[]>(max_connections);
    chunk_storage_ = std::make_unique<Chunk[]>(size_t(max_connections) * queue_capacity_);
    free_conns_.reserve(max_connections);
    for (uint32_t i = max_connections; i-- > 0;) {
      conns_[i].server = this;
      conns_[i].queue = &chunk_storage_[size_t(i) * queue_capacity_];
      free_conns_.push_back(i);
    }
    return;
  }
  // At most one datagram per pool buffer is waiting to go back.
  slot_count_ = queue_capacity_;
  slots_ = std::make_unique<DatagramSlot[]>(slot_count_);
  free_slots_.reserve(slot_count_);
  for (uint32_t i = slot_count_; i-- > 0;) {
    slots_[i].server = this;
    slots_[i].index = i;
    free_slots_.push_back(i);
  }
}

int EchoServer::arm() {
  int rc = stream_ ? loop_.accept_multishot(receive_op_, fd_, on_accept, this)
                   : loop_.recvfrom_multishot(receive_op_, fd_, on_datagram, this);
  if (rc < 0) failure_ = stream_ ? "accept_multishot" : "recvfrom_multishot";
  return rc;
}

// Close everything through the loop (cancel-safe), then wait for it, bounded.
void EchoServer::teardown() {
  shutting_down_ = true;
  if (stream_) {
    for (uint32_t i = 0; i < conn_count_; ++i) {
      if (conns_[i].fd >= 0) begin_close(conns_[i]);
    }
  }
  if (fd_ >= 0) {
    int rc = loop_.close(close_op_, fd_, on_socket_closed, this);
    if (rc < 0) note_error("close", rc);
  }
  if (!drain_loop(loop_, kTeardownGuardNs)) note_error("teardown", -ETIMEDOUT);
}

// `result` 0: the text says it all; else a negated errno.
void EchoServer::note_error(const char* what, int result) {
  if (++errors_ > kErrorsPrinted) return;
  if (result == 0) {
    fprintf(stderr, "ringsock-echo: server: %s\n", what);
  } else {
    fprintf(stderr, "ringsock-echo: server: %s: %s\n", what, error_text(result));
  }
}

// ------------------------------------------------------------------ streams

void EchoServer::on_accept(Loop&, Operation& op, const Completion& c) {
  auto* self = static_cast<EchoServer*>(op.user_data);
  if (c.result >= 0) {
    self->adopt(c.result);
  } else if (c.result != -ECANCELED) {
    // Not re-armed: a repeating accept error would spin. The run is bounded
    // anyway, and clients that were not accepted show up as errors.
    self->note_error("accept", c.result);
  }
}

void EchoServer::adopt(int fd) {
  if (shutting_down_ || free_conns_.empty()) {
    if (!shutting_down_) note_error("accept: more connections than expected", -EMFILE);
    ::close(fd);
    return;
  }
  StreamConn& conn = conns_[free_conns_.back()];
  free_conns_.pop_back();
  conn.fd = fd;
  conn.sending = conn.closing = false;
  conn.head = conn.tail = 0;
  if (bound_.transport == ringsock::Transport::tcp) ringsock::set_nodelay(fd, true);
  int rc = loop_.recv_multishot(conn.recv_op, fd, on_stream_recv, &conn);
  if (rc < 0) {
    note_error("recv_multishot", rc);
    begin_close(conn);
  }
}

void EchoServer::on_stream_recv(Loop&, Operation& op, const Completion& c) {
  auto& conn = *static_cast<StreamConn*>(op.user_data);
  EchoServer& self = *conn.server;
  if (c.has_buffer) self.enqueue(conn, c);
  if (c.more) return;
  // The receive ended: EOF (the client is done), a reset, or our own close.
  if (c.result < 0 && c.result != -ECANCELED && c.result != -ECONNRESET) {
    self.note_error("recv", c.result);
  }
  self.begin_close(conn);
}

void EchoServer::enqueue(StreamConn& conn, const Completion& c) {
  if (conn.tail - conn.head == queue_capacity_) {  // cannot happen: one entry per pool buffer
    note_error("echo queue full", -ENOBUFS);
    loop_.release_buffer(c.buffer_id);
    return;
  }
  conn.queue[conn.tail++ % queue_capacity_] = Chunk{c.data, uint32_t(c.result), c.buffer_id};
  if (!conn.sending && !conn.closing) send_front(conn);
}

// One send in flight per connection keeps the echoed bytes in order.
void EchoServer::send_front(StreamConn& conn) {
  if (conn.head == conn.tail) return;
  const Chunk& chunk = conn.queue[conn.head % queue_capacity_];
  int rc = loop_.send(conn.send_op, conn.fd, chunk.data, chunk.length, on_stream_sent, &conn);
  if (rc < 0) {
    note_error("send", rc);
    begin_close(conn);
    return;
  }
  conn.sending = true;
}

void EchoServer::on_stream_sent(Loop& loop, Operation& op, const Completion& c) {
  auto& conn = *static_cast<StreamConn*>(op.user_data);
  EchoServer& self = *conn.server;
  loop.release_buffer(conn.queue[conn.head++ % self.queue_capacity_].buffer_id);
  conn.sending = false;
  if (c.result < 0) {
    // A client that closed mid-echo (teardown) is normal; anything else is not.
    bool expected = c.result == -ECANCELED || c.result == -EPIPE || c.result == -ECONNRESET;
    if (!expected && !conn.closing) self.note_error("send", c.result);
    self.begin_close(conn);
    return;
  }
  if (!conn.closing) self.send_front(conn);
}

void EchoServer::begin_close(StreamConn& conn) {
  if (conn.closing) return;
  conn.closing = true;
  int rc = loop_.close(conn.close_op, conn.fd, on_stream_closed, &conn);
  if (rc < 0) note_error("close", rc);
}

// Every operation on the fd has ended: give back what is still queued.
void EchoServer::on_stream_closed(Loop& loop, Operation& op, const Completion& c) {
  auto& conn = *static_cast<StreamConn*>(op.user_data);
  EchoServer& self = *conn.server;
  if (c.result < 0) self.note_error("close", c.result);
  while (conn.head != conn.tail) {
    loop.release_buffer(conn.queue[conn.head++ % self.queue_capacity_].buffer_id);
  }
  conn.fd = -1;
  self.free_conns_.push_back(uint32_t(&conn - self.conns_.get()));
}

// ---------------------------------------------------------------- datagrams

void EchoServer::on_datagram(Loop& loop, Operation& op, const Completion& c) {
  auto* self = static_cast<EchoServer*>(op.user_data);
  if (c.has_buffer) self->echo_datagram(c);
  if (c.more || c.result == -ECANCELED || self->shutting_down_) return;
  self->note_error("recvfrom_multishot ended", c.result);
  int rc = loop.recvfrom_multishot(op, self->fd_, on_datagram, self);
  if (rc < 0) self->note_error("recvfrom_multishot re-arm", rc);
}

void EchoServer::echo_datagram(const Completion& c) {
  const char* refused = c.truncated           ? "datagram truncated (pool buffer too small)"
                        : c.result == 0         ? "received an empty datagram"
                        : free_slots_.empty()   ? "no free echo slot"
                                                : nullptr;
  if (refused != nullptr) {
    // Echoing an empty datagram would end the client's multishot receive.
    note_error(refused, 0);
    loop_.release_buffer(c.buffer_id);
    return;
  }
  DatagramSlot& slot = slots_[free_slots_.back()];
  int rc = ringsock::endpoint_from_sockaddr(c.peer, c.peer_length, bound_.transport, slot.peer);
  if (rc == 0) {
    rc = loop_.sendto(slot.send_op, fd_, c.data, uint32_t(c.result), &slot.peer,
                      on_datagram_sent, &slot);
  }
  if (rc < 0) {
    note_error("sendto", rc);
    loop_.release_buffer(c.buffer_id);
    return;
  }
  slot.buffer_id = c.buffer_id;
  slot.length = uint32_t(c.result);
  free_slots_.pop_back();
}

void EchoServer::on_datagram_sent(Loop& loop, Operation& op, const Completion& c) {
  auto& slot = *static_cast<DatagramSlot*>(op.user_data);
  EchoServer& self = *slot.server;
  loop.release_buffer(slot.buffer_id);
  self.free_slots_.push_back(slot.index);
  // A client that closed its socket while its last datagrams were still on
  // the way (the end of every run) refuses the reply: that is not the
  // server's failure, and the client counts any reply it misses itself.
  bool client_gone = c.result == -ECONNREFUSED || c.result == -ENOENT;
  if (c.result < 0 && c.result != -ECANCELED && !client_gone) self.note_error("sendto", c.result);
  if (c.result >= 0 && uint32_t(c.result) != slot.length) {
    self.note_error("sendto completed short (datagram cut)", 0);
  }
}

void EchoServer::on_socket_closed(Loop&, Operation& op, const Completion& c) {
  auto* self = static_cast<EchoServer*>(op.user_data);
  if (c.result < 0) self->note_error("close", c.result);
  self->fd_ = -1;
}

}  // namespace echo
