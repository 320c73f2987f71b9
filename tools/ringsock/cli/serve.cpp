#include "serve.hpp"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <new>

#include "ringsock/socket.hpp"
#include "sockperf.hpp"
#include "stale_socket.hpp"

namespace ringsock_cli {

using ringsock::Completion;
using ringsock::Endpoint;
using ringsock::Loop;
using ringsock::Operation;
using ringsock::RunMode;
using ringsock::Transport;

namespace {
constexpr uint64_t kTeardownGuardNs = 3'000'000'000ull;
constexpr int kDatagramSocketBuffer = 4 << 20;

// Lazily committed memory: a pool sized for every connection costs only the
// pages connections actually touch.
// Address space for per-connection buffers, touched only by connections that
// happen. nullptr when it cannot be had (a 32-bit process asking for GiBs).
uint8_t* map_lazy(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
}

bool is_unix(const Endpoint& ep) {
  return ep.transport == Transport::unix_stream || ep.transport == Transport::unix_dgram;
}
}  // namespace

const char* error_kind_name(int kind) noexcept {
  static const char* const names[kErrorKinds] = {"accept",  "recv",    "send",     "close",
                                                 "no-slot", "backlog", "protocol", "truncated"};
  return kind >= 0 && kind < kErrorKinds ? names[kind] : "?";
}

void Counters::add(const Counters& o) noexcept {
  accepted += o.accepted;
  messages_in += o.messages_in;
  bytes_in += o.bytes_in;
  messages_out += o.messages_out;
  bytes_out += o.bytes_out;
  for (int i = 0; i < kErrorKinds; ++i) errors[i] += o.errors[i];
}

// How long to wait before accepting again after an accept error (EMFILE...).
constexpr uint64_t kAcceptRetryNs = 50'000'000;

// ------------------------------------------------------------------ state

// A lent pool buffer waiting to be echoed, indexed by its buffer id: a buffer
// is lent to one connection at a time, so the worker keeps one record per
// pool buffer and each connection chains its own through `next`. A
// connection then costs no queue memory of its own, idle or not.
constexpr uint16_t kNoChunk = 0xFFFF;  // buffer ids stop at 32767
struct Chunk {
  uint8_t* data = nullptr;
  uint32_t length = 0;
  uint16_t next = kNoChunk;
};

struct Listener {
  struct Worker::Impl* impl = nullptr;
  Endpoint bound;
  int fd = -1;
  bool stream = true;
  Operation receive_op;  // accept_multishot or recvfrom_multishot
  Operation retry_op;    // the pause before accepting again after an error
  Operation close_op;
  Counters counters;
};

struct Conn {
  struct Worker::Impl* impl = nullptr;
  Listener* listener = nullptr;
  int fd = -1;
  bool sending = false;
  bool closing = false;
  // The client ended its side (EOF): the replies still queued go out, then
  // the connection closes. Closing at once would cut them off.
  bool client_done = false;
  // Echo: the lent buffers waiting to be sent, oldest first (buffer ids).
  uint16_t first_chunk = kNoChunk;
  uint16_t last_chunk = kNoChunk;
  sockperf::Reassembler framer;  // sockperf: the partial request
  uint8_t* out = nullptr;        // sockperf: replies; [0, out_sending) is on the wire
  uint32_t out_sending = 0;
  uint32_t out_length = 0;
  uint32_t out_messages = 0;          // replies in `out`
  uint32_t out_sending_messages = 0;  // of them, on the wire
  Operation recv_op;
  Operation send_op;
  Operation close_op;
};

// --dispatch handoff: a connection on its way from thread 0, which accepted
// it, to the thread that serves it (Loop::post_to, the fd as the value). The
// record then goes back to thread 0's pool by a post of its own.
struct Handoff {
  struct Worker::Impl* home = nullptr;    // thread 0's: its pool holds the record
  struct Worker::Impl* target = nullptr;  // the thread that serves the connection
  uint32_t listener = 0;
  uint32_t index = 0;
  Operation op;
};

struct Slot {  // one datagram reply in flight
  struct Worker::Impl* impl = nullptr;
  Listener* listener = nullptr;
  uint32_t index = 0;
  uint16_t buffer_id = 0;
  uint32_t length = 0;
  Endpoint peer;  // sendto needs an address that outlives the operation
  Operation send_op;
};

struct Worker::Impl {
  const ServeArgs& args;
  Loop loop;
  Listener listeners[kMaxEndpoints];
  bool shutting_down = false;
  std::unique_ptr<Conn[]> conns;
  uint32_t conn_count = 0;
  std::unique_ptr<uint32_t[]> free_conns;
  uint32_t free_conn_top = 0;
  std::unique_ptr<Slot[]> slots;
  std::unique_ptr<uint32_t[]> free_slots;
  uint32_t free_slot_top = 0;
  std::unique_ptr<Chunk[]> chunks;  // echo: one per pool buffer
  uint8_t* lazy = nullptr;  // sockperf buffers, mmap'ed
  size_t lazy_bytes = 0;
  // --dispatch handoff: the workers connections go to in turn (thread 0's
  // only), and the records of connections on their way.
  std::unique_ptr<Impl*[]> peers;
  uint32_t peer_count = 0;
  uint32_t next_peer = 0;
  std::unique_ptr<Handoff[]> handoffs;
  std::unique_ptr<uint32_t[]> free_handoffs;
  uint32_t free_handoff_top = 0;
  // --direct: closes of connections accepted with no slot to serve them,
  // which only the loop can close (a direct descriptor is no fd); those
  // that find all eight busy wait here (at most one per table slot). A
  // close that fails counts as a close error of the listener it came from.
  struct Reject {
    int fd = -1;
    Listener* listener = nullptr;
  };
  static constexpr uint32_t kRejectOps = 8;
  Operation reject_ops[kRejectOps];
  Listener* reject_listeners[kRejectOps] = {};
  std::unique_ptr<Reject[]> waiting_rejects;
  uint32_t waiting_reject_count = 0;

