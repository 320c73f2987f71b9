// Receives after a short read. On epoll a TCP read that returns less than
// it asked for emptied the socket (a UNIX stream's too, read with recvmsg
// and no control data reported), so the next receive waits for the edge
// that new data brings instead of trying a read that would say EAGAIN
// (LoopStats::reads_waited counts them). These tests check that it happens,
// and that no receive ever waits while data is there: data that came before
// the next receive started, the rest of a read that filled its buffer, the
// end of the stream in the same edge as the data, urgent data, a raised
// low-water mark, UNIX messages carrying descriptors or out-of-band data,
// queued datagrams, and an fd number closed outside the loop and reused by a
// new socket. In each, the first receive waits before the data comes, so
// that its read is served from an edge with the fd watched for reading: the
// state in which the next receive may wait without reading. Every wait is
// bounded: a receive that waits for an edge that never comes fails the test
// instead of hanging it.
// Both backends run them (io_uring never waits without trying).
#include <fcntl.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

#include "support.hpp"

namespace rstest {
namespace {

constexpr auto kShortReadGuard = 2s;  // every step here takes milliseconds
constexpr int kPollMs = 5000;

std::vector<uint8_t> short_read_pattern(size_t length, uint8_t seed) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i) bytes[i] = uint8_t(seed + i * 7);
  return bytes;
}

// Waits outside the loop (level-triggered) until fd shows `events`.
bool fd_shows(int fd, short events) {
  pollfd p{fd, events, 0};
  int n;
  do {
    n = ::poll(&p, 1, kPollMs);
  } while (n < 0 && errno == EINTR);
  return n == 1 && (p.revents & events);
}

// Waits until at least `bytes` are queued for reading on fd (FIONREAD),
// polling every millisecond for at most kPollMs.
bool fd_holds(int fd, int bytes) {
  for (int waited = 0; waited < kPollMs; ++waited) {
    int queued = 0;
    if (::ioctl(fd, FIONREAD, &queued) == 0 && queued >= bytes) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

// Whether the TCP socket fd has received at least `bytes` in all, waiting
// up to kPollMs (FIONREAD stops counting at an urgent mark). TCP_INFO's
// tcpi_bytes_received, which glibc's struct tcp_info lacks: at byte 128 of
// the kernel's (UAPI, only ever appended to; Linux 4.1). -1 where TCP_INFO
// comes back shorter (qemu-user passes only glibc's part through).
int tcp_received(int fd, uint64_t bytes) {
  constexpr size_t kBytesReceivedAt = 128;
  for (int waited = 0; waited < kPollMs; ++waited) {
    alignas(8) uint8_t info[256] = {};
    socklen_t length = sizeof info;
    uint64_t received = 0;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &length) != 0) return -1;
    if (length < kBytesReceivedAt + sizeof received) return -1;
    std::memcpy(&received, info + kBytesReceivedAt, sizeof received);
    if (received >= bytes) return 1;
    std::this_thread::sleep_for(1ms);
  }
  return 0;
}

bool peer_sends_all(int fd, const std::vector<uint8_t>& bytes, int flags = 0) {
  ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | flags);
  if (n != ssize_t(bytes.size())) {
    ADD_FAILURE() << "peer send: " << (n < 0 ? strerror(errno) : "short");
    return false;
  }
  return true;
}

// One receive into a caller buffer. One still in flight when a failed
// assertion leaves the test is cancelled and run to its end here, so that
// its callback never reaches a destroyed object.
struct OneReceive {
  Operation op;
  std::vector<uint8_t> buffer;
  int result = 1;
  bool done = false;
  Loop* loop = nullptr;
  explicit OneReceive(size_t capacity) : buffer(capacity) {}
  ~OneReceive() {
    if (loop != nullptr) end_in_flight(*loop, op);
  }
  static void callback(Loop&, Operation& op, const Completion& c) {
    auto* self = static_cast<OneReceive*>(op.user_data);
    self->result = c.result;
    self->done = true;
  }
  int start(Loop& on, int fd) {
    done = false;
    result = 1;
    loop = &on;
    return on.recv(op, fd, buffer.data(), buffer.size(), callback, this);
  }
  std::vector<uint8_t> bytes() const {
    return result > 0 ? std::vector<uint8_t>(buffer.begin(), buffer.begin() + result)
                      : std::vector<uint8_t>();
  }
};

