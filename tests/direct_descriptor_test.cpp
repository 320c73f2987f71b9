// Direct descriptors (LoopOptions::direct_descriptors): on io_uring, accepts
// put connections into the loop's registered file table, and every
// operation, the hang-up watch of a UNIX stream and close work on them as
// on fds; a full table is the fd limit's -EMFILE. On epoll the option is
// ignored and the same workflows run on fds.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "support.hpp"

namespace rstest {
namespace {

constexpr uint32_t kSlots = 16;
constexpr uint32_t kMaxFds = 4096;
// Slot s is kDirectDescriptor + max_fds + s.
constexpr int kFirstSlot = kDirectDescriptor + int(kMaxFds);

std::vector<uint8_t> pattern(size_t length, uint8_t seed) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i) bytes[i] = uint8_t(seed + i * 29 + (i >> 7));
  return bytes;
}

bool sends_all(int fd, const std::vector<uint8_t>& bytes) {
  size_t at = 0;
  while (at < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += size_t(n);
  }
  return true;
}

class DirectDescriptorTest : public SocketTest {
 protected:
  void SetUp() override {
    SocketTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (backend() == TestBackend::uring && loop.capabilities().direct_descriptors == 0) {
      // Where the kernel has them, their absence is a failure, not a skip.
      ASSERT_FALSE(direct_descriptors_expected(kSlots)) << "no table on a kernel that has them";
      GTEST_SKIP() << "the kernel has no table of direct descriptors for the engine (6.13)";
    }
  }
  LoopOptions loop_options() const override {
    LoopOptions o = options_for(backend());
    o.direct_descriptors = kSlots;
    o.max_fds = kMaxFds;
    return o;
  }
  // What an accept returns here: a direct descriptor on io_uring, an fd on epoll.
  void expect_accepted(int fd) const {
    EXPECT_EQ(is_direct_descriptor(fd), backend() == TestBackend::uring) << fd;
    if (is_direct_descriptor(fd)) {
      EXPECT_GE(fd, kFirstSlot);
      EXPECT_LT(fd, kFirstSlot + int(kSlots));
    }
  }
};

TEST_P(DirectDescriptorTest, CapabilitiesSayWhetherTheTableIsThere) {
  const Capabilities& caps = loop.capabilities();
  EXPECT_EQ(caps.direct_descriptors, backend() == TestBackend::uring ? kSlots : 0u);
  char text[512];
  format_capabilities(caps, text, sizeof text);
  EXPECT_EQ(strstr(text, "direct=16") != nullptr, backend() == TestBackend::uring) << text;
  // Slots no accept has filled are no descriptors yet.
  uint8_t byte = 0;
  Recorder refused;
  for (int fd : {kFirstSlot, kFirstSlot + int(kSlots) - 1}) {
    EXPECT_EQ(loop.recv(refused.op, fd, &byte, 1, Recorder::callback, &refused), -EBADF) << fd;
  }
}

