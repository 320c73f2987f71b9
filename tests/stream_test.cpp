// Stream sockets (TCP over IPv4/IPv6, UNIX stream over paths and abstract
// names): accept, connect, send, recv, multishot forms, shutdown, faults.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "support.hpp"

namespace rstest {
namespace {

class StreamTest : public SocketTest {};

std::vector<uint8_t> pattern(size_t length, uint8_t seed) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i) bytes[i] = uint8_t(seed + i * 31 + (i >> 8));
  return bytes;
}

// Receives until `want` bytes arrived or the peer closes; single recv ops
// into a small caller buffer, so message integrity is checked across partial reads.
struct Reader {
  Operation op;
  std::vector<uint8_t> received;
  std::vector<uint8_t> chunk = std::vector<uint8_t>(1500);
  size_t want = 0;
  int last = 1;
  bool done = false;
  static void on_recv(Loop& loop, Operation& op, const Completion& c) {
    auto* self = static_cast<Reader*>(op.user_data);
    self->last = c.result;
    if (c.result > 0) {
      self->received.insert(self->received.end(), self->chunk.begin(),
                            self->chunk.begin() + c.result);
    }
    if (c.result <= 0 || self->received.size() >= self->want) {
      self->done = true;
      return;
    }
    EXPECT_EQ(loop.recv(op, op.fd, self->chunk.data(), self->chunk.size(), on_recv, self), 0);
  }
  void start(Loop& loop, int fd, size_t bytes) {
    want = bytes;
    ASSERT_EQ(loop.recv(op, fd, chunk.data(), chunk.size(), on_recv, this), 0);
  }
};

TEST_P(StreamTest, AcceptConnectSendRecvEcho) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  auto message = pattern(100, 7);
  Recorder sent;
  Reader reader;
  ASSERT_EQ(loop.send(sent.op, pair.client, message.data(), message.size(), Recorder::callback,
                      &sent), 0);
  reader.start(loop, pair.server, message.size());
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal && reader.done; }));
  EXPECT_EQ(sent.result(), 100);
  EXPECT_EQ(reader.received, message);
  EXPECT_EQ(loop.active(), 0u);
}

TEST_P(StreamTest, AcceptReportsPeerAddress) {
  Endpoint requested = make_endpoint(family(), true, dir);
  int listener = listen_on(requested);
  ASSERT_GE(listener, 0);
  Endpoint bound = bound_endpoint(listener, requested);
  int client = open_socket(bound);
  Recorder accepted, connected;
  Endpoint peer;
  ASSERT_EQ(loop.accept(accepted.op, listener, &peer, Recorder::callback, &accepted), 0);
  ASSERT_EQ(loop.connect(connected.op, client, bound, Recorder::callback, &connected), 0);
  ASSERT_TRUE(run_until(loop, [&] { return accepted.terminal && connected.terminal; }));
  ASSERT_GE(accepted.result(), 0);
  EXPECT_EQ(peer.family(), bound.family());
  EXPECT_EQ(peer.transport, bound.transport);
  if (bound.family() != AF_UNIX) {
    Endpoint client_local = bound_endpoint(client, bound);
    EXPECT_EQ(peer.length, client_local.length);
    EXPECT_EQ(memcmp(&peer.storage, &client_local.storage, peer.length), 0);
  }
  ::close(accepted.result());
  ::close(client);
  ::close(listener);
}

TEST_P(StreamTest, MultishotAcceptTakesEveryConnectionThenCancels) {
  Endpoint requested = make_endpoint(family(), true, dir);
  int listener = listen_on(requested);
  ASSERT_GE(listener, 0);
  Endpoint bound = bound_endpoint(listener, requested);
  Recorder acceptor;
  ASSERT_EQ(loop.accept_multishot(acceptor.op, listener, Recorder::callback, &acceptor), 0);
  constexpr int kClients = 5;
  Recorder connects[kClients];
  int clients[kClients];
  for (int i = 0; i < kClients; ++i) {
    clients[i] = open_socket(bound);
    ASSERT_EQ(loop.connect(connects[i].op, clients[i], bound, Recorder::callback, &connects[i]), 0);
  }
  ASSERT_TRUE(run_until(loop, [&] { return acceptor.completions.size() >= size_t(kClients); }));
  for (const Completion& c : acceptor.completions) {
    EXPECT_GE(c.result, 0);
    EXPECT_TRUE(c.more);
    ::close(c.result);
  }
  EXPECT_FALSE(acceptor.terminal);
  ASSERT_EQ(loop.cancel(acceptor.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return acceptor.terminal; }));
  EXPECT_EQ(acceptor.terminal_count, 1);
  EXPECT_EQ(acceptor.completions.back().result, -ECANCELED);
  for (int fd : clients) ::close(fd);
  ::close(listener);
}