// Lets the loop take every event there is with no receive waiting: a short
// timer, run to its end, so the loop polls at least once.
void loop_polls_with_nobody_reading(Loop& loop) {
  Recorder timer;
  ASSERT_EQ(loop.timeout(timer.op, 1000000, Recorder::callback, &timer), 0);
  ASSERT_TRUE(run_until(loop, [&] { return timer.terminal; }, kShortReadGuard));
}

bool close_through(Loop& loop, int fd) {
  Recorder closed;
  if (loop.close(closed.op, fd, Recorder::callback, &closed) != 0) return false;
  return run_until(loop, [&] { return closed.terminal; }) && closed.result() == 0;
}

class ShortReadStreamTest : public SocketTest {
 protected:
  void SetUp() override {
    SocketTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(connect_pair(loop, family(), dir, pair_));
    if (!is_unix()) set_nodelay(pair_.client, true);
  }
  void TearDown() override {
    if (pair_.server >= 0 || pair_.client >= 0) close_pair(loop, pair_);
  }
  bool tcp() const { return !is_unix(); }
  // Whether the next receive may wait without a read: epoll, on TCP and on
  // UNIX streams (whose reads it makes with recvmsg and MSG_CTRUNC unset).
  bool waits_here() const { return backend() == TestBackend::epoll; }
  // Starts `r`, lets it wait (so epoll watches the socket), then the peer
  // sends `bytes` (flags for send(2)): its read is served from an edge.
  void read_served_from_an_edge(OneReceive& r, const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(r.start(loop, pair_.server), 0);
    ASSERT_GE(loop.run(RunMode::no_wait), 0);
    ASSERT_FALSE(r.done) << "nothing was sent yet";
    ASSERT_TRUE(peer_sends_all(pair_.client, bytes));
    ASSERT_TRUE(run_until(loop, [&] { return r.done; }, kShortReadGuard));
  }
  // The same, ending with a short read of 100 bytes into 1000.
  void first_read_is_short(OneReceive& first) {
    auto head = short_read_pattern(100, 1);
    read_served_from_an_edge(first, head);
    if (HasFatalFailure()) return;
    ASSERT_EQ(first.bytes(), head);
  }
  StreamPair pair_;
};

TEST_P(ShortReadStreamTest, NextReceiveWaitsAndGetsDataThatComesLater) {
  OneReceive first(1000), second(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  uint64_t waited = loop.stats().reads_waited;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_FALSE(second.done) << "nothing was sent yet";
  EXPECT_EQ(loop.stats().reads_waited - waited, waits_here() ? 1u : 0u)
      << "a receive after a short stream read on epoll waits without a read";
  auto more = short_read_pattern(200, 2);
  ASSERT_TRUE(peer_sends_all(pair_.client, more));
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.bytes(), more);
}

TEST_P(ShortReadStreamTest, NextReceiveGetsDataThatCameBeforeItStarted) {
  OneReceive first(1000), second(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  auto more = short_read_pattern(300, 3);
  ASSERT_TRUE(peer_sends_all(pair_.client, more));
  ASSERT_TRUE(fd_holds(pair_.server, 300));
  ASSERT_EQ(second.start(loop, pair_.server), 0);  // its edge is not taken yet
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.bytes(), more);
}

TEST_P(ShortReadStreamTest, NextReceiveGetsDataWhoseEdgeCameWhileNobodyRead) {
  OneReceive first(1000), second(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  auto more = short_read_pattern(300, 4);
  ASSERT_TRUE(peer_sends_all(pair_.client, more));
  ASSERT_TRUE(fd_holds(pair_.server, 300));
  loop_polls_with_nobody_reading(loop);  // the loop sees the edge; no new one comes
  if (HasFatalFailure()) return;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.bytes(), more);
}