// accept, recv_multishot, send, sendv, shutdown and close on the accepted
// side; the peer is an fd of the same loop.
TEST_P(DirectDescriptorTest, EchoOverAnAcceptedConnection) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  expect_accepted(pair.server);
  auto request = pattern(3000, 5);
  auto body = pattern(2000, 9);
  const char header[] = "HDR:";
  Recorder receiver, sent, sentv, shut, closed;
  SlowReader reader;
  // After what they guard: a failed ASSERT ends the operations first.
  EndsInFlight ends[] = {{loop, receiver.op}, {loop, sent.op}, {loop, sentv.op},
                         {loop, shut.op},     {loop, closed.op}, {loop, reader.op}};
  ASSERT_TRUE(sends_all(pair.client, request));
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, Recorder::callback, &receiver), 0);
  ASSERT_TRUE(run_until(loop, [&] { return receiver.payload_bytes() >= request.size(); }))
      << receiver.completions.size() << " completions, last " << receiver.result();
  EXPECT_EQ(receiver.joined(), request);
  EXPECT_FALSE(receiver.terminal);

  // Back: a plain send, then a header and body in one sendv.
  ASSERT_EQ(loop.send(sent.op, pair.server, request.data(), request.size(), Recorder::callback,
                      &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), int(request.size()));
  iovec pieces[2] = {{const_cast<char*>(header), 4}, {body.data(), body.size()}};
  ASSERT_EQ(loop.sendv(sentv.op, pair.server, pieces, 2, Recorder::callback, &sentv), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sentv.terminal; }));
  EXPECT_EQ(sentv.result(), int(4 + body.size()));
  ASSERT_EQ(loop.shutdown(shut.op, pair.server, SHUT_WR, Recorder::callback, &shut), 0);
  ASSERT_TRUE(run_until(loop, [&] { return shut.terminal; }));
  EXPECT_EQ(shut.result(), 0);

  reader.start(loop, pair.client, 1u << 20);  // until EOF
  ASSERT_TRUE(run_until(loop, [&] { return reader.done; }));
  EXPECT_EQ(reader.last, 0) << "the server's shutdown reaches the client as EOF";
  std::vector<uint8_t> expected = request;
  expected.insert(expected.end(), header, header + 4);
  expected.insert(expected.end(), body.begin(), body.end());
  EXPECT_EQ(reader.received, expected);

  // The client hangs up: the multishot receive ends with EOF (on a UNIX
  // stream through the hang-up watch, which polls the direct descriptor).
  ::close(pair.client);
  pair.client = -1;
  ASSERT_TRUE(run_until(loop, [&] { return receiver.terminal; }));
  EXPECT_EQ(receiver.result(), 0);
  EXPECT_EQ(receiver.terminal_count, 1);
  ASSERT_EQ(loop.close(closed.op, pair.server, Recorder::callback, &closed), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }));
  EXPECT_EQ(closed.result(), 0);
  int old = pair.server;
  pair.server = -1;
  if (is_direct_descriptor(old)) {
    Recorder late;
    uint8_t byte = 0;
    EXPECT_EQ(loop.recv(late.op, old, &byte, 1, Recorder::callback, &late), -EBADF)
        << "an empty slot is no descriptor until an accept fills it again";
    Recorder again;
    EXPECT_EQ(loop.close(again.op, old, Recorder::callback, &again), -EBADF)
        << "nor does a second close of it touch the table";
  }
}

// A close while a multishot receive, a single receive with a deadline and a
// send to a peer that does not read are in flight: each ends once, before
// the close's callback, and the slot is taken by the next accept.
TEST_P(DirectDescriptorTest, CloseEndsEveryOperationFirst) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  expect_accepted(pair.server);
  int slow = 1 << 16;
  setsockopt(pair.client, SOL_SOCKET, SO_RCVBUF, &slow, sizeof slow);
  std::vector<uint8_t> big(8u << 20, 0x5a);  // more than both socket buffers hold
  uint8_t scratch[64];
  Recorder multishot, single, sender, closed, accepted, connected, closed_again;
  SlowReader reader;
  int again = -1;
  EndsInFlight ends[] = {{loop, multishot.op}, {loop, single.op},    {loop, sender.op},
                         {loop, closed.op},    {loop, accepted.op},  {loop, connected.op},
                         {loop, closed_again.op}, {loop, reader.op}};
  ASSERT_EQ(loop.recv_multishot(multishot.op, pair.server, Recorder::callback, &multishot), 0);
  ASSERT_EQ(loop.send(sender.op, pair.server, big.data(), big.size(), Recorder::callback, &sender),
            0);
  ASSERT_EQ(loop.run(RunMode::no_wait) >= 0, true);
  ASSERT_EQ(loop.close(closed.op, pair.server, Recorder::callback, &closed), 0);
  EXPECT_EQ(loop.recv(single.op, pair.server, scratch, sizeof scratch, Recorder::callback, &single),
            -EBADF) << "no new operation while the close waits";
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }));
  pair.server = -1;
  EXPECT_TRUE(multishot.terminal);
  EXPECT_TRUE(sender.terminal);
  EXPECT_EQ(multishot.terminal_count, 1);
  EXPECT_EQ(sender.terminal_count, 1);
  EXPECT_EQ(multishot.result(), -ECANCELED);
  EXPECT_TRUE(sender.result() == -ECANCELED || sender.result() > 0) << sender.result();
  EXPECT_EQ(closed.result(), 0);
  EXPECT_EQ(closed.terminal_count, 1);

  // The peer sees the connection go (EOF or a reset) once the slot is empty.
  reader.start(loop, pair.client, big.size() + 1);
  ASSERT_TRUE(run_until(loop, [&] { return reader.done; }, 30s));
  EXPECT_LE(reader.last, 0);

  // The next connection is accepted into a free slot and works.
  again = open_socket(pair.endpoint);
  ASSERT_GE(again, 0);
  ASSERT_EQ(loop.accept(accepted.op, pair.listener, nullptr, Recorder::callback, &accepted), 0);
  ASSERT_EQ(loop.connect(connected.op, again, pair.endpoint, Recorder::callback, &connected), 0);
  ASSERT_TRUE(run_until(loop, [&] { return accepted.terminal && connected.terminal; }));
  ASSERT_GE(accepted.result(), 0);
  expect_accepted(accepted.result());
  single.op.timeout_ns = 50'000'000;
  ASSERT_EQ(loop.recv(single.op, accepted.result(), scratch, sizeof scratch, Recorder::callback,
                      &single), 0);
  ASSERT_TRUE(run_until(loop, [&] { return single.terminal; }));
  EXPECT_EQ(single.result(), -ETIMEDOUT) << "a deadline on a direct descriptor";
  ASSERT_EQ(loop.close(closed_again.op, accepted.result(), Recorder::callback, &closed_again), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closed_again.terminal; }));
  EXPECT_EQ(closed_again.result(), 0);
  ::close(again);
}