TEST_P(StreamTest, MultishotRecvDeliversEveryByteInOrder) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  auto message = pattern(1 << 20, 3);
  Recorder sent, receiver;
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
  ASSERT_EQ(loop.send(sent.op, pair.client, message.data(), message.size(), Recorder::callback,
                      &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] {
    return sent.terminal && receiver.payload_bytes() >= message.size();
  }));
  EXPECT_EQ(receiver.joined(), message);
  EXPECT_EQ(sent.result(), int(message.size()));
  for (const Completion& c : receiver.completions) EXPECT_TRUE(c.more);
  ::shutdown(pair.client, SHUT_WR);  // EOF ends the multishot receive
  ASSERT_TRUE(run_until(loop, [&] { return receiver.terminal; }));
  EXPECT_EQ(receiver.completions.back().result, 0);
  EXPECT_EQ(receiver.terminal_count, 1);
}

TEST_P(StreamTest, LargeTransferWithTinySocketBuffersKeepsIntegrity) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  // A tiny send buffer forces many partial sends under the one send op. The
  // receive buffer stays small but above the loopback MSS: a TCP window below
  // one segment crawls on delayed ACKs (about 50 KB/s), which tests nothing.
  ASSERT_EQ(set_buffer_sizes(pair.client, 4096, 4096), 0);
  ASSERT_EQ(set_buffer_sizes(pair.server, 4096, 131072), 0);
  auto message = pattern(4 << 20, 11);
  Recorder sent;
  Reader reader;
  ASSERT_EQ(loop.send(sent.op, pair.client, message.data(), message.size(), Recorder::callback,
                      &sent), 0);
  reader.start(loop, pair.server, message.size());
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal && reader.done; }, 30s))
      << "sent " << sent.op.transferred << " received " << reader.received.size();
  // One send op, many partial sends underneath: completed to the exact byte.
  EXPECT_EQ(sent.result(), int(message.size()));
  EXPECT_EQ(sent.op.transferred, message.size());
  ASSERT_EQ(reader.received.size(), message.size());
  EXPECT_TRUE(reader.received == message);
}

TEST_P(StreamTest, PeerCloseIsEndOfFile) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Reader reader;
  reader.start(loop, pair.server, 1);
  ::close(pair.client);
  pair.client = -1;
  ASSERT_TRUE(run_until(loop, [&] { return reader.done; }));
  EXPECT_EQ(reader.last, 0);
}

TEST_P(StreamTest, PeerCloseMidStreamDeliversDataThenEof) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  auto message = pattern(10000, 5);
  ASSERT_EQ(::send(pair.client, message.data(), message.size(), 0), ssize_t(message.size()));
  ::close(pair.client);
  pair.client = -1;
  Reader reader;
  reader.start(loop, pair.server, message.size() + 1);  // wants more than will come
  ASSERT_TRUE(run_until(loop, [&] { return reader.done; }));
  EXPECT_EQ(reader.last, 0);
  EXPECT_EQ(reader.received, message);
}

TEST_P(StreamTest, PeerResetIsAnErrorResult) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  if (is_unix()) {
    // UNIX streams have no RST: unread data at close makes the peer see ECONNRESET.
    char byte = 1;
    ASSERT_EQ(::send(pair.server, &byte, 1, 0), 1);
  } else {
    ASSERT_EQ(set_linger_reset(pair.client), 0);
  }
  Reader reader;
  reader.start(loop, pair.server, 1 << 20);
  ::close(pair.client);
  pair.client = -1;
  ASSERT_TRUE(run_until(loop, [&] { return reader.done; }));
  if (is_unix()) {
    EXPECT_TRUE(reader.last == -ECONNRESET || reader.last == 0) << reader.last;
  } else {
    EXPECT_EQ(reader.last, -ECONNRESET);
  }
  // Sending to the reset connection is an error result too, never SIGPIPE.
  Recorder sent;
  char data[64] = {};
  ASSERT_EQ(loop.send(sent.op, pair.server, data, sizeof(data), Recorder::callback, &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_TRUE(sent.result() == -EPIPE || sent.result() == -ECONNRESET) << sent.result();
}

TEST_P(StreamTest, SendFailingMidwayReportsExactBytes) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  ASSERT_EQ(set_buffer_sizes(pair.client, 4096, 4096), 0);
  ASSERT_EQ(set_buffer_sizes(pair.server, 4096, 4096), 0);
  auto message = pattern(8 << 20, 1);
  Recorder sent;
  ASSERT_EQ(loop.send(sent.op, pair.client, message.data(), message.size(), Recorder::callback,
                      &sent), 0);
  // Read a little so the send is known to be under way, then reset.
  std::vector<uint8_t> got(20000);
  size_t have = 0;
  while (have < got.size()) {
    loop.run(RunMode::no_wait);
    ssize_t n = ::recv(pair.server, got.data() + have, got.size() - have, MSG_DONTWAIT);
    if (n > 0) have += size_t(n);
    if (n == 0) break;
  }
  if (family() == Family::ipv4 || family() == Family::ipv6) set_linger_reset(pair.server);
  ::close(pair.server);
  pair.server = -1;
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_TRUE(sent.result() == -EPIPE || sent.result() == -ECONNRESET) << sent.result();
  EXPECT_GE(sent.op.transferred, have);
  EXPECT_LT(sent.op.transferred, message.size());
}

