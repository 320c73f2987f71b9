#include "echo_client.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ringsock/socket.hpp"

namespace echo {

using ringsock::Completion;
using ringsock::Loop;
using ringsock::Operation;
using ringsock::RunMode;

namespace {
constexpr uint64_t kConnectTimeoutNs = 5'000'000'000ull;
constexpr uint64_t kTeardownGuardNs = 5'000'000'000ull;
constexpr uint64_t kErrorsPrinted = 5;  // the rest are only counted
constexpr int kDatagramSocketBuffer = 4 << 20;
}  // namespace

struct EchoClient::DatagramSlot {
  Conn* conn = nullptr;
  uint8_t* data = nullptr;
  Operation send_op;
};

struct EchoClient::Conn {
  EchoClient* client = nullptr;
  uint32_t index = 0;
  int fd = -1;
  bool connected = false;
  bool failed = false;   // stop using it; counted once
  bool closing = false;
  uint64_t next_sequence = 0;      // of the next message sent
  uint64_t expected_sequence = 0;  // of the next reply (streams keep order)
  // Streams: messages are staged into one buffer while the other is being
  // sent, so there is one send in flight and the byte stream stays in order.
  // Each buffer holds `inflight` messages, the most that can be outstanding.
  uint8_t* staging[2] = {nullptr, nullptr};
  uint32_t staged = 0;  // bytes in staging[filling]
  uint8_t filling = 0;
  bool sending = false;
  uint8_t* assembly = nullptr;  // a reply split across receives
  uint32_t assembled = 0;
  // Datagrams: one send per message, each from a slot of its own.
  DatagramSlot* slots = nullptr;
  uint32_t* free_slots = nullptr;
  uint32_t free_count = 0;
  uint32_t owed = 0;  // replies whose follow-up waits for a free slot
  Operation connect_op;
  Operation recv_op;
  Operation send_op;
  Operation close_op;
};

EchoClient::EchoClient(Loop& loop, const ClientConfig& config, LatencyHistogram& latency)
    : loop_(loop),
      config_(config),
      latency_(latency),
      codec_(config.size),
      stream_(config.server.is_stream()) {}

EchoClient::~EchoClient() = default;

ClientResult EchoClient::run() {
  allocate();
  connect_all();
  if (connected_ > 0) measure();
  teardown();
  ClientResult result;
  result.replies = replies_;
  result.errors = errors_;
  result.seconds = end_ns_ > start_ns_ ? double(end_ns_ - start_ns_) / 1e9 : 0;
  return result;
}

// Carves every buffer out of one arena, before the first message.
void EchoClient::allocate() {
  const uint32_t n = config_.connections;
  const size_t window = size_t(config_.inflight) * config_.size;
  conns_ = std::make_unique<Conn[]>(n);
  size_t per_conn = stream_ ? 2 * window + config_.size : window;
  arena_.assign(per_conn * n, 0);
  if (!stream_) {
    slots_ = std::make_unique<DatagramSlot[]>(size_t(n) * config_.inflight);
    free_ids_ = std::make_unique<uint32_t[]>(size_t(n) * config_.inflight);
  }
  for (uint32_t i = 0; i < n; ++i) {
    Conn& conn = conns_[i];
    conn.client = this;
    conn.index = i;
    uint8_t* base = arena_.data() + per_conn * i;
    if (stream_) {
      conn.staging[0] = base;
      conn.staging[1] = base + window;
      conn.assembly = base + 2 * window;
      continue;
    }
    conn.slots = &slots_[size_t(i) * config_.inflight];
    conn.free_slots = &free_ids_[size_t(i) * config_.inflight];
    for (uint32_t s = 0; s < config_.inflight; ++s) {
      conn.slots[s].conn = &conn;
      conn.slots[s].data = base + size_t(s) * config_.size;
      conn.free_slots[conn.free_count++] = s;
    }
  }
}

// ------------------------------------------------------------------- set-up

void EchoClient::connect_all() {
  for (uint32_t i = 0; i < config_.connections; ++i) {
    if (stream_) {
      open_stream(conns_[i]);
    } else {
      open_datagram(conns_[i]);
    }
  }
  // Stream connects finish on the loop; each has a deadline, so this ends.
  while (connecting_ > 0) {
    int n = loop_.run(RunMode::once);
    if (n < 0) {
      note_error("loop run", 0, n);
      return;
    }
  }
}

void EchoClient::open_stream(Conn& conn) {
  int fd = ringsock::open_socket(config_.server);
  if (fd < 0) return fail(conn, "socket", fd);
  conn.fd = fd;
  conn.connect_op.timeout_ns = kConnectTimeoutNs;
  int rc = loop_.connect(conn.connect_op, fd, config_.server, on_connected, &conn);
  if (rc < 0) return fail(conn, "connect", rc);
  ++connecting_;
}

void EchoClient::open_datagram(Conn& conn) {
  // A connected datagram socket: replies from anyone but the server are
  // filtered by the kernel, and plain send/recv need no address.
  int fd = ringsock::connect_datagram(config_.server);
  if (fd < 0) return fail(conn, "connect_datagram", fd);
  conn.fd = fd;
  ringsock::set_buffer_sizes(fd, kDatagramSocketBuffer, kDatagramSocketBuffer);
  start_receiving(conn);
}

void EchoClient::on_connected(Loop&, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Conn*>(op.user_data);
  EchoClient& self = *conn.client;
  --self.connecting_;
  if (c.result < 0) return self.fail(conn, "connect", c.result);
  if (self.config_.server.transport == ringsock::Transport::tcp) {
    ringsock::set_nodelay(conn.fd, true);  // ping-pong: Nagle would add 40 ms stalls
  }
  self.start_receiving(conn);
}

void EchoClient::start_receiving(Conn& conn) {
  auto* callback = stream_ ? on_stream_recv : on_datagram_recv;
  int rc = loop_.recv_multishot(conn.recv_op, conn.fd, callback, &conn);
  if (rc < 0) return fail(conn, "recv_multishot", rc);
  conn.connected = true;
  ++connected_;
}

// ---------------------------------------------------------------- measuring

void EchoClient::measure() {
  start_ns_ = now_ns();
  measuring_ = true;
  int rc = loop_.timeout(timer_op_, config_.duration_ns, on_timer, this);
  if (rc < 0) {
    note_error("timeout", 0, rc);
    finish();
    return;
  }
  for (uint32_t i = 0; i < config_.connections; ++i) {
    for (uint32_t m = 0; m < config_.inflight && conns_[i].connected; ++m) issue(conns_[i]);
  }
  while (!done_) {
    int n = loop_.run(RunMode::once);
    if (n < 0) {
      note_error("loop run", 0, n);
      finish();
    }
  }
}

void EchoClient::finish() {
  if (done_) return;
  end_ns_ = now_ns();
  measuring_ = false;
  done_ = true;
  loop_.stop();
}

void EchoClient::on_timer(Loop&, Operation& op, const Completion& c) {
  if (c.result == 0) static_cast<EchoClient*>(op.user_data)->finish();
}

void EchoClient::teardown() {
  measuring_ = false;
  if (timer_op_.in_flight()) loop_.cancel(timer_op_);
  for (uint32_t i = 0; i < config_.connections; ++i) {
    Conn& conn = conns_[i];
    if (conn.fd < 0) continue;
    conn.closing = true;
    int rc = loop_.close(conn.close_op, conn.fd, on_closed, &conn);
    if (rc < 0) note_error("close", i, rc);
  }
  if (!drain_loop(loop_, kTeardownGuardNs)) note_error("teardown", 0, -ETIMEDOUT);
}

void EchoClient::on_closed(Loop&, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Conn*>(op.user_data);
  if (c.result < 0) conn.client->note_error("close", conn.index, c.result);
  conn.fd = -1;
}

// ------------------------------------------------------------------ sending

// One new message; the count limit reserves it here so it is never exceeded.
void EchoClient::issue(Conn& conn) {
  if (!measuring_ || conn.failed || conn.closing) return;
  if (config_.count != 0 && issued_ >= config_.count) return;
  ++issued_;
  if (stream_) {
    stage_stream(conn);
  } else {
    send_datagram(conn);
  }
}

void EchoClient::stage_stream(Conn& conn) {
  codec_.write(conn.staging[conn.filling] + conn.staged, conn.index, conn.next_sequence++,
               now_ns());
  conn.staged += config_.size;
  if (!conn.sending) flush_stream(conn);
}

void EchoClient::flush_stream(Conn& conn) {
  if (conn.staged == 0 || conn.failed || conn.closing) return;  // closing: nobody waits for it
  uint8_t* data = conn.staging[conn.filling];
  uint32_t length = conn.staged;
  conn.filling ^= 1;
  conn.staged = 0;
  int rc = loop_.send(conn.send_op, conn.fd, data, length, on_stream_sent, &conn);
  if (rc < 0) return fail(conn, "send", rc);
  conn.sending = true;
}

void EchoClient::on_stream_sent(Loop&, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Conn*>(op.user_data);
  EchoClient& self = *conn.client;
  conn.sending = false;
  if (c.result < 0) {
    if (!conn.closing) self.fail(conn, "send", c.result);
    return;
  }
  self.flush_stream(conn);
}

void EchoClient::send_datagram(Conn& conn) {
  if (conn.free_count == 0) {  // the previous send from this slot has not completed yet
    ++conn.owed;
    return;
  }
  uint32_t index = conn.free_slots[--conn.free_count];
  DatagramSlot& slot = conn.slots[index];
  codec_.write(slot.data, conn.index, conn.next_sequence++, now_ns());
  int rc = loop_.send(slot.send_op, conn.fd, slot.data, config_.size, on_datagram_sent, &slot);
  if (rc < 0) {
    conn.free_slots[conn.free_count++] = index;
    fail(conn, "send", rc);
  }
}

void EchoClient::on_datagram_sent(Loop&, Operation& op, const Completion& c) {
  auto& slot = *static_cast<DatagramSlot*>(op.user_data);
  Conn& conn = *slot.conn;
  EchoClient& self = *conn.client;
  conn.free_slots[conn.free_count++] = uint32_t(&slot - conn.slots);
  if (conn.closing) return;
  if (c.result != int32_t(self.config_.size)) {
    // The datagram is lost (or went out cut short: no reply will match it).
    // Count it and put a new message in its place so the window stays full.
    self.note_error(c.result < 0 ? "send" : "send completed short (datagram cut)", conn.index,
                    c.result < 0 ? c.result : 0);
    --self.issued_;
    self.issue(conn);
    return;
  }
  if (conn.owed > 0 && self.measuring_ && !conn.failed) {
    --conn.owed;
    self.send_datagram(conn);
  }
}

// ---------------------------------------------------------------- receiving

void EchoClient::on_stream_recv(Loop& loop, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Conn*>(op.user_data);
  if (c.has_buffer) {
    conn.client->assemble(conn, c.data, uint32_t(c.result));
    loop.release_buffer(c.buffer_id);
  }
  if (!c.more) conn.client->receive_ended(conn, c.result);
}

// A stream delivers bytes, not messages: replies are cut anywhere.
void EchoClient::assemble(Conn& conn, const uint8_t* data, uint32_t length) {
  const uint32_t size = config_.size;
  while (length > 0) {
    if (conn.assembled == 0 && length >= size) {  // whole reply in the buffer: no copy
      on_reply(conn, data, size);
      data += size;
      length -= size;
      continue;
    }
    uint32_t take = size - conn.assembled < length ? size - conn.assembled : length;
    std::memcpy(conn.assembly + conn.assembled, data, take);
    conn.assembled += take;
    data += take;
    length -= take;
    if (conn.assembled == size) {
      conn.assembled = 0;
      on_reply(conn, conn.assembly, size);
    }
  }
}

void EchoClient::on_datagram_recv(Loop& loop, Operation& op, const Completion& c) {
  auto& conn = *static_cast<Conn*>(op.user_data);
  if (c.has_buffer) {
    conn.client->on_reply(conn, c.data, uint32_t(c.result));
    loop.release_buffer(c.buffer_id);
  }
  if (!c.more) conn.client->receive_ended(conn, c.result);
}

void EchoClient::on_reply(Conn& conn, const uint8_t* message, uint32_t length) {
  if (!measuring_) return;  // late replies after the stop are not counted
  ++replies_;
  uint64_t sequence = 0;
  uint64_t sent_ns = 0;
  bool ok = length == config_.size && codec_.check(message, conn.index, sequence, sent_ns);
  if (ok && sequence_ok(conn, sequence)) {
    latency_.record(now_ns() - sent_ns);
  } else {
    note_error(length == config_.size ? "reply does not match what was sent"
                                      : "reply has the wrong length",
               conn.index, 0);
  }
  if (config_.count != 0 && replies_ >= config_.count) return finish();
  issue(conn);
}

// Streams echo in order; datagrams may be reordered, but never invented.
bool EchoClient::sequence_ok(Conn& conn, uint64_t sequence) {
  if (!stream_) return sequence < conn.next_sequence;
  return sequence == conn.expected_sequence++;
}

void EchoClient::receive_ended(Conn& conn, int result) {
  if (conn.closing) return;
  if (stream_ || result != 0) {
    return fail(conn, result == 0 ? "server closed the connection" : "recv", result);
  }
  // On a datagram socket a result of 0 is an empty datagram, which the kernel
  // reports like end-of-file and which ends the multishot receive. Nothing
  // here sends empty datagrams: count it, and receive on.
  note_error("received an empty datagram", conn.index, 0);
  int rc = loop_.recv_multishot(conn.recv_op, conn.fd, on_datagram_recv, &conn);
  if (rc < 0) fail(conn, "recv_multishot re-arm", rc);
}

// -------------------------------------------------------------------- errors

// The connection stops taking part; teardown closes it.
void EchoClient::fail(Conn& conn, const char* what, int result) {
  if (conn.failed) return;
  conn.failed = true;
  note_error(what, conn.index, result);
}

void EchoClient::note_error(const char* what, uint32_t connection, int result) {
  if (++errors_ > kErrorsPrinted) return;
  if (result == 0) {
    fprintf(stderr, "ringsock-echo: client connection %u: %s\n", connection, what);
  } else {
    fprintf(stderr, "ringsock-echo: client connection %u: %s: %s\n", connection, what,
            error_text(result));
  }
}

}  // namespace echo