  explicit Impl(const ServeArgs& a) : args(a) {}
  ~Impl() {
    if (lazy != nullptr) munmap(lazy, lazy_bytes);
  }
  // Room for the replies of a partial message and one whole pool buffer
  // behind it (the most one chunk can complete), and never less than two
  // of the largest message.
  uint32_t out_capacity() const {
    uint32_t one_chunk = args.max_message + args.buffer_size;
    return one_chunk > 2 * args.max_message ? one_chunk : 2 * args.max_message;
  }

  int allocate(bool any_stream);
  int arm();
  void teardown();
  void count_error(Listener& l, int kind) { ++l.counters.errors[kind]; }

  static void on_accept(Loop&, Operation& op, const Completion& c);
  static void on_accept_retry(Loop&, Operation& op, const Completion& c);
  void dispatch(Listener& l, int fd);
  static void on_handed(Loop&, Operation& op, const Completion& c);
  static void on_handoff_back(Loop&, Operation& op, const Completion& c);
  void adopt(Listener& l, int fd);
  void reject(Listener& l, int fd);
  bool close_rejected(Operation& op, const Reject& r);
  static void on_rejected(Loop&, Operation& op, const Completion& c);
  static void on_recv(Loop&, Operation& op, const Completion& c);
  void on_chunk(Conn& conn, const Completion& c);
  void echo_chunk(Conn& conn, const Completion& c);
  void push_chunk(Conn& conn, const Completion& c);
  uint16_t pop_chunk(Conn& conn);
  bool sockperf_chunk(Conn& conn, const Completion& c);
  void frame_sockperf(Conn& conn, const uint8_t* data, uint32_t length);
  void drain_held_sockperf(Conn& conn);
  static bool queue_reply(void* context, uint8_t* message, uint32_t length);
  void send_next(Conn& conn);
  static void on_sent(Loop&, Operation& op, const Completion& c);
  void sent_echo(Conn& conn);
  void sent_sockperf(Conn& conn);
  void begin_close(Conn& conn);
  static void on_closed(Loop&, Operation& op, const Completion& c);