// 1500 bytes in one edge: the first read takes 1000 (its buffer is full) and
// the rest must not wait for another edge.
TEST_P(ShortReadStreamTest, AFullReadLeavesTheRestForTheNextReceive) {
  OneReceive first(1000), second(1000);
  auto all = short_read_pattern(1500, 5);
  ASSERT_EQ(first.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_TRUE(peer_sends_all(pair_.client, all));
  ASSERT_TRUE(fd_holds(pair_.server, 1500));
  ASSERT_TRUE(run_until(loop, [&] { return first.done; }, kShortReadGuard));
  ASSERT_EQ(first.result, 1000);
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.bytes(), std::vector<uint8_t>(all.begin() + 1000, all.end()));
}

TEST_P(ShortReadStreamTest, NextReceiveGetsTheEndThatCameInTheSameEdge) {
  OneReceive first(1000), second(1000);
  ASSERT_EQ(first.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  auto head = short_read_pattern(100, 6);
  ASSERT_TRUE(peer_sends_all(pair_.client, head));
  ASSERT_EQ(::shutdown(pair_.client, SHUT_WR), 0);
  ASSERT_TRUE(fd_shows(pair_.server, POLLRDHUP));
  ASSERT_TRUE(run_until(loop, [&] { return first.done; }, kShortReadGuard));
  ASSERT_EQ(first.bytes(), head);
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.result, 0);
}

TEST_P(ShortReadStreamTest, NextReceiveGetsAnEndThatComesLater) {
  OneReceive first(1000), second(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_EQ(::shutdown(pair_.client, SHUT_WR), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.result, 0);
}

// A deadline ends a waiting receive; the next one still gets what comes.
TEST_P(ShortReadStreamTest, AReceiveThatTimedOutWhileWaitingLeavesTheNextOneWorking) {
  OneReceive first(1000), timed(1000), third(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  timed.op.timeout_ns = 20'000'000;
  ASSERT_EQ(timed.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return timed.done; }, kShortReadGuard));
  ASSERT_EQ(timed.result, -ETIMEDOUT);
  timed.op.timeout_ns = 0;
  ASSERT_EQ(third.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  auto more = short_read_pattern(50, 7);
  ASSERT_TRUE(peer_sends_all(pair_.client, more));
  ASSERT_TRUE(run_until(loop, [&] { return third.done; }, kShortReadGuard));
  EXPECT_EQ(third.bytes(), more);
}

// A request/response exchange of single receives: every reply arrives, and
// on epoll over TCP every receive after the first waited without a read.
TEST_P(ShortReadStreamTest, ManyShortReadsInARow) {
  OneReceive r(1000);
  uint64_t waited = loop.stats().reads_waited;
  for (int i = 0; i < 50; ++i) {
    auto message = short_read_pattern(size_t(1 + i * 13), uint8_t(i));
    read_served_from_an_edge(r, message);
    if (HasFatalFailure()) return;
    ASSERT_EQ(r.bytes(), message) << "message " << i;
  }
  EXPECT_EQ(loop.stats().reads_waited - waited, waits_here() ? 49u : 0u);
}

// TCP urgent data: a read stops short at its mark with data behind it, which
// epoll reports with EPOLLPRI; from then on short reads prove nothing.
TEST_P(ShortReadStreamTest, UrgentDataDoesNotStallTheNextReceive) {
  if (!tcp()) GTEST_SKIP() << "TCP urgent data";
  OneReceive first(1000), second(1000);
  ASSERT_EQ(first.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  auto before = short_read_pattern(100, 8);
  auto after = short_read_pattern(100, 9);
  ASSERT_TRUE(peer_sends_all(pair_.client, before));
  ASSERT_TRUE(peer_sends_all(pair_.client, {0x55}, MSG_OOB));
  ASSERT_TRUE(peer_sends_all(pair_.client, after));
  int received = tcp_received(pair_.server, 201);
  if (received < 0) GTEST_SKIP() << "TCP_INFO has no tcpi_bytes_received here";
  ASSERT_EQ(received, 1);
  ASSERT_TRUE(run_until(loop, [&] { return first.done; }, kShortReadGuard));
  ASSERT_EQ(first.bytes(), before) << "the read stops at the urgent mark";
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard))
      << "the data after the urgent byte waited for an edge that never comes";
  EXPECT_EQ(second.bytes(), after);
}

