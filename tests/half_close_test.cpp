// Half-closed streams: when a peer's last data and its end of stream (a
// shutdown(SHUT_WR) or a close) are both waiting before the loop looks, a
// receive delivers every byte and then exactly one end of stream (result 0).
// On epoll the two come in one edge-triggered event: the backend must not
// take a short read for a drained socket and wait for an edge that never
// comes. Every test waits (poll(2), level-triggered, outside the loop) until
// the receiver's socket shows the FIN, so data and FIN are always seen
// together; each run is bounded, so a regression fails instead of hanging.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <vector>

#include "support.hpp"

namespace rstest {
namespace {

constexpr auto kGuard = 2s;  // every step here takes milliseconds
constexpr int kFinWaitMs = 5000;

class HalfCloseTest : public SocketTest {
 protected:
  void SetUp() override {
    SocketTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    buffer_bytes_ = loop_options().buffer_size;
  }
  uint32_t buffer_bytes_ = 0;
};

std::vector<uint8_t> pattern(size_t length, uint8_t seed) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i) bytes[i] = uint8_t(seed + i * 13 + (i >> 9));
  return bytes;
}

// Writes all of `bytes` from the peer in `piece` sized sends (the socket may
// be non-blocking: the amounts here fit its buffers).
bool peer_writes(int fd, const std::vector<uint8_t>& bytes, size_t piece) {
  for (size_t at = 0; at < bytes.size();) {
    size_t length = bytes.size() - at < piece ? bytes.size() - at : piece;
    ssize_t n = ::send(fd, bytes.data() + at, length, MSG_NOSIGNAL);
    if (n <= 0) {
      ADD_FAILURE() << "peer send: " << (n < 0 ? strerror(errno) : "0");
      return false;
    }
    at += size_t(n);
  }
  return true;
}

// Waits (poll(2), at most kFinWaitMs) until `fd` reports `events`.
bool polled(int fd, short events) {
  pollfd p{fd, events, 0};
  int n;
  do {
    n = ::poll(&p, 1, kFinWaitMs);
  } while (n < 0 && errno == EINTR);
  return n == 1 && (p.revents & events);
}

// Waits, outside the loop, until `fd` has the peer's FIN queued (behind all
// of its data: a stream delivers in order).
bool fin_arrived(int fd) { return polled(fd, POLLRDHUP); }

// Every result before the last carries data and "more"; the last is a single 0.
void expect_data_then_one_eof(const Recorder& r, const std::vector<uint8_t>& message) {
  ASSERT_FALSE(r.completions.empty());
  EXPECT_EQ(r.terminal_count, 1);
  EXPECT_EQ(r.completions.back().result, 0);
  EXPECT_FALSE(r.completions.back().has_buffer);
  for (size_t i = 0; i + 1 < r.completions.size(); ++i) {
    EXPECT_TRUE(r.completions[i].more) << "result " << i;
    EXPECT_GT(r.completions[i].result, 0) << "result " << i;
  }
  EXPECT_EQ(r.joined(), message);
}

enum class PeerEnd { shutdown_write, close };

// A multishot receive armed (parked on epoll, submitted on io_uring) before
// the peer writes `length` bytes in `piece` sized sends and ends its side.
void multishot_sees_everything(Loop& loop, Family family, TempDir& dir, size_t length,
                               size_t piece, PeerEnd end) {
  SCOPED_TRACE(testing::Message() << length << " bytes in " << piece << " byte sends");
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family, dir, pair));
  if (family == Family::ipv4 || family == Family::ipv6) set_nodelay(pair.client, true);
  Recorder receiver;
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);  // tried: nothing there yet, so it waits
  ASSERT_TRUE(receiver.completions.empty());
  auto message = pattern(length, uint8_t(length));
  ASSERT_TRUE(peer_writes(pair.client, message, piece));
  if (end == PeerEnd::shutdown_write) {
    ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
  } else {
    ::close(pair.client);
    pair.client = -1;
  }
  ASSERT_TRUE(fin_arrived(pair.server));
  ASSERT_TRUE(run_until(loop, [&] { return receiver.terminal; }, kGuard))
      << "received " << receiver.joined().size() << " of " << length << " bytes, no end of stream";
  expect_data_then_one_eof(receiver, message);
  close_pair(loop, pair);
}