  static void on_datagram(Loop&, Operation& op, const Completion& c);
  void handle_datagram(Listener& l, const Completion& c);
  void reply_datagram(Listener& l, const Completion& c);
  static void on_datagram_sent(Loop&, Operation& op, const Completion& c);
  static void on_listener_closed(Loop&, Operation& op, const Completion& c);
};

// All memory of the message path, taken before the loop runs.
int Worker::Impl::allocate(bool any_stream) {
  uint32_t buffers = args.buffers;
  bool sockperf_mode = args.mode == ServeMode::sockperf;
  conn_count = any_stream ? args.max_connections : 0;
  size_t framing_bytes = sockperf_mode ? size_t(args.max_message) + out_capacity() : 0;
  double wanted = double(conn_count) * double(framing_bytes);
  if (wanted > double(SIZE_MAX) / 2) return -ENOMEM;
  lazy_bytes = size_t(wanted);
  lazy = map_lazy(lazy_bytes);
  if (lazy == nullptr && lazy_bytes > 0) {
    lazy_bytes = 0;
    return -ENOMEM;
  }
  conns = std::make_unique<Conn[]>(conn_count);
  free_conns = std::make_unique<uint32_t[]>(conn_count);
  uint8_t* cursor = lazy;
  for (uint32_t i = 0; i < conn_count; ++i) {
    Conn& conn = conns[i];
    conn.impl = this;
    if (sockperf_mode) {
      conn.framer = sockperf::Reassembler(cursor, args.max_message);
      conn.out = cursor + args.max_message;
      cursor += framing_bytes;
    }
    free_conns[free_conn_top++] = conn_count - 1 - i;
  }
  if (peer_count > 1) {
    // Connections on their way at once; more are closed and counted (no-slot).
    uint32_t count = args.max_connections < 16384 ? args.max_connections : 16384;
    handoffs = std::make_unique<Handoff[]>(count);
    free_handoffs = std::make_unique<uint32_t[]>(count);
    for (uint32_t i = 0; i < count; ++i) {
      handoffs[i].home = this;
      handoffs[i].index = i;
      free_handoffs[free_handoff_top++] = i;
    }
  }
  if (args.direct) waiting_rejects = std::make_unique<Reject[]>(args.max_connections);
  chunks = std::make_unique<Chunk[]>(buffers);
  // At most one datagram reply per pool buffer can be waiting.
  slots = std::make_unique<Slot[]>(buffers);
  free_slots = std::make_unique<uint32_t[]>(buffers);
  for (uint32_t i = 0; i < buffers; ++i) {
    slots[i].impl = this;
    slots[i].index = i;
    free_slots[free_slot_top++] = i;
  }
  return 0;
}

int Worker::Impl::arm() {
  for (Listener& l : listeners) {
    if (l.fd < 0) continue;
    l.impl = this;
    int rc = l.stream ? loop.accept_multishot(l.receive_op, l.fd, on_accept, &l)
                      : loop.recvfrom_multishot(l.receive_op, l.fd, on_datagram, &l);
    if (rc < 0) return rc;
  }
  return 0;
}

// ------------------------------------------------------------------ streams

void Worker::Impl::on_accept(Loop&, Operation& op, const Completion& c) {
  auto& l = *static_cast<Listener*>(op.user_data);
  Impl& self = *l.impl;
  if (c.result >= 0) {
    self.dispatch(l, c.result);
    return;
  }
  if (c.result == -ECANCELED || self.shutting_down) return;
  self.count_error(l, kErrAccept);
  // Out of fds and the like: keep serving the connections we have, and try
  // again after a pause - at once would spin while the error lasts.
  if (!c.more) self.loop.timeout(l.retry_op, kAcceptRetryNs, on_accept_retry, &l);
}

void Worker::Impl::on_accept_retry(Loop&, Operation& op, const Completion& c) {
  auto& l = *static_cast<Listener*>(op.user_data);
  Impl& self = *l.impl;
  if (c.result < 0 || self.shutting_down) return;
  if (self.loop.accept_multishot(l.receive_op, l.fd, on_accept, &l) < 0) {
    self.count_error(l, kErrAccept);
    self.loop.timeout(l.retry_op, kAcceptRetryNs, on_accept_retry, &l);
  }
}

// Thread 0 with --dispatch handoff: the next thread in turn serves the
// connection, this one included. Without a record or a post it is closed.
void Worker::Impl::dispatch(Listener& l, int fd) {
  if (peer_count <= 1) return adopt(l, fd);
  Impl* target = peers[next_peer];
  next_peer = next_peer + 1 == peer_count ? 0 : next_peer + 1;
  if (target == this) return adopt(l, fd);
  if (shutting_down || free_handoff_top == 0) {
    if (!shutting_down) count_error(l, kErrNoSlot);
    ::close(fd);
    return;
  }
  Handoff& h = handoffs[free_handoffs[--free_handoff_top]];
  h.target = target;
  h.listener = uint32_t(&l - listeners);
  if (loop.post_to(target->loop, h.op, uint64_t(fd), on_handed, &h) < 0) {
    free_handoffs[free_handoff_top++] = h.index;
    count_error(l, kErrAccept);  // the thread is closing: only at shutdown
    ::close(fd);
  }
}

// On the serving thread (or, should the kernel fail the message, back on
// thread 0 with its error; and at a closing loop's deinit with -ECANCELED):
// serve the fd, or close it; then the record goes home.
void Worker::Impl::on_handed(Loop& loop, Operation& op, const Completion& c) {
  auto& h = *static_cast<Handoff*>(op.user_data);
  int fd = int(op.post_value());
  if (c.result == 0) {
    h.target->adopt(h.target->listeners[h.listener], fd);
    if (loop.post_to(h.home->loop, op, 0, on_handoff_back, &h) == 0) return;
  } else {
    ::close(fd);
  }
  // Thread 0 is closing, or this loop is: a post from any thread reaches it
  // while it still runs; else the record is not needed any more.
  h.home->loop.post(op, 0, on_handoff_back, &h);
}

void Worker::Impl::on_handoff_back(Loop&, Operation& op, const Completion&) {
  auto& h = *static_cast<Handoff*>(op.user_data);
  h.home->free_handoffs[h.home->free_handoff_top++] = h.index;
}

// A direct descriptor (--direct) goes back through the loop; at shutdown
// the ring's end closes it. With a table slot per connection slot this is
// rare: only a connection accepted between a close and its callback finds
// no connection slot. Should all eight closes be running, the descriptor
// waits for the next of them to end.
void Worker::Impl::reject(Listener& l, int fd) {
  if (!ringsock::is_direct_descriptor(fd)) {
    ::close(fd);
    return;
  }
  if (shutting_down) return;
  for (Operation& op : reject_ops) {
    if (!op.in_flight()) {
      close_rejected(op, Reject{fd, &l});
      return;
    }
  }
  // Each waiting descriptor holds a table slot, and there are
  // max_connections of those: the array never fills (were it full, the
  // descriptor would stay open to the loop's end, counted).
  if (waiting_reject_count == args.max_connections) return count_error(l, kErrClose);
  waiting_rejects[waiting_reject_count++] = Reject{fd, &l};
}

// Starts op's close of r; false (counted) if the loop refused it.
bool Worker::Impl::close_rejected(Operation& op, const Reject& r) {
  reject_listeners[&op - reject_ops] = r.listener;
  if (loop.close(op, r.fd, on_rejected, this) == 0) return true;
  count_error(*r.listener, kErrClose);
  return false;
}

void Worker::Impl::on_rejected(Loop&, Operation& op, const Completion& c) {
  Impl& self = *static_cast<Impl*>(op.user_data);
  if (c.result < 0) self.count_error(*self.reject_listeners[&op - self.reject_ops], kErrClose);
  while (self.waiting_reject_count > 0 && !self.shutting_down) {
    if (self.close_rejected(op, self.waiting_rejects[--self.waiting_reject_count])) return;
  }
}

void Worker::Impl::adopt(Listener& l, int fd) {
  if (shutting_down || free_conn_top == 0) {
    if (!shutting_down) count_error(l, kErrNoSlot);
    reject(l, fd);
    return;
  }
  Conn& conn = conns[free_conns[--free_conn_top]];
  ++l.counters.accepted;
  conn.listener = &l;
  conn.fd = fd;
  conn.sending = conn.closing = conn.client_done = false;
  conn.first_chunk = conn.last_chunk = kNoChunk;
  conn.out_sending = conn.out_length = 0;
  conn.out_messages = conn.out_sending_messages = 0;
  conn.framer.reset();
  if (loop.recv_multishot(conn.recv_op, fd, on_recv, &conn) < 0) {
    count_error(l, kErrRecv);
    begin_close(conn);
  }
}

void Worker::Impl::on_recv(Loop&, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Conn*>(op.user_data);
  Impl& self = *conn.impl;
  if (c.has_buffer) self.on_chunk(conn, c);
  if (c.more) return;
  // EOF: the client is done sending (it may have only half-closed and still
  // read): its replies go out first, then on_sent closes.
  if (c.result == 0 && !conn.closing) {
    conn.client_done = true;
    if (!conn.sending) self.begin_close(conn);
    return;
  }
  // A reset, an error, or our own close.
  bool expected = c.result >= 0 || c.result == -ECANCELED || c.result == -ECONNRESET;
  if (!expected) self.count_error(*conn.listener, kErrRecv);
  self.begin_close(conn);
}

void Worker::Impl::on_chunk(Conn& conn, const Completion& c) {
  Counters& counters = conn.listener->counters;
  if (args.mode == ServeMode::echo && !conn.closing) return echo_chunk(conn, c);
  if (args.mode == ServeMode::sockperf && !conn.closing && sockperf_chunk(conn, c)) return;
  if (args.mode == ServeMode::sink) {
    ++counters.messages_in;
    counters.bytes_in += uint32_t(c.result);
  }
  loop.release_buffer(c.buffer_id);
}

void Worker::Impl::echo_chunk(Conn& conn, const Completion& c) {
  ++conn.listener->counters.messages_in;
  conn.listener->counters.bytes_in += uint32_t(c.result);
  push_chunk(conn, c);
  if (!conn.sending) send_next(conn);
}

void Worker::Impl::push_chunk(Conn& conn, const Completion& c) {
  Chunk& chunk = chunks[c.buffer_id];
  chunk = Chunk{c.data, uint32_t(c.result), kNoChunk};
  if (conn.last_chunk == kNoChunk) conn.first_chunk = c.buffer_id;
  else chunks[conn.last_chunk].next = c.buffer_id;
  conn.last_chunk = c.buffer_id;
}

// The oldest chunk's buffer id, unlinked (the caller releases the buffer).
uint16_t Worker::Impl::pop_chunk(Conn& conn) {
  uint16_t id = conn.first_chunk;
  conn.first_chunk = chunks[id].next;
  if (conn.first_chunk == kNoChunk) conn.last_chunk = kNoChunk;
  return id;
}

// A chunk is framed now if its replies surely fit beside those waiting to
// go out (they are at most the bytes of the partial message and the chunk);
// else it is held, its buffer lent on, until a send makes room. Held buffers
// count against the loop's per-connection cap, as echo's do, so a client
// that does not read its replies stops being read: none is dropped.
// Returns true when the chunk is held (its buffer is not given back).
bool Worker::Impl::sockperf_chunk(Conn& conn, const Completion& c) {
  conn.listener->counters.bytes_in += uint32_t(c.result);
  uint64_t worst = uint64_t(conn.out_length) + conn.framer.pending() + uint32_t(c.result);
  if (conn.first_chunk != kNoChunk || worst > out_capacity()) {
    push_chunk(conn, c);
    return true;
  }
  frame_sockperf(conn, c.data, uint32_t(c.result));
  if (!conn.sending && !conn.closing) send_next(conn);
  return false;
}

void Worker::Impl::frame_sockperf(Conn& conn, const uint8_t* data, uint32_t length) {
  auto status = conn.framer.feed(data, length, queue_reply, &conn);
  if (status == sockperf::Reassembler::Status::bad_length) {
    count_error(*conn.listener, kErrProtocol);  // the framing is lost: drop the client
    begin_close(conn);
  }
}

// After a send: the held chunks that now fit are framed, in order.
void Worker::Impl::drain_held_sockperf(Conn& conn) {
  while (conn.first_chunk != kNoChunk && !conn.closing) {
    const Chunk& chunk = chunks[conn.first_chunk];
    uint64_t worst = uint64_t(conn.out_length) + conn.framer.pending() + chunk.length;
    if (worst > out_capacity()) return;
    frame_sockperf(conn, chunk.data, chunk.length);
    loop.release_buffer(pop_chunk(conn));
  }
}

// A whole request: its reply (if PONG) goes after the replies already waiting.
bool Worker::Impl::queue_reply(void* context, uint8_t* message, uint32_t length) {
  auto& conn = *static_cast<Conn*>(context);
  Counters& counters = conn.listener->counters;
  ++counters.messages_in;
  if (!sockperf::make_reply(message)) return true;
  if (conn.out_length + length > conn.impl->out_capacity()) {
    // Never, since sockperf_chunk frames only what fits: counted, not grown.
    ++counters.errors[kErrBacklog];
    return true;
  }
  std::memcpy(conn.out + conn.out_length, message, length);
  conn.out_length += length;
  ++conn.out_messages;
  return true;
}

// One send in flight per connection keeps the bytes in order.
void Worker::Impl::send_next(Conn& conn) {
  const void* data = nullptr;
  uint32_t length = 0;
  if (args.mode == ServeMode::echo && conn.first_chunk != kNoChunk) {
    const Chunk& chunk = chunks[conn.first_chunk];
    data = chunk.data;
    length = chunk.length;
  } else if (args.mode == ServeMode::sockperf && conn.out_length > 0) {
    data = conn.out;
    length = conn.out_sending = conn.out_length;
    conn.out_sending_messages = conn.out_messages;
  }
  if (length == 0) return;
  if (loop.send(conn.send_op, conn.fd, data, length, on_sent, &conn) < 0) {
    count_error(*conn.listener, kErrSend);
    begin_close(conn);
    return;
  }
  conn.sending = true;
}

void Worker::Impl::on_sent(Loop&, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Conn*>(op.user_data);
  Impl& self = *conn.impl;
  conn.sending = false;
  if (c.result >= 0) {
    conn.listener->counters.bytes_out += uint32_t(c.result);
    conn.listener->counters.messages_out +=
        self.args.mode == ServeMode::echo ? 1 : conn.out_sending_messages;
  }
  if (self.args.mode == ServeMode::echo) self.sent_echo(conn);
  else self.sent_sockperf(conn);
  if (c.result < 0) {
    // A client that went away mid-reply is normal; anything else is counted.
    bool gone = c.result == -ECANCELED || c.result == -EPIPE || c.result == -ECONNRESET;
    if (!gone) self.count_error(*conn.listener, kErrSend);
    self.begin_close(conn);
    return;
  }
  if (!conn.closing) self.send_next(conn);
  // Nothing left to send to a client that has ended its side: done.
  if (conn.client_done && !conn.sending) self.begin_close(conn);
}

void Worker::Impl::sent_echo(Conn& conn) {
  loop.release_buffer(pop_chunk(conn));
}

void Worker::Impl::sent_sockperf(Conn& conn) {
  uint32_t rest = conn.out_length - conn.out_sending;
  std::memmove(conn.out, conn.out + conn.out_sending, rest);
  conn.out_length = rest;
  conn.out_sending = 0;
  conn.out_messages -= conn.out_sending_messages;
  conn.out_sending_messages = 0;
  drain_held_sockperf(conn);
}

void Worker::Impl::begin_close(Conn& conn) {
  if (conn.closing) return;
  conn.closing = true;
  if (loop.close(conn.close_op, conn.fd, on_closed, &conn) < 0) {
    count_error(*conn.listener, kErrClose);
  }
}

// Every operation on the fd has ended: give back what is still queued.
void Worker::Impl::on_closed(Loop& loop, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Conn*>(op.user_data);
  Impl& self = *conn.impl;
  if (c.result < 0) self.count_error(*conn.listener, kErrClose);
  while (conn.first_chunk != kNoChunk) loop.release_buffer(self.pop_chunk(conn));
  conn.fd = -1;
  self.free_conns[self.free_conn_top++] = uint32_t(&conn - self.conns.get());
}

// ---------------------------------------------------------------- datagrams

void Worker::Impl::on_datagram(Loop& loop, Operation& op, const Completion& c) {
  auto& l = *static_cast<Listener*>(op.user_data);
  Impl& self = *l.impl;
  if (c.has_buffer) self.handle_datagram(l, c);
  if (c.more || c.result == -ECANCELED || self.shutting_down) return;
  if (c.result < 0) self.count_error(l, kErrRecv);
  if (loop.recvfrom_multishot(op, l.fd, on_datagram, &l) < 0) self.count_error(l, kErrRecv);
}

void Worker::Impl::handle_datagram(Listener& l, const Completion& c) {
  ++l.counters.messages_in;
  l.counters.bytes_in += uint32_t(c.result);
  int refused = c.truncated ? kErrTruncated : -1;
  bool reply = args.mode == ServeMode::echo && c.result > 0;  // an empty echo would end a client's receive
  if (args.mode == ServeMode::sockperf && refused < 0) {
    bool whole = uint32_t(c.result) >= sockperf::kHeaderBytes &&
                 sockperf::decode(c.data).length == uint32_t(c.result);
    if (!whole) refused = kErrProtocol;
    reply = whole && sockperf::make_reply(c.data);
  }
  if (refused < 0 && reply && free_slot_top == 0) refused = kErrNoSlot;
  if (refused >= 0) count_error(l, refused);
  if (refused >= 0 || !reply) {
    loop.release_buffer(c.buffer_id);
    return;
  }
  reply_datagram(l, c);
}

void Worker::Impl::reply_datagram(Listener& l, const Completion& c) {
  Slot& slot = slots[free_slots[free_slot_top - 1]];
  int rc = ringsock::endpoint_from_sockaddr(c.peer, c.peer_length, l.bound.transport, slot.peer);
  if (rc == 0) {
    rc = loop.sendto(slot.send_op, l.fd, c.data, uint32_t(c.result), &slot.peer,
                     on_datagram_sent, &slot);
  }
  if (rc < 0) {
    count_error(l, kErrSend);
    loop.release_buffer(c.buffer_id);
    return;
  }
  --free_slot_top;
  slot.listener = &l;
  slot.buffer_id = c.buffer_id;
  slot.length = uint32_t(c.result);
}

void Worker::Impl::on_datagram_sent(Loop& loop, Operation& op, const Completion& c) {
  auto& slot = *static_cast<Slot*>(op.user_data);
  Impl& self = *slot.impl;
  Counters& counters = slot.listener->counters;
  loop.release_buffer(slot.buffer_id);
  self.free_slots[self.free_slot_top++] = slot.index;
  if (c.result >= 0) {
    ++counters.messages_out;
    counters.bytes_out += uint32_t(c.result);
    return;
  }
  // A client that closed before its reply arrived refuses it: not our failure.
  bool gone = c.result == -ECANCELED || c.result == -ECONNREFUSED || c.result == -ENOENT;
  if (!gone) self.count_error(*slot.listener, kErrSend);
}

void Worker::Impl::on_listener_closed(Loop&, Operation& op, const Completion& c) {
  auto& l = *static_cast<Listener*>(op.user_data);
  if (c.result < 0) l.impl->count_error(l, kErrClose);
  l.fd = -1;
}

// -------------------------------------------------------------- shutdown

namespace {
struct Guard {
  Operation op;
  bool fired = false;
};
void on_guard(Loop&, Operation& op, const Completion& c) {
  if (c.result == 0) static_cast<Guard*>(op.user_data)->fired = true;
}
}  // namespace

// Close everything through the loop (cancel-safe), then wait for it, bounded:
// run(until_done) alone could wait forever on an operation that never ends.
void Worker::Impl::teardown() {
  shutting_down = true;
  for (uint32_t i = 0; i < conn_count; ++i) {
    if (conns[i].fd >= 0) begin_close(conns[i]);
  }
  for (Listener& l : listeners) {
    if (l.retry_op.in_flight()) loop.cancel(l.retry_op);
    if (l.fd >= 0 && loop.close(l.close_op, l.fd, on_listener_closed, &l) < 0) ::close(l.fd);
  }
  Guard guard;
  if (loop.timeout(guard.op, kTeardownGuardNs, on_guard, &guard) < 0) return;
  while (!guard.fired && loop.active() > 1) {
    if (loop.run(RunMode::once) < 0) return;
  }
  if (!guard.fired) loop.cancel(guard.op);
  while (guard.op.in_flight()) {
    if (loop.run(RunMode::once) < 0) return;
  }
}

// ------------------------------------------------------------------ Worker

Worker::Worker(const ServeArgs& args, uint32_t index)
    : impl_(std::make_unique<Impl>(args)), args_(args), index_(index) {}

Worker::~Worker() {
  stop();
  for (Listener& l : impl_->listeners) {
    if (l.fd >= 0) ::close(l.fd);  // bound but never started
  }
}

const Endpoint& Worker::bound(uint32_t i) const { return impl_->listeners[i].bound; }
bool Worker::serves(uint32_t i) const { return impl_->listeners[i].bound.length != 0; }
const Counters& Worker::counters(uint32_t i) const { return impl_->listeners[i].counters; }

void Worker::set_peers(const std::vector<std::unique_ptr<Worker>>& workers) {
  if (args_.dispatch != Dispatch::handoff || index_ != 0 || workers.size() < 2) return;
  impl_->peer_count = uint32_t(workers.size());
  impl_->peers = std::make_unique<Impl*[]>(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) impl_->peers[i] = workers[i]->impl_.get();
}

int Worker::bind_all(const Worker* first, uint32_t& failed) {
  bool handoff = args_.dispatch == Dispatch::handoff && args_.threads > 1;
  for (uint32_t i = 0; i < args_.endpoint_count; ++i) {
    const Endpoint& want = first != nullptr ? first->bound(i) : args_.endpoints[i];
    if (index_ > 0 && handoff && want.is_stream()) {
      // Served here, accepted by thread 0: no socket of its own.
      Listener& l = impl_->listeners[i];
      l.bound = want;
      l.stream = true;
      l.impl = impl_.get();
      continue;
    }
    if (index_ > 0 && is_unix(want)) continue;  // SO_REUSEPORT is refused on UNIX sockets
    bool share = args_.threads > 1 && !is_unix(want) && !(handoff && want.is_stream());
    ringsock::ListenOptions options;
    options.reuse_port = share;
    // A load that opens thousands of connections at once overflows a short
    // accept queue: the kernel then drops handshakes and the client retries
    // a second later. The kernel caps this at net.core.somaxconn.
    options.backlog = 65535;
    if (args_.unlink_stale) {
      if (int rc = remove_stale_socket_file(want); rc < 0) {
        failed = i;
        return rc;
      }
    }
    int fd = want.is_stream() ? ringsock::listen_on(want, options)
                              : ringsock::bind_datagram(want, share);
    Listener& l = impl_->listeners[i];
    if (fd >= 0) {
      l.fd = fd;
      l.stream = want.is_stream();
      fd = ringsock::local_endpoint(fd, want.transport, l.bound);
    }
    if (fd < 0) {
      failed = i;
      return fd;
    }
    if (!l.stream) ringsock::set_buffer_sizes(l.fd, kDatagramSocketBuffer, kDatagramSocketBuffer);
    // Accepted sockets inherit it (Linux): no setsockopt per connection,
    // which a direct descriptor (--direct) would not take anyway.
    if (want.transport == Transport::tcp) ringsock::set_nodelay(l.fd, true);
  }
  return 0;
}

int Worker::start() {
  std::atomic<int> ready{1};  // 1 = not yet; then 0 or -errno
  thread_ = std::thread(&Worker::thread_main, this, &ready);
  while (ready.load(std::memory_order_acquire) == 1) std::this_thread::yield();
  int rc = ready.load();
  if (rc < 0) thread_.join();
  return rc;
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stop_requested_.store(true, std::memory_order_release);
    impl_->loop.wake();
  }
  thread_.join();
}