// The same for the epoll backend's multishot receive: it reads on after
// the urgent mark, on TCP and after a UNIX stream's out-of-band byte. (On
// io_uring the kernel's multishot receive left the data behind the mark
// unread until more came in 2 of 400 runs, 2026-12-06; the cause is not
// isolated, so that variant is not run.)
TEST_P(ShortReadStreamTest, UrgentDataDoesNotStallAMultishotReceive) {
  if (backend() != TestBackend::epoll) GTEST_SKIP() << "the epoll backend's multishot receive";
  Recorder receiver;
  EndsInFlight ends{loop, receiver.op};
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair_.server, Recorder::callback, &receiver), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  auto before = short_read_pattern(100, 17);
  auto after = short_read_pattern(100, 18);
  ASSERT_TRUE(peer_sends_all(pair_.client, before));
  const uint8_t mark = 0x55;
  if (::send(pair_.client, &mark, 1, MSG_OOB | MSG_NOSIGNAL) != 1) {
    GTEST_SKIP() << "no out-of-band data here: " << strerror(errno);
  }
  ASSERT_TRUE(peer_sends_all(pair_.client, after));
  if (tcp()) {
    int received = tcp_received(pair_.server, 201);
    if (received < 0) GTEST_SKIP() << "TCP_INFO has no tcpi_bytes_received here";
    ASSERT_EQ(received, 1);
  } else {
    ASSERT_TRUE(fd_holds(pair_.server, 200));
  }
  bool all = run_until(loop, [&] { return receiver.payload_bytes() >= 200 || receiver.terminal; },
                       kShortReadGuard);
  EXPECT_TRUE(all) << "received " << receiver.payload_bytes() << " of 200 bytes";
  auto expected = before;
  expected.insert(expected.end(), after.begin(), after.end());
  if (all) {
    EXPECT_EQ(receiver.joined(), expected);
  }
  EXPECT_EQ(loop.cancel(receiver.op), 0);
  EXPECT_TRUE(run_until(loop, [&] { return receiver.terminal; }));
}

// SO_RCVLOWAT above 1: data below the mark wakes nobody, but a read takes it.
TEST_P(ShortReadStreamTest, ARaisedLowWaterMarkDoesNotStallTheNextReceive) {
  int low_water = 100;
  ASSERT_EQ(::setsockopt(pair_.server, SOL_SOCKET, SO_RCVLOWAT, &low_water, sizeof low_water), 0);
  OneReceive first(1000), second(1000);
  auto head = short_read_pattern(150, 10);
  read_served_from_an_edge(first, head);
  if (HasFatalFailure()) return;
  ASSERT_EQ(first.bytes(), head);
  auto tail = short_read_pattern(5, 11);
  ASSERT_TRUE(peer_sends_all(pair_.client, tail));
  ASSERT_TRUE(fd_holds(pair_.server, 5));
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.bytes(), tail);
}

INSTANTIATE_TEST_SUITE_P(Sockets, ShortReadStreamTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::ipv4, Family::ipv6,
                                                          Family::unix_path)),
                         socket_param_name);