// Sizes around the pool's buffer: one short read, several buffers ending in a
// short one, and an exact multiple (every read full, then the 0).
std::vector<size_t> lengths(uint32_t buffer_bytes) {
  return {1, 1000, 3 * size_t(buffer_bytes) + 17, 2 * size_t(buffer_bytes)};
}

TEST_P(HalfCloseTest, MultishotGetsAllDataThenEofAfterShutdownWrite) {
  for (size_t length : lengths(buffer_bytes_)) {
    multishot_sees_everything(loop, family(), dir, length, length, PeerEnd::shutdown_write);
    if (HasFatalFailure()) return;
  }
}

TEST_P(HalfCloseTest, MultishotGetsAllDataThenEofAfterClose) {
  for (size_t length : lengths(buffer_bytes_)) {
    multishot_sees_everything(loop, family(), dir, length, length, PeerEnd::close);
    if (HasFatalFailure()) return;
  }
}

TEST_P(HalfCloseTest, MultishotGetsManySmallWritesThenEof) {
  // 120 sends of 50 bytes, more than one pool buffer; few enough that a UNIX
  // socket's send buffer (charged per send) takes them while nobody reads.
  multishot_sees_everything(loop, family(), dir, 120 * 50, 50, PeerEnd::shutdown_write);
}

// Single-shot receives into a small caller buffer, one after the other.
struct SingleReader {
  Operation op;
  std::vector<uint8_t> received;
  uint8_t chunk[700];
  std::vector<int> results;
  bool done = false;
  static void on_recv(Loop& loop, Operation& op, const Completion& c) {
    auto* self = static_cast<SingleReader*>(op.user_data);
    self->results.push_back(c.result);
    if (c.result <= 0) {
      self->done = true;
      return;
    }
    self->received.insert(self->received.end(), self->chunk, self->chunk + c.result);
    EXPECT_EQ(loop.recv(op, op.fd, self->chunk, sizeof self->chunk, on_recv, self), 0);
  }
};

TEST_P(HalfCloseTest, SingleRecvGetsAllDataThenEofAfterShutdownWrite) {
  for (size_t length : {size_t(1), size_t(500), size_t(5000)}) {
    SCOPED_TRACE(testing::Message() << length << " bytes");
    StreamPair pair;
    ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
    SingleReader reader;
    ASSERT_EQ(loop.recv(reader.op, pair.server, reader.chunk, sizeof reader.chunk,
                        SingleReader::on_recv, &reader), 0);
    ASSERT_GE(loop.run(RunMode::no_wait), 0);
    ASSERT_TRUE(reader.results.empty());
    auto message = pattern(length, 9);
    ASSERT_TRUE(peer_writes(pair.client, message, length));
    ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
    ASSERT_TRUE(fin_arrived(pair.server));
    ASSERT_TRUE(run_until(loop, [&] { return reader.done; }, kGuard))
        << "received " << reader.received.size() << " of " << length << " bytes, no end of stream";
    EXPECT_EQ(reader.results.back(), 0);
    EXPECT_EQ(reader.received, message);
    close_pair(loop, pair);
  }
}

// The FIN's readiness was taken by an earlier receive (a single recv that read
// part of the data); a multishot receive started afterwards finds the rest
// and must still see the end: no new event will announce it.
TEST_P(HalfCloseTest, MultishotAfterASingleRecvTookTheEventGetsTheRestThenEof) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  uint8_t head[10];
  Recorder first;
  ASSERT_EQ(loop.recv(first.op, pair.server, head, sizeof head, Recorder::callback, &first), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_FALSE(first.terminal);
  auto message = pattern(3000, 21);
  ASSERT_TRUE(peer_writes(pair.client, message, message.size()));
  ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
  ASSERT_TRUE(fin_arrived(pair.server));
  ASSERT_TRUE(run_until(loop, [&] { return first.terminal; }, kGuard));
  ASSERT_EQ(first.result(), int(sizeof head));
  EXPECT_EQ(std::vector<uint8_t>(head, head + sizeof head),
            std::vector<uint8_t>(message.begin(), message.begin() + sizeof head));
  Recorder rest;
  ASSERT_EQ(loop.recv_multishot(rest.op, pair.server, Recorder::callback, &rest), 0);
  ASSERT_TRUE(run_until(loop, [&] { return rest.terminal; }, kGuard))
      << "received " << rest.joined().size() << " more bytes, no end of stream";
  expect_data_then_one_eof(rest, std::vector<uint8_t>(message.begin() + sizeof head, message.end()));
}