// A close ends the connection at once even while a request on another slot
// stays in the kernel (the table's older kernels kept the closed socket
// open until every request issued before the close had completed).
TEST_P(DirectDescriptorTest, CloseEndsTheConnectionWhileAnotherStaysArmed) {
  StreamPair first, second;
  ASSERT_TRUE(connect_pair(loop, family(), dir, first));
  ASSERT_TRUE(connect_pair(loop, family(), dir, second));
  expect_accepted(first.server);
  expect_accepted(second.server);
  Recorder armed, closed;
  SlowReader reader;
  EndsInFlight ends[] = {{loop, armed.op}, {loop, closed.op}, {loop, reader.op}};
  ASSERT_EQ(loop.recv_multishot(armed.op, second.server, Recorder::callback, &armed), 0);
  ASSERT_GE(loop.run(RunMode::no_wait), 0);
  ASSERT_EQ(loop.close(closed.op, first.server, Recorder::callback, &closed), 0);
  first.server = -1;
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }));
  EXPECT_EQ(closed.result(), 0);
  reader.start(loop, first.client, 1);
  ASSERT_TRUE(run_until(loop, [&] { return reader.done; }));
  EXPECT_EQ(reader.last, 0) << "the closed connection's peer sees its end";
  EXPECT_FALSE(armed.terminal) << "the other connection's receive is still armed";
  const char ping[] = "ping";
  ASSERT_EQ(::send(second.client, ping, 4, MSG_NOSIGNAL), 4);
  ASSERT_TRUE(run_until(loop, [&] { return armed.payload_bytes() >= 4; }));
  close_pair(loop, second);
}

INSTANTIATE_TEST_SUITE_P(Streams, DirectDescriptorTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(all_families())),
                         socket_param_name);

// A table of two: the multishot accept takes two connections, then ends
// once with the fd limit's -EMFILE (the others wait in the backlog); after
// a close a re-armed accept takes the next into the freed slot, and no
// connection is lost on the way.
class DirectTableLimitTest : public BackendTest {
 protected:
  LoopOptions loop_options() const override {
    LoopOptions o = options_for(GetParam());
    o.direct_descriptors = 2;
    o.max_fds = kMaxFds;
    return o;
  }
};