// A UNIX read stops after a message that carries descriptors, with the data
// behind it still queued: a short read proves the socket empty only when
// recvmsg(2) did not report control data (MSG_CTRUNC). It also stops at
// out-of-band data (MSG_OOB), which epoll reports with EPOLLPRI.
class ShortReadUnixTest : public ShortReadStreamTest {
 protected:
  // While `reading` waits, the peer sends 40 bytes carrying a descriptor,
  // then 60 more: `reading` gets the 40 (the read stops after the
  // descriptor), and `next`, started after it, the 60.
  void descriptor_then_data(OneReceive& reading, OneReceive& next, uint8_t seed) {
    auto with_fd = short_read_pattern(40, seed);
    auto after = short_read_pattern(60, uint8_t(seed + 1));
    // Any descriptor of ours: the receiver gets a copy.
    ASSERT_TRUE(peer_sends_with_fds(pair_.client, with_fd, with_fd.size(), pair_.listener));
    ASSERT_TRUE(peer_sends_all(pair_.client, after));
    ASSERT_TRUE(fd_holds(pair_.server, 100));
    ASSERT_TRUE(run_until(loop, [&] { return reading.done; }, kShortReadGuard));
    ASSERT_EQ(reading.bytes(), with_fd) << "the read stops after the message with the descriptor";
    ASSERT_EQ(next.start(loop, pair_.server), 0);
    ASSERT_TRUE(run_until(loop, [&] { return next.done; }, kShortReadGuard))
        << "the data after the descriptor waited for an edge that never comes";
    EXPECT_EQ(next.bytes(), after);
  }
};

TEST_P(ShortReadUnixTest, AMessageCarryingADescriptorDoesNotStallTheNextReceive) {
  OneReceive first(1000), second(1000);
  ASSERT_EQ(first.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  descriptor_then_data(first, second, 12);
}

// The same once a short read of the socket has proved it empty, so that
// the receive that gets the descriptor waits for its edge without a read.
TEST_P(ShortReadUnixTest, AMessageCarryingADescriptorAfterAShortReadDoesNotStallTheNextReceive) {
  OneReceive first(1000), second(1000), third(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  uint64_t waited = loop.stats().reads_waited;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_FALSE(second.done) << "nothing was sent yet";
  EXPECT_EQ(loop.stats().reads_waited - waited, waits_here() ? 1u : 0u)
      << "a receive after a short UNIX stream read on epoll waits without a read";
  descriptor_then_data(second, third, 21);
}

// Out-of-band data (Linux 5.15, CONFIG_AF_UNIX_OOB): a read stops short at
// its mark with data behind it. Sent while a receive waits after a short
// read, so that only EPOLLPRI can tell the backend not to trust the next.
TEST_P(ShortReadUnixTest, OutOfBandDataDoesNotStallTheNextReceive) {
  OneReceive first(1000), second(1000), third(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_FALSE(second.done) << "nothing was sent yet";
  auto before = short_read_pattern(100, 23);
  auto after = short_read_pattern(100, 24);
  ASSERT_TRUE(peer_sends_all(pair_.client, before));
  const uint8_t mark = 0x55;
  if (::send(pair_.client, &mark, 1, MSG_OOB | MSG_NOSIGNAL) != 1) {
    GTEST_SKIP() << "no UNIX out-of-band data here: " << strerror(errno);
  }
  ASSERT_TRUE(peer_sends_all(pair_.client, after));
  ASSERT_TRUE(fd_holds(pair_.server, 200));
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  ASSERT_EQ(second.bytes(), before) << "the read stops at the out-of-band mark";
  ASSERT_EQ(third.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return third.done; }, kShortReadGuard))
      << "the data after the out-of-band byte waited for an edge that never comes";
  EXPECT_EQ(third.bytes(), after);
}

TEST_P(ShortReadUnixTest, AMessageCarryingADescriptorDoesNotStallAMultishotReceive) {
  Recorder receiver;
  EndsInFlight ends{loop, receiver.op};
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair_.server, Recorder::callback, &receiver), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  auto with_fd = short_read_pattern(40, 19);
  auto after = short_read_pattern(60, 20);
  // Any descriptor of ours: the receiver gets a copy.
  ASSERT_TRUE(peer_sends_with_fds(pair_.client, with_fd, with_fd.size(), pair_.listener));
  ASSERT_TRUE(peer_sends_all(pair_.client, after));
  ASSERT_TRUE(fd_holds(pair_.server, 100));
  bool all = run_until(loop, [&] { return receiver.payload_bytes() >= 100 || receiver.terminal; },
                       kShortReadGuard);
  EXPECT_TRUE(all) << "received " << receiver.payload_bytes() << " of 100 bytes";
  auto expected = with_fd;
  expected.insert(expected.end(), after.begin(), after.end());
  if (all) {
    EXPECT_EQ(receiver.joined(), expected);
  }
  EXPECT_EQ(loop.cancel(receiver.op), 0);
  EXPECT_TRUE(run_until(loop, [&] { return receiver.terminal; }));
}