// With a per-fd cap on lent buffers io_uring receives one buffer per arming
// and the core arms it again after each: the end must come through that path too.
class HalfCloseCappedTest : public HalfCloseTest {
 protected:
  LoopOptions loop_options() const override {
    LoopOptions o;
    o.max_lent_per_fd = 2;
    return options_for(backend(), o);
  }
};

TEST_P(HalfCloseCappedTest, MultishotGetsAllDataThenEofAfterShutdownWrite) {
  for (size_t length : lengths(buffer_bytes_)) {
    multishot_sees_everything(loop, family(), dir, length, length, PeerEnd::shutdown_write);
    if (HasFatalFailure()) return;
  }
}

// UNIX streams whose data comes in many separate pieces. A piece that carries
// fds (SCM_RIGHTS) ends a read, so every read takes one piece. io_uring's
// multishot receive posts at most 32 results per wake-up and then goes back
// to its poll; with the peer's FIN already queued, that poll finds the socket
// ready (data and RDHUP) once, and the kernel drops the RDHUP after the read
// that drains the data (Linux 6.18: a UNIX stream reports how much is left,
// 0, so no further read is tried, and no further wake-up will come). The
// soak's half-closers hit the same loss by timing; this makes it certain.
class HalfCloseUnixTest : public HalfCloseTest {
 protected:
  bool on_uring() const { return loop.backend() == BackendKind::uring; }
};

// Whether the peer's socket has seen this end close: a read returns 0.
bool peer_sees_eof(int fd) {
  char byte;
  return polled(fd, POLLIN) && ::recv(fd, &byte, 1, MSG_DONTWAIT) == 0;
}

TEST_P(HalfCloseUnixTest, MultishotGetsEofAfterMorePiecesThanOneWakeupReads) {
  constexpr size_t kPieces = 64, kPieceBytes = 100;  // 64 > 32 results per wake-up
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  int passed = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(passed, 0);
  auto message = pattern(kPieces * kPieceBytes, 5);
  bool sent = peer_sends_with_fds(pair.client, message, kPieceBytes, passed);
  ::close(passed);  // the queued pieces hold their own references
  ASSERT_TRUE(sent);
  ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
  ASSERT_TRUE(fin_arrived(pair.server));
  Recorder receiver;
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
  ASSERT_TRUE(run_until(loop, [&] { return receiver.terminal; }, kGuard))
      << "received " << receiver.joined().size() << " of " << message.size()
      << " bytes, no end of stream";
  expect_data_then_one_eof(receiver, message);
  // io_uring: the watch armed beside the receive saw the hang-up at once,
  // and its event came first (its SQE went in first).
  EXPECT_EQ(loop.stats().unix_hangups, on_uring() ? 1u : 0u);
  close_pair(loop, pair);
}

// The same, with the receive armed and idle before the pieces and the
// shutdown come (the kernel sees several wake-ups here and keeps the end).
// On io_uring the watch's event comes while the kernel's multishot is still
// delivering the pieces: the receive is switched to one result per arming
// in the middle of the stream, and every byte still arrives once, in order.
TEST_P(HalfCloseUnixTest, ArmedMultishotGetsEofAfterMorePiecesThanOneWakeupReads) {
  constexpr size_t kPieces = 64, kPieceBytes = 100;
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Recorder receiver;
  EndsInFlight ends{loop, receiver.op};
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);  // in the kernel, nothing to read yet
  ASSERT_TRUE(receiver.completions.empty());
  int passed = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(passed, 0);
  auto message = pattern(kPieces * kPieceBytes, 7);
  bool sent = peer_sends_with_fds(pair.client, message, kPieceBytes, passed);
  ::close(passed);
  ASSERT_TRUE(sent);
  ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
  ASSERT_TRUE(fin_arrived(pair.server));
  ASSERT_TRUE(run_until(loop, [&] { return receiver.terminal; }, kGuard))
      << "received " << receiver.joined().size() << " of " << message.size()
      << " bytes, no end of stream";
  expect_data_then_one_eof(receiver, message);
  EXPECT_EQ(loop.stats().unix_hangups, on_uring() ? 1u : 0u);
  close_pair(loop, pair);
}

