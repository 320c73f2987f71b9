// Receives after a short read. On epoll a stream read that returns less
// than it asked for emptied the socket, so the next receive waits for the
// edge that new data brings instead of trying a read that would say EAGAIN.
// These tests check that it never waits when data is there already: data
// that came before the next receive was started (its edge taken while
// nobody read), the rest of a read that filled its buffer, the end of the
// stream, and queued datagrams (one per read, so a short read proves
// nothing). Each wait is bounded: a receive that waits for an edge that
// never comes fails the test instead of hanging it. Both backends run them.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
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

bool peer_sends_all(int fd, const std::vector<uint8_t>& bytes) {
  ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (n != ssize_t(bytes.size())) {
    ADD_FAILURE() << "peer send: " << (n < 0 ? strerror(errno) : "short");
    return false;
  }
  return true;
}

// One receive into a caller buffer.
struct OneReceive {
  Operation op;
  std::vector<uint8_t> buffer;
  int result = 1;
  bool done = false;
  explicit OneReceive(size_t capacity) : buffer(capacity) {}
  static void callback(Loop&, Operation& op, const Completion& c) {
    auto* self = static_cast<OneReceive*>(op.user_data);
    self->result = c.result;
    self->done = true;
  }
  int start(Loop& loop, int fd) {
    done = false;
    result = 1;
    return loop.recv(op, fd, buffer.data(), buffer.size(), callback, this);
  }
  std::vector<uint8_t> bytes() const {
    return result > 0 ? std::vector<uint8_t>(buffer.begin(), buffer.begin() + result)
                      : std::vector<uint8_t>();
  }
};

// Lets the loop take every event that is there with no receive waiting: a
// short timer, run to its end, so the loop polls at least once.
void loop_polls_with_nobody_reading(Loop& loop) {
  Recorder timer;
  ASSERT_EQ(loop.timeout(timer.op, 1000000, Recorder::callback, &timer), 0);
  ASSERT_TRUE(run_until(loop, [&] { return timer.terminal; }, kShortReadGuard));
}

class ShortReadStreamTest : public SocketTest {
 protected:
  void SetUp() override {
    SocketTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(connect_pair(loop, family(), dir, pair_));
  }
  void TearDown() override {
    if (pair_.server >= 0 || pair_.client >= 0) close_pair(loop, pair_);
  }
  // A first receive that comes back short: 100 bytes into a 1000-byte buffer.
  void first_read_is_short(OneReceive& first) {
    ASSERT_EQ(first.start(loop, pair_.server), 0);
    auto head = short_read_pattern(100, 1);
    ASSERT_TRUE(peer_sends_all(pair_.client, head));
    ASSERT_TRUE(run_until(loop, [&] { return first.done; }, kShortReadGuard));
    ASSERT_EQ(first.bytes(), head);
  }
  StreamPair pair_;
};

TEST_P(ShortReadStreamTest, NextReceiveGetsDataThatComesLater) {
  OneReceive first(1000), second(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_FALSE(second.done) << "nothing was sent yet";
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
  ASSERT_TRUE(fd_shows(pair_.server, POLLIN));
  ASSERT_EQ(second.start(loop, pair_.server), 0);  // its edge has not been taken yet
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.bytes(), more);
}

TEST_P(ShortReadStreamTest, NextReceiveGetsDataWhoseEdgeCameWhileNobodyRead) {
  OneReceive first(1000), second(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  auto more = short_read_pattern(300, 4);
  ASSERT_TRUE(peer_sends_all(pair_.client, more));
  ASSERT_TRUE(fd_shows(pair_.server, POLLIN));
  loop_polls_with_nobody_reading(loop);  // the edge is taken, and no new one comes
  if (HasFatalFailure()) return;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.bytes(), more);
}

// The first receive waits (so epoll watches the socket) before 1500 bytes
// come in one edge; it takes 1000, and the rest must not wait for another.
TEST_P(ShortReadStreamTest, AFullReadLeavesTheRestForTheNextReceive) {
  OneReceive first(1000), second(1000);
  ASSERT_EQ(first.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_FALSE(first.done);
  auto all = short_read_pattern(1500, 5);
  ASSERT_TRUE(peer_sends_all(pair_.client, all));
  ASSERT_TRUE(fd_shows(pair_.server, POLLIN));
  ASSERT_TRUE(run_until(loop, [&] { return first.done; }, kShortReadGuard));
  ASSERT_GT(first.result, 0);
  ASSERT_EQ(second.start(loop, pair_.server), 0);  // no more data comes: no new edge
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  auto joined = first.bytes();
  auto rest = second.bytes();
  joined.insert(joined.end(), rest.begin(), rest.end());
  EXPECT_EQ(joined, std::vector<uint8_t>(all.begin(), all.begin() + joined.size()));
  EXPECT_GE(joined.size(), size_t(1000) + 1) << "the second receive got none of the rest";
}

TEST_P(ShortReadStreamTest, NextReceiveGetsTheEndOfStream) {
  OneReceive first(1000), second(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_EQ(::shutdown(pair_.client, SHUT_WR), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.result, 0);
}

TEST_P(ShortReadStreamTest, NextReceiveGetsAnEndOfStreamSeenWhileNobodyRead) {
  OneReceive first(1000), second(1000);
  first_read_is_short(first);
  if (HasFatalFailure()) return;
  ASSERT_EQ(::shutdown(pair_.client, SHUT_WR), 0);
  ASSERT_TRUE(fd_shows(pair_.server, POLLRDHUP));
  loop_polls_with_nobody_reading(loop);
  if (HasFatalFailure()) return;
  ASSERT_EQ(second.start(loop, pair_.server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.done; }, kShortReadGuard));
  EXPECT_EQ(second.result, 0);
}

// A ping-pong of single receives, each short: every reply arrives.
TEST_P(ShortReadStreamTest, ManyShortReadsInARow) {
  OneReceive r(1000);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(r.start(loop, pair_.server), 0);
    auto message = short_read_pattern(size_t(1 + i * 13), uint8_t(i));
    ASSERT_TRUE(peer_sends_all(pair_.client, message));
    ASSERT_TRUE(run_until(loop, [&] { return r.done; }, kShortReadGuard)) << "message " << i;
    ASSERT_EQ(r.bytes(), message) << "message " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Sockets, ShortReadStreamTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::ipv4, Family::unix_path)),
                         socket_param_name);

class ShortReadDatagramTest : public SocketTest {};

// The first receive waits (so epoll watches the socket) before three
// datagrams come in one edge: each read takes one and is short of the
// buffer, which on a datagram socket says nothing of the others.
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
  Recorder closed_server, closed_client;
  ASSERT_EQ(loop.close(closed_server.op, server, Recorder::callback, &closed_server), 0);
  ASSERT_EQ(loop.close(closed_client.op, client, Recorder::callback, &closed_client), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closed_server.terminal && closed_client.terminal; }));
}

INSTANTIATE_TEST_SUITE_P(Sockets, ShortReadDatagramTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::ipv4, Family::unix_path)),
                         socket_param_name);

}  // namespace
}  // namespace rstest