INSTANTIATE_TEST_SUITE_P(Sockets, ShortReadUnixTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::unix_path)),
                         socket_param_name);

class ShortReadDatagramTest : public SocketTest {};

// Three datagrams come in one edge while the first receive waits: each read
// takes one and is short of the buffer, which says nothing of the others.
TEST_P(ShortReadDatagramTest, QueuedDatagramsAreReceivedWithoutNewOnes) {
  Endpoint server_end;
  int server = bind_server(server_end);
  ASSERT_GE(server, 0);
  int client = connect_datagram(server_end);
  ASSERT_GE(client, 0) << strerror(-client);
  OneReceive r(2048);
  ASSERT_EQ(r.start(loop, server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_FALSE(r.done);
  std::vector<std::vector<uint8_t>> sent;
  for (int i = 0; i < 3; ++i) {
    sent.push_back(short_read_pattern(size_t(10 + i), uint8_t(i)));
    ASSERT_TRUE(peer_sends_all(client, sent.back()));
  }
  ASSERT_TRUE(fd_shows(server, POLLIN));
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      ASSERT_EQ(r.start(loop, server), 0);
    }
    ASSERT_TRUE(run_until(loop, [&] { return r.done; }, kShortReadGuard)) << "datagram " << i;
    EXPECT_EQ(r.bytes(), sent[size_t(i)]) << "datagram " << i;
  }
  EXPECT_TRUE(close_through(loop, server));
  EXPECT_TRUE(close_through(loop, client));
}

INSTANTIATE_TEST_SUITE_P(Sockets, ShortReadDatagramTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::ipv4, Family::unix_path)),
                         socket_param_name);

// An fd closed with plain close(2) while idle, its number then given to a
// new socket: epoll still watched the old one for reading when it closed,
// and the kernel dropped that registration with the file. The loop must
// watch the new socket afresh: one it accepts, and one it connects.
class ReusedFdNumberTest : public SocketTest {
 protected:
  // Holds every free fd number below `fd` (with /dev/null, so that no
  // duplicate keeps a socket open), so that the next number the process
  // gets after closing fd is fd (the lowest free one).
  void hold_numbers_below(int fd) {
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(null_fd, 0) << strerror(errno);
    held_.push_back(null_fd);
    for (;;) {
      int spare = ::fcntl(null_fd, F_DUPFD_CLOEXEC, 0);
      ASSERT_GE(spare, 0) << strerror(errno);
      if (spare > fd) {
        ::close(spare);
        return;
      }
      held_.push_back(spare);
    }
  }
  void TearDown() override {
    for (int fd : held_) ::close(fd);
  }
  // A request/response on (server, client) with single receives on the
  // server, each served from an edge, the last one short: the state in
  // which a receive may wait without a read.
  void exchange(int server, int client) {
    OneReceive r(1000);
    ASSERT_EQ(r.start(loop, server), 0);
    ASSERT_GE(loop.run(RunMode::no_wait), 0);
    auto message = short_read_pattern(64, 14);
    ASSERT_TRUE(peer_sends_all(client, message));
    ASSERT_TRUE(run_until(loop, [&] { return r.done; }, kShortReadGuard));
    ASSERT_EQ(r.bytes(), message);
  }
  std::vector<int> held_;
};