TEST_P(DirectTableLimitTest, AFullTableIsTheFdLimit) {
  if (GetParam() != TestBackend::uring) GTEST_SKIP() << "direct descriptors are io_uring's";
  if (loop.capabilities().direct_descriptors != 2) {
    ASSERT_FALSE(direct_descriptors_expected(2)) << "no table on a kernel that has them";
    GTEST_SKIP() << "the kernel has no table of direct descriptors for the engine (6.13)";
  }
  WaitingClients waiting;
  ASSERT_TRUE(connect_waiting_clients(4, waiting));
  const int listener = waiting.listener;
  Recorder first;
  ASSERT_EQ(loop.accept_multishot(first.op, listener, Recorder::callback, &first), 0);
  ASSERT_TRUE(run_until(loop, [&] { return first.terminal; }));
  for (int turn = 0; turn < 20; ++turn) loop.run(RunMode::no_wait);  // would show any spinning
  ASSERT_EQ(first.completions.size(), 3u) << "two slots, then one terminal -EMFILE";
  EXPECT_TRUE(is_direct_descriptor(first.completions[0].result));
  EXPECT_TRUE(is_direct_descriptor(first.completions[1].result));
  EXPECT_NE(first.completions[0].result, first.completions[1].result);
  EXPECT_EQ(first.completions[2].result, -EMFILE);
  EXPECT_GE(first.completions[0].result, kFirstSlot);
  EXPECT_LT(first.completions[0].result, kFirstSlot + 2);
  // A slot past the table, and numbers between the fds and the slots, are no descriptors.
  uint8_t byte = 0;
  Recorder refused;
  for (int fd : {kFirstSlot + 2, kFirstSlot - 1, kDirectDescriptor, kDirectDescriptor - 1,
                 int(kMaxFds), -1}) {
    EXPECT_EQ(loop.recv(refused.op, fd, &byte, 1, Recorder::callback, &refused), -EBADF) << fd;
  }

  Recorder closed;
  ASSERT_EQ(loop.close(closed.op, first.completions[0].result, Recorder::callback, &closed), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }));
  EXPECT_EQ(closed.result(), 0);
  Recorder second;
  ASSERT_EQ(loop.accept_multishot(second.op, listener, Recorder::callback, &second), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.terminal; }, 2s))
      << second.completions.size() << " completions, last " << second.result();
  ASSERT_EQ(second.completions.size(), 2u) << "the freed slot, then -EMFILE again";
  EXPECT_EQ(second.completions[0].result, first.completions[0].result) << "the one free slot";
  EXPECT_EQ(second.completions[1].result, -EMFILE);
  // Full from the start: the accept does not reach the kernel, which would
  // take a connection off the backlog and reset it for want of a slot.
  Recorder full;
  ASSERT_EQ(loop.accept_multishot(full.op, listener, Recorder::callback, &full), 0);
  ASSERT_TRUE(run_until(loop, [&] { return full.terminal; }));
  ASSERT_EQ(full.completions.size(), 1u);
  EXPECT_EQ(full.completions[0].result, -EMFILE);
  for (int fd : {first.completions[1].result, second.completions[0].result}) {
    Recorder c;
    ASSERT_EQ(loop.close(c.op, fd, Recorder::callback, &c), 0);
    ASSERT_TRUE(run_until(loop, [&] { return c.terminal; }));
    EXPECT_EQ(c.result(), 0);
  }
  // The fourth client waited in the backlog all along: none was lost.
  Recorder last;
  ASSERT_EQ(loop.accept(last.op, listener, nullptr, Recorder::callback, &last), 0);
  ASSERT_TRUE(run_until(loop, [&] { return last.terminal; }));
  ASSERT_TRUE(is_direct_descriptor(last.result())) << last.result();
  const char hello[] = "still here";
  ASSERT_EQ(::send(waiting.clients[3], hello, sizeof hello, MSG_NOSIGNAL), ssize_t(sizeof hello));
  char got[sizeof hello] = {};
  Recorder read;
  ASSERT_EQ(loop.recv(read.op, last.result(), got, sizeof got, Recorder::callback, &read), 0);
  ASSERT_TRUE(run_until(loop, [&] { return read.terminal; }));
  EXPECT_EQ(read.result(), int(sizeof hello));
  EXPECT_STREQ(got, hello);
  Recorder closed_last;
  ASSERT_EQ(loop.close(closed_last.op, last.result(), Recorder::callback, &closed_last), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closed_last.terminal; }));
}

// A loop without the table takes no direct descriptor.
TEST_P(DirectTableLimitTest, ADirectDescriptorWithoutATableIsRefused) {
  Loop plain;
  std::string why;
  int rc = init_for_test(plain, options_for(GetParam()), why);
  if (rc < 0 && GetParam() == TestBackend::uring) GTEST_SKIP() << why;
  ASSERT_EQ(rc, 0) << why;
  uint8_t byte = 0;
  Recorder refused;
  // Whatever its max_fds, no number from kDirectDescriptor up is a descriptor of it.
  for (int fd : {kDirectDescriptor, kDirectDescriptor + 1, kFirstSlot, kDirectDescriptor + 65536}) {
    EXPECT_EQ(plain.recv(refused.op, fd, &byte, 1, Recorder::callback, &refused), -EBADF) << fd;
    EXPECT_EQ(plain.close(refused.op, fd, Recorder::callback, &refused), -EBADF) << fd;
  }
}

// Above the engine's bound the option is bad input: init refuses it.
TEST_P(DirectTableLimitTest, ATableTooLargeIsRefused) {
  Loop other;
  LoopOptions o = options_for(GetParam());
  o.direct_descriptors = 65537;
  EXPECT_EQ(other.init(o), -EINVAL);
}

INSTANTIATE_TEST_SUITE_P(Backends, DirectTableLimitTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
