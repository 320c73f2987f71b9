// Networks that break: the engine across a veth pair between two network
// namespaces of the test's own (netns.hpp), with the path cut while
// operations wait. The peer vanishes (nft drops everything in its namespace)
// or the link goes down; connects, receives and blocked sends end at their
// deadlines or with the kernel's error, never hang; the path comes back and a
// new connection echoes exactly; no fd is left behind. Skips without root,
// `ip` or `nft`. Every case takes well under 3 s.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "netns.hpp"
#include "support.hpp"

namespace rstest {
namespace {

constexpr uint64_t kDeadlineNs = 300'000'000;  // a connect or receive that cannot succeed
constexpr size_t kEchoBytes = 256 * 1024;

// A stream server in B echoing one connection through the loop: receive a
// chunk, send it back whole, receive again, until EOF or an error.
struct EchoServer {
  Operation recv_op;
  Operation send_op;
  int fd = -1;
  bool done = false;
  uint8_t chunk[16384];

  bool start(Loop& loop) {
    return loop.recv(recv_op, fd, chunk, sizeof(chunk), received, this) == 0;
  }
  static void received(Loop& loop, Operation& op, const Completion& completion) {
    auto* self = static_cast<EchoServer*>(op.user_data);
    if (completion.result <= 0 ||
        loop.send(self->send_op, self->fd, self->chunk, size_t(completion.result), sent, self) != 0)
      self->done = true;
  }
  static void sent(Loop& loop, Operation& op, const Completion& completion) {
    auto* self = static_cast<EchoServer*>(op.user_data);
    if (completion.result < 0 || !self->start(loop)) self->done = true;
  }
};

// The client's side of an echo: receives until `wanted` bytes came back.
struct Collector {
  Operation op;
  std::vector<uint8_t> bytes;
  size_t wanted = 0;
  int error = 0;
  uint8_t chunk[16384];

  bool finished() const { return error != 0 || bytes.size() >= wanted; }
  bool start(Loop& loop, int fd) {
    return loop.recv(op, fd, chunk, sizeof(chunk), received, this) == 0;
  }
  static void received(Loop& loop, Operation& op, const Completion& completion) {
    auto* self = static_cast<Collector*>(op.user_data);
    if (completion.result <= 0) {
      self->error = completion.result == 0 ? -EPIPE : completion.result;
      return;
    }
    self->bytes.insert(self->bytes.end(), self->chunk, self->chunk + completion.result);
    if (!self->finished() && !self->start(loop, op.fd)) self->error = -EIO;
  }
};

class NetnsFaultTest : public BackendTest {
 protected:
  void SetUp() override {
    std::string why;
    if (!netns_.create(why)) GTEST_SKIP() << why;
    BackendTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    fds_before_ = count_open_fds();
  }
  void TearDown() override {
    if (fds_before_ >= 0) {
      EXPECT_EQ(count_open_fds(), fds_before_) << "an fd was left open";
    }
  }

  // B's listener on 10.78.0.2, created from inside B.
  bool listen_in_b(StreamPair& pair) {
    Endpoint wanted;
    std::string url = std::string("tcp://") + netns_.address_b() + ":0";
    if (parse_endpoint(url, wanted).error != 0 || !netns_.enter_b()) return false;
    pair.listener = listen_on(wanted);
    bool back = netns_.enter_a();
    if (pair.listener < 0 || !back) return false;
    pair.endpoint = bound_endpoint(pair.listener, wanted);
    return true;
  }

  // A connection from A to B through the veth pair, accepted in B.
  bool connect_across(StreamPair& pair) {
    if (!listen_in_b(pair)) return false;
    pair.client = open_socket(pair.endpoint);
    Recorder accepted, connected;
    connected.op.timeout_ns = 2'000'000'000;
    EXPECT_EQ(loop.accept(accepted.op, pair.listener, nullptr, Recorder::callback, &accepted), 0);
    EXPECT_EQ(loop.connect(connected.op, pair.client, pair.endpoint, Recorder::callback,
                           &connected), 0);
    if (!run_until(loop, [&] { return connected.terminal; })) return false;
    EXPECT_EQ(connected.result(), 0);
    // A connect that failed leaves the accept waiting: it ends here, not later
    // on a Recorder that is gone.
    if (connected.result() != 0) loop.cancel(accepted.op);
    if (!run_until(loop, [&] { return accepted.terminal; })) return false;
    pair.server = accepted.result();
    return connected.result() == 0 && pair.server >= 0;
  }

  // The path works (again): a new connection carries kEchoBytes there and
  // back, every byte in order.
  void expect_exact_echo() {
    StreamPair pair;
    ASSERT_TRUE(connect_across(pair));
    std::vector<uint8_t> pattern(kEchoBytes);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = uint8_t(i * 7 + i / 251);
    EchoServer server;
    server.fd = pair.server;
    Collector back;
    back.wanted = pattern.size();
    Recorder sent;
    ASSERT_TRUE(server.start(loop));
    ASSERT_TRUE(back.start(loop, pair.client));
    ASSERT_EQ(loop.send(sent.op, pair.client, pattern.data(), pattern.size(), Recorder::callback,
                        &sent), 0);
    ASSERT_TRUE(run_until(loop, [&] { return sent.terminal && back.finished(); }, 5s));
    EXPECT_EQ(sent.result(), int(pattern.size()));
    EXPECT_EQ(back.error, 0) << strerror(-back.error);
    EXPECT_TRUE(back.bytes == pattern) << "the echo differs from what was sent";
    // Closing the client ends the server's receive with EOF; then nothing is in flight.
    ::close(pair.client);
    pair.client = -1;
    ASSERT_TRUE(run_until(loop, [&] { return server.done; }));
  }