TEST_P(StreamTest, ShutdownWriteIsSeenAsEof) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Recorder shut;
  Reader reader;
  reader.start(loop, pair.server, 1);
  ASSERT_EQ(loop.shutdown(shut.op, pair.client, SHUT_WR, Recorder::callback, &shut), 0);
  ASSERT_TRUE(run_until(loop, [&] { return shut.terminal && reader.done; }));
  EXPECT_EQ(shut.result(), 0);
  EXPECT_EQ(reader.last, 0);
  // After SHUT_WR our own send fails with EPIPE, as a result.
  Recorder sent;
  char byte = 0;
  ASSERT_EQ(loop.send(sent.op, pair.client, &byte, 1, Recorder::callback, &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), -EPIPE);
}

// A shutdown waits for nothing: not behind its own side's receive that
// waits for data (epoll once queued it there, until the receive ended) nor
// behind a send. SHUT_RDWR ends that receive with EOF.
TEST_P(StreamTest, ShutdownDoesNotWaitBehindAWaitingReceive) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Recorder receiver, shut, both;
  Reader reader;
  // After what they guard: a failed ASSERT ends these first.
  EndsInFlight ends[] = {{loop, receiver.op}, {loop, shut.op}, {loop, both.op}, {loop, reader.op}};
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_EQ(loop.shutdown(shut.op, pair.server, SHUT_WR, Recorder::callback, &shut), 0);
  ASSERT_TRUE(run_until(loop, [&] { return shut.terminal; }));
  EXPECT_EQ(shut.result(), 0);
  EXPECT_FALSE(receiver.terminal) << "SHUT_WR leaves the receive waiting";
  reader.start(loop, pair.client, 1);
  ASSERT_TRUE(run_until(loop, [&] { return reader.done; }));
  EXPECT_EQ(reader.last, 0) << "the peer sees the end of the stream";
  ASSERT_EQ(loop.shutdown(both.op, pair.server, SHUT_RDWR, Recorder::callback, &both), 0);
  ASSERT_TRUE(run_until(loop, [&] { return both.terminal && receiver.terminal; }));
  EXPECT_EQ(both.result(), 0);
  EXPECT_EQ(receiver.result(), 0) << "SHUT_RD ends the waiting receive with EOF";
  EXPECT_EQ(receiver.terminal_count, 1);
}

TEST_P(StreamTest, ConnectToNobodyIsRefused) {
  Endpoint requested = make_endpoint(family(), true, dir);
  int listener = listen_on(requested);
  ASSERT_GE(listener, 0);
  Endpoint bound = bound_endpoint(listener, requested);
  ::close(listener);  // nobody listens there any more
  if (family() == Family::unix_path) {
    // A stale socket file without a listener.
  }
  int client = open_socket(bound);
  Recorder connected;
  ASSERT_EQ(loop.connect(connected.op, client, bound, Recorder::callback, &connected), 0);
  ASSERT_TRUE(run_until(loop, [&] { return connected.terminal; }));
  EXPECT_EQ(connected.result(), -ECONNREFUSED);
  ::close(client);
}

// A UNIX listener whose backlog is full refuses at once with -EAGAIN, on
// both backends (epoll must not spin waiting: such a socket polls writable).
// (TCP drops the SYN instead: see ConnectPastItsDeadlineEndsWithEtimedout.)
class UnixStreamTest : public StreamTest {};

TEST_P(UnixStreamTest, ConnectToAFullBacklogEndsWithEagain) {
  Endpoint requested = make_endpoint(family(), true, dir);
  ListenOptions options;
  options.backlog = 0;
  int listener = listen_on(requested, options);
  ASSERT_GE(listener, 0);
  Endpoint bound = bound_endpoint(listener, requested);
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) {  // fill the backlog with plain connects
    fds.push_back(open_socket(bound));
    ::connect(fds.back(), bound.address(), bound.length);
  }
  fds.push_back(open_socket(bound));
  Recorder connected;
  connected.op.timeout_ns = 5'000'000'000;
  ASSERT_EQ(loop.connect(connected.op, fds.back(), bound, Recorder::callback, &connected), 0);
  ASSERT_TRUE(run_until(loop, [&] { return connected.terminal; }));
  EXPECT_EQ(connected.result(), -EAGAIN);
  for (int fd : fds) ::close(fd);
  ::close(listener);
}

INSTANTIATE_TEST_SUITE_P(Sockets, StreamTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(all_families())),
                         socket_param_name);
INSTANTIATE_TEST_SUITE_P(Sockets, UnixStreamTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(unix_families())),
                         socket_param_name);

}  // namespace
}  // namespace rstest