TEST_P(ReusedFdNumberTest, AnAcceptedSocketOnAReusedNumberIsWatched) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  exchange(pair.server, pair.client);
  if (HasFatalFailure()) return;
  int old_number = pair.server;
  // The next client connects first (its socket must not take the number).
  int next_client = open_socket(pair.endpoint);
  ASSERT_GE(next_client, 0);
  Recorder connected;
  ASSERT_EQ(loop.connect(connected.op, next_client, pair.endpoint, Recorder::callback, &connected), 0);
  ASSERT_TRUE(run_until(loop, [&] { return connected.terminal; }));
  ASSERT_EQ(connected.result(), 0);
  hold_numbers_below(old_number);
  if (HasFatalFailure()) return;
  ASSERT_EQ(::close(pair.server), 0);  // outside the loop, with nothing in flight
  pair.server = -1;
  Recorder accepted;
  ASSERT_EQ(loop.accept(accepted.op, pair.listener, nullptr, Recorder::callback, &accepted), 0);
  ASSERT_TRUE(run_until(loop, [&] { return accepted.terminal; }));
  ASSERT_EQ(accepted.result(), old_number) << "the accepted socket took the lowest free number";
  int server = accepted.result();
  OneReceive r(1000);
  uint64_t waited = loop.stats().reads_waited;
  ASSERT_EQ(r.start(loop, server), 0);  // nothing there yet: it waits for an edge
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  EXPECT_EQ(loop.stats().reads_waited, waited) << "the old socket's state was kept";
  auto message = short_read_pattern(32, 15);
  ASSERT_TRUE(peer_sends_all(next_client, message));
  ASSERT_TRUE(run_until(loop, [&] { return r.done; }, kShortReadGuard))
      << "the new socket was never watched";
  EXPECT_EQ(r.bytes(), message);
  EXPECT_TRUE(close_through(loop, server));
  EXPECT_TRUE(close_through(loop, next_client));
  close_pair(loop, pair);
}

TEST_P(ReusedFdNumberTest, AConnectingSocketOnAReusedNumberIsWatched) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  exchange(pair.client, pair.server);  // the client side receives here
  if (HasFatalFailure()) return;
  int old_number = pair.client;
  hold_numbers_below(old_number);
  if (HasFatalFailure()) return;
  ASSERT_EQ(::close(pair.client), 0);  // outside the loop, with nothing in flight
  pair.client = -1;
  int client = open_socket(pair.endpoint);
  ASSERT_EQ(client, old_number) << "the new socket took the lowest free number";
  Recorder accepted, connected;
  ASSERT_EQ(loop.accept(accepted.op, pair.listener, nullptr, Recorder::callback, &accepted), 0);
  ASSERT_EQ(loop.connect(connected.op, client, pair.endpoint, Recorder::callback, &connected), 0);
  ASSERT_TRUE(run_until(loop, [&] { return accepted.terminal && connected.terminal; }));
  ASSERT_EQ(connected.result(), 0);
  ASSERT_GE(accepted.result(), 0);
  OneReceive r(1000);
  uint64_t waited = loop.stats().reads_waited;
  ASSERT_EQ(r.start(loop, client), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  EXPECT_EQ(loop.stats().reads_waited, waited) << "the old socket's state was kept";
  auto message = short_read_pattern(32, 16);
  ASSERT_TRUE(peer_sends_all(accepted.result(), message));
  ASSERT_TRUE(run_until(loop, [&] { return r.done; }, kShortReadGuard))
      << "the new socket was never watched";
  EXPECT_EQ(r.bytes(), message);
  EXPECT_TRUE(close_through(loop, client));
  EXPECT_TRUE(close_through(loop, accepted.result()));
  close_pair(loop, pair);
}

INSTANTIATE_TEST_SUITE_P(Sockets, ReusedFdNumberTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::ipv4, Family::unix_path)),
                         socket_param_name);

}  // namespace
}  // namespace rstest