  NetnsPair netns_;
  int fds_before_ = -1;
};

TEST_P(NetnsFaultTest, ConnectToAPeerThatDropsEverythingEndsAtItsDeadline) {
  StreamPair pair;
  ASSERT_TRUE(listen_in_b(pair));
  ASSERT_TRUE(netns_.drop_in_b()) << netns_.error();
  pair.client = open_socket(pair.endpoint);
  Recorder connected;
  connected.op.timeout_ns = kDeadlineNs;
  ASSERT_EQ(loop.connect(connected.op, pair.client, pair.endpoint, Recorder::callback, &connected),
            0);
  ASSERT_TRUE(run_until(loop, [&] { return connected.terminal; }));
  EXPECT_EQ(connected.result(), -ETIMEDOUT);
  EXPECT_EQ(connected.terminal_count, 1);

  ASSERT_TRUE(netns_.undrop_in_b()) << netns_.error();
  expect_exact_echo();
}

TEST_P(NetnsFaultTest, ReceiveWaitingWhenTheLinkGoesDownEndsAtItsDeadline) {
  StreamPair pair;
  ASSERT_TRUE(connect_across(pair));
  ASSERT_TRUE(netns_.link_down_in_a()) << netns_.error();
  uint8_t buffer[512];
  Recorder received;
  received.op.timeout_ns = kDeadlineNs;
  ASSERT_EQ(loop.recv(received.op, pair.client, buffer, sizeof(buffer), Recorder::callback,
                      &received), 0);
  ASSERT_TRUE(run_until(loop, [&] { return received.terminal; }));
  EXPECT_EQ(received.result(), -ETIMEDOUT);
  EXPECT_EQ(received.terminal_count, 1);

  ASSERT_TRUE(netns_.link_up_in_a()) << netns_.error();
  expect_exact_echo();
}

TEST_P(NetnsFaultTest, ReceiveWaitingWhenThePeerVanishesEndsAtItsDeadline) {
  StreamPair pair;
  ASSERT_TRUE(connect_across(pair));
  ASSERT_TRUE(netns_.drop_in_b()) << netns_.error();
  // The peer's last words are lost: B's send is dropped on its way out.
  ASSERT_EQ(::send(pair.server, "lost", 4, MSG_NOSIGNAL), 4);
  uint8_t buffer[512];
  Recorder received;
  received.op.timeout_ns = kDeadlineNs;
  ASSERT_EQ(loop.recv(received.op, pair.client, buffer, sizeof(buffer), Recorder::callback,
                      &received), 0);
  ASSERT_TRUE(run_until(loop, [&] { return received.terminal; }));
  EXPECT_EQ(received.result(), -ETIMEDOUT);

  ASSERT_TRUE(netns_.undrop_in_b()) << netns_.error();
  expect_exact_echo();
}

// A send blocked on a full window toward a vanished peer: TCP_USER_TIMEOUT
// (500 ms) makes the kernel give up on the unacknowledged data and close the
// connection; the send ends with the kernel's -ETIMEDOUT, with op.transferred
// telling how much the kernel took. Its own deadline (5 s) is only a guard:
// the kernel's timer fires far sooner, however slow the machine.
TEST_P(NetnsFaultTest, SendBlockedOnAVanishedPeerEndsWithTimedOut) {
  StreamPair pair;
  ASSERT_TRUE(connect_across(pair));
  int user_timeout_ms = 500;
  ASSERT_EQ(::setsockopt(pair.client, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
                         sizeof(user_timeout_ms)), 0);
  int send_buffer = 65536;
  ASSERT_EQ(::setsockopt(pair.client, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer)), 0);
  ASSERT_TRUE(netns_.drop_in_b()) << netns_.error();
  std::vector<uint8_t> big(4 << 20, 0x5a);
  Recorder sent;
  sent.op.timeout_ns = 5'000'000'000;
  ASSERT_EQ(loop.send(sent.op, pair.client, big.data(), big.size(), Recorder::callback, &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), -ETIMEDOUT);
  EXPECT_EQ(sent.terminal_count, 1);
  EXPECT_LT(sent.op.transferred, big.size());
  tcp_info info{};
  socklen_t info_length = sizeof(info);
  ASSERT_EQ(::getsockopt(pair.client, IPPROTO_TCP, TCP_INFO, &info, &info_length), 0);
  EXPECT_EQ(int(info.tcpi_state), TCP_CLOSE) << "the kernel did not end the connection: the deadline did";

  ASSERT_TRUE(netns_.undrop_in_b()) << netns_.error();
  expect_exact_echo();
}

INSTANTIATE_TEST_SUITE_P(Backends, NetnsFaultTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