// A watched receive that the caller cancels ends once, with -ECANCELED, and
// leaves nothing behind that keeps the socket open: after the loop closes
// the fd, the peer reads its end of stream.
TEST_P(HalfCloseUnixTest, CancelledMultishotEndsOnceAndTheCloseReachesThePeer) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Recorder receiver;
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_EQ(loop.cancel(receiver.op), 0);
  EXPECT_EQ(loop.cancel(receiver.op), -EALREADY);
  // run() counts the callbacks it made: one, however long the end was held.
  int callbacks = 0;
  for (int turn = 0; turn < 100 && !receiver.terminal; ++turn) {
    int n = loop.run(RunMode::no_wait);
    ASSERT_GE(n, 0);
    callbacks += n;
  }
  ASSERT_TRUE(receiver.terminal);
  EXPECT_EQ(callbacks, 1);
  ASSERT_EQ(receiver.completions.size(), 1u);
  EXPECT_EQ(receiver.result(), -ECANCELED);
  EXPECT_EQ(loop.active(), 0u);
  Recorder closed;
  ASSERT_EQ(loop.close(closed.op, pair.server, Recorder::callback, &closed), 0);
  pair.server = -1;
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }, kGuard));
  EXPECT_EQ(closed.result(), 0);
  EXPECT_TRUE(peer_sees_eof(pair.client));
  EXPECT_EQ(loop.stats().unix_hangups, 0u);
  close_pair(loop, pair);
}

// A close of the fd under a watched receive: the receive ends first, once,
// with -ECANCELED, then the close; the peer reads its end of stream.
struct CloseRecorder : Recorder {
  const Recorder* receiver = nullptr;
  bool receiver_ended_before = false;
  static void callback(Loop& loop, Operation& op, const Completion& completion) {
    auto* self = static_cast<CloseRecorder*>(static_cast<Recorder*>(op.user_data));
    self->receiver_ended_before = self->receiver->terminal;
    Recorder::callback(loop, op, completion);
  }
};

// Closes pair.server under `receiver`'s receive: the receive ends first,
// once, with -ECANCELED, then the close, with 0.
void close_under_receive(Loop& loop, StreamPair& pair, const Recorder& receiver) {
  CloseRecorder closed;
  closed.receiver = &receiver;
  ASSERT_EQ(loop.close(closed.op, pair.server, CloseRecorder::callback,
                       static_cast<Recorder*>(&closed)), 0);
  pair.server = -1;
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }, kGuard));
  EXPECT_TRUE(closed.receiver_ended_before);
  EXPECT_EQ(receiver.terminal_count, 1);
  EXPECT_EQ(receiver.result(), -ECANCELED);
  EXPECT_EQ(closed.result(), 0);
}

TEST_P(HalfCloseUnixTest, CloseUnderAWatchedMultishotEndsItThenClosesTheSocket) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Recorder receiver;
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  close_under_receive(loop, pair, receiver);
  EXPECT_EQ(loop.active(), 0u);
  EXPECT_TRUE(peer_sees_eof(pair.client));
  close_pair(loop, pair);
}

// Connections whose peers write, then hang up while the receive is busy
// with earlier data: every one gets all of its bytes and one end of stream,
// whichever of the kernel's multishot, the watch and the re-armed receive
// sees the end first.
TEST_P(HalfCloseUnixTest, ManyConnectionsEachGetAllDataThenOneEof) {
  constexpr int kConnections = 16;
  constexpr size_t kRounds = 8, kPieceBytes = 300;
  std::vector<StreamPair> pairs(kConnections);
  std::vector<Recorder> receivers(kConnections);
  std::deque<EndsInFlight> ends;
  for (Recorder& r : receivers) ends.push_back({loop, r.op});
  std::vector<std::vector<uint8_t>> sent(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(connect_pair(loop, family(), dir, pairs[i]));
    ASSERT_EQ(loop.recv_multishot(receivers[i].op, pairs[i].server, Recorder::callback,
                                  &receivers[i]), 0);
  }
  for (size_t round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kConnections; ++i) {
      auto piece = pattern(kPieceBytes + size_t(i) * 7 + round, uint8_t(i + round));
      ASSERT_TRUE(peer_writes(pairs[i].client, piece, piece.size()));
      sent[i].insert(sent[i].end(), piece.begin(), piece.end());
      // The last round's hang-up comes right behind its data.
      if (round + 1 == kRounds && (i & 1)) {
        ASSERT_EQ(::shutdown(pairs[i].client, SHUT_WR), 0);
      }
      if (round + 1 == kRounds && !(i & 1)) {
        ::close(pairs[i].client);
        pairs[i].client = -1;
      }
    }
    ASSERT_GE(loop.run(RunMode::no_wait), 0);  // some of it read, the rest waiting
  }
  ASSERT_TRUE(run_until(loop, [&] { return all_ended(receivers); }, kGuard))
      << "a connection never got its end of stream";
  for (int i = 0; i < kConnections; ++i) {
    SCOPED_TRACE(testing::Message() << "connection " << i);
    expect_data_then_one_eof(receivers[i], sent[i]);
    close_pair(loop, pairs[i]);
  }
  EXPECT_LE(loop.stats().unix_hangups, uint64_t(kConnections));
}