// The loop is created, run and destroyed on this thread, as ringsock requires.
void Worker::thread_main(std::atomic<int>* ready) {
  Impl& impl = *impl_;
  bool any_stream = false;
  // A stream endpoint this thread serves: its own socket, or thread 0's hand-offs.
  for (const Listener& l : impl.listeners) any_stream |= l.stream && l.bound.length != 0;
  if (impl.allocate(any_stream) < 0) {
    snprintf(reason_, sizeof reason_,
             "cannot reserve the buffers of %u connections: lower --max-connections "
             "(or --max-message in sockperf mode)", args_.max_connections);
    ready->store(-ENOMEM, std::memory_order_release);
    return;
  }
  ringsock::LoopOptions options;
  options.backend = args_.backend;
  options.buffer_count = args_.buffers;
  options.buffer_size = args_.buffer_size;
  options.busy_poll_us = args_.busy_poll_us;
  options.batch_wait_us = args_.batch_wait_us;
  // Echo holds each received buffer until its bytes have gone back out, and
  // sockperf mode holds those whose replies do not fit its out buffer: a
  // client that does not read its replies would borrow the whole pool, and an
  // empty pool pauses every connection of the loop. The loop's own cap is
  // exact (on io_uring a capped stream receive takes one buffer per arming);
  // a cancel from here came too late, since one multishot burst (a bundle
  // of up to 256 buffers, or the kernel's retries) could take the pool
  // before the first callback. The other modes give each buffer back at once,
  // and so does a loop of datagram sockets alone: a datagram's echo goes out
  // whether or not its client reads, and the cap would only bound how many
  // replies one socket has in flight.
  if ((args_.mode == ServeMode::echo || args_.mode == ServeMode::sockperf) && any_stream) {
    options.max_lent_per_fd = args_.max_lent;
  }
  options.zero_copy_min_bytes = args_.zero_copy_bytes;
  if (args_.direct) options.direct_descriptors = args_.max_connections;
  int rc = impl.loop.init(options);
  snprintf(reason_, sizeof reason_, "%s", impl.loop.backend_reason());
  if (rc == 0) {
    direct_descriptors_ = impl.loop.capabilities().direct_descriptors;
    backend_ = impl.loop.backend();
  }
  if (rc == 0 && (rc = impl.arm()) < 0) {
    snprintf(reason_, sizeof reason_, "arming the listeners: %s", strerror(-rc));
  }
  if (rc < 0) {
    impl.loop.deinit();
    ready->store(rc, std::memory_order_release);
    return;
  }
  ready->store(0, std::memory_order_release);  // `ready` dies once start() sees this
  while (!stop_requested_.load(std::memory_order_acquire)) {
    int n = impl.loop.run(RunMode::once);
    if (n < 0) {
      snprintf(reason_, sizeof reason_, "loop run: %s", strerror(-n));
      run_failed_ = true;
      kill(getpid(), SIGTERM);  // main waits for a signal: make it end the run
      break;
    }
    // Both change only inside a turn: after it they are exact until the next.
    open_connections_.store(impl.conn_count - impl.free_conn_top, std::memory_order_relaxed);
    buffers_lent_.store(impl.loop.buffers_lent(), std::memory_order_relaxed);
  }
  impl.teardown();
  std::lock_guard<std::mutex> lock(wake_mutex_);
  impl.loop.deinit();
}

uint64_t raise_fd_limit() noexcept {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

}  // namespace ringsock_cli