// A pool of two small buffers, which a receiver that keeps them empties.
class HalfCloseUnixSmallPoolTest : public HalfCloseUnixTest {
 protected:
  LoopOptions loop_options() const override {
    LoopOptions o;
    o.buffer_count = 2;
    o.buffer_size = 256;
    return options_for(backend(), o);
  }
  // Connects `pair`, arms `receiver` (keeping its buffers) and has the peer
  // write `message`, more than the pool holds: returns once the receive is
  // paused with both buffers kept.
  void receive_until_paused(StreamPair& pair, Recorder& receiver,
                            const std::vector<uint8_t>& message) {
    ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
    receiver.keep_buffers = true;
    ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
    ASSERT_GE(loop.run(RunMode::no_wait), 0);
    ASSERT_TRUE(peer_writes(pair.client, message, message.size()));
    ASSERT_TRUE(run_until(loop, [&] { return loop.stats().buffer_pauses > 0; }, kGuard));
    ASSERT_EQ(receiver.kept.size(), 2u);
  }
};

// The peer hangs up while the receive is paused on an empty pool (the
// receiver keeps every buffer): once they come back, every byte and one
// end of stream arrive.
TEST_P(HalfCloseUnixSmallPoolTest, HangupWhilePausedOnAnEmptyPoolGetsAllDataThenEof) {
  StreamPair pair;
  Recorder receiver;
  EndsInFlight ends{loop, receiver.op};
  auto message = pattern(2000, 3);
  receive_until_paused(pair, receiver, message);
  if (HasFatalFailure()) return;
  ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
  ASSERT_TRUE(fin_arrived(pair.server));
  for (int turn = 0; turn < 10; ++turn) ASSERT_GE(loop.run(RunMode::no_wait), 0);
  EXPECT_EQ(loop.stats().unix_hangups, on_uring() ? 1u : 0u);
  EXPECT_FALSE(receiver.terminal);
  ASSERT_TRUE(run_until(loop, [&] {
    receiver.give_back(loop);
    return receiver.terminal;
  }, kGuard));
  receiver.give_back(loop);
  expect_data_then_one_eof(receiver, message);
  close_pair(loop, pair);
}

// A close while the receive is paused on an empty pool, its watch still in
// the kernel: the receive ends once, with -ECANCELED, then the close.
TEST_P(HalfCloseUnixSmallPoolTest, CloseWhilePausedOnAnEmptyPoolEndsTheReceiveThenCloses) {
  StreamPair pair;
  Recorder receiver;
  EndsInFlight ends{loop, receiver.op};
  receive_until_paused(pair, receiver, pattern(2000, 4));
  if (HasFatalFailure()) return;
  close_under_receive(loop, pair, receiver);
  receiver.give_back(loop);
  EXPECT_EQ(loop.active(), 0u);
  close_pair(loop, pair);
}

INSTANTIATE_TEST_SUITE_P(Sockets, HalfCloseUnixSmallPoolTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(unix_families())),
                         socket_param_name);

INSTANTIATE_TEST_SUITE_P(Sockets, HalfCloseUnixTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(unix_families())),
                         socket_param_name);

// TCP and UNIX streams (the address families add nothing to half-closing).
INSTANTIATE_TEST_SUITE_P(Sockets, HalfCloseTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::ipv4, Family::unix_path)),
                         socket_param_name);
INSTANTIATE_TEST_SUITE_P(Sockets, HalfCloseCappedTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::ipv4, Family::unix_path)),
                         socket_param_name);

}  // namespace
}  // namespace rstest
