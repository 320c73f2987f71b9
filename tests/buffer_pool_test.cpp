// The buffer pool under pressure: an empty pool pauses multishot receives
// (ENOBUFS inside the engine), they resume as buffers come back, nothing is
// lost or reordered. Buffer releases are checked.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "support.hpp"

namespace rstest {
namespace {

class TinyPoolTest : public BackendTest {
 protected:
  LoopOptions loop_options() const override {
    LoopOptions o;
    o.buffer_count = 2;
    o.buffer_size = 256;
    return options_for(GetParam(), o);
  }
};

// Holds every lent buffer until the test gives them back, so the pool runs dry.
struct Hoarder {
  Operation op;
  std::vector<uint16_t> held;
  std::vector<uint8_t> received;
  std::vector<std::vector<uint8_t>> datagrams;
  bool datagram = false;
  bool terminal = false;
  int last = 1;
  static void callback(Loop&, Operation& op, const Completion& c) {
    auto* self = static_cast<Hoarder*>(op.user_data);
    if (c.has_buffer) {
      if (self->datagram) {
        self->datagrams.emplace_back(c.data, c.data + c.result);
      } else {
        self->received.insert(self->received.end(), c.data, c.data + c.result);
      }
      self->held.push_back(c.buffer_id);
    }
    if (!c.more) {
      self->terminal = true;
      self->last = c.result;
    }
  }
  void give_back(Loop& loop) {
    for (uint16_t id : held) EXPECT_EQ(loop.release_buffer(id), 0);
    held.clear();
  }
};

TEST_P(TinyPoolTest, StreamReceivePausesAndResumesWithoutLoss) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  std::vector<uint8_t> message(64 * 1024);
  for (size_t i = 0; i < message.size(); ++i) message[i] = uint8_t(i * 7 + (i >> 9));
  Hoarder h;
  ASSERT_EQ(loop.recv_multishot(h.op, sv[0], Hoarder::callback, &h), 0);
  Recorder sent;
  ASSERT_EQ(loop.send(sent.op, sv[1], message.data(), message.size(), Recorder::callback, &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] {
    // Let the pool run dry before giving buffers back.
    if (h.held.size() == 2) h.give_back(loop);
    return h.received.size() >= message.size() && sent.terminal;
  }, 30s));
  EXPECT_TRUE(h.received == message);
  EXPECT_FALSE(h.terminal) << "ENOBUFS must never reach the caller: " << h.last;
  // A dry pool ends the kernel's receive: with ENOBUFS (a pause), or, with
  // io_uring receive bundles, right after the bundle that took the last
  // buffers (the engine re-arms it).
  EXPECT_GT(loop.stats().buffer_pauses + loop.stats().rearms, 0u)
      << "the pool never ran dry: the test proved nothing";
  h.give_back(loop);
  ::close(sv[1]);
  ASSERT_TRUE(run_until(loop, [&] { return h.terminal; }));
  EXPECT_EQ(h.last, 0);
  ::close(sv[0]);
}

TEST_P(TinyPoolTest, DatagramReceivePausesAndResumesWithoutLoss) {
  if (loop.backend() == BackendKind::uring && !loop.capabilities().multishot_recv) {
    GTEST_SKIP() << "kernel lacks multishot recvmsg";
  }
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  constexpr int kDatagrams = 50;
  Hoarder h;
  h.datagram = true;
  ASSERT_EQ(loop.recvfrom_multishot(h.op, sv[0], Hoarder::callback, &h), 0);
  for (int i = 0; i < kDatagrams; ++i) {
    uint8_t d[3] = {uint8_t(i), uint8_t(i + 1), uint8_t(i + 2)};
    ASSERT_EQ(::send(sv[1], d, 1 + i % 3, 0), 1 + i % 3);
  }
  ASSERT_TRUE(run_until(loop, [&] {
    if (h.held.size() == 2) h.give_back(loop);
    return h.datagrams.size() >= size_t(kDatagrams);
  }));
  ASSERT_EQ(h.datagrams.size(), size_t(kDatagrams));
  for (int i = 0; i < kDatagrams; ++i) {
    ASSERT_EQ(h.datagrams[i].size(), size_t(1 + i % 3)) << i;
    EXPECT_EQ(h.datagrams[i][0], uint8_t(i)) << "datagram " << i << " out of order";
  }
  EXPECT_GT(loop.stats().buffer_pauses, 0u);
  h.give_back(loop);
  ASSERT_EQ(loop.cancel(h.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return h.terminal; }));
  ::close(sv[0]);
  ::close(sv[1]);
}

// Loop::buffers_lent() counts the buffers with the caller: up as chunks are
// handed out, down as they are given back, 0 at the end (the soak's leak check).
TEST_P(TinyPoolTest, BuffersLentCountsWhatTheCallerHolds) {
  EXPECT_EQ(loop.buffers_lent(), 0u);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  Hoarder h;
  ASSERT_EQ(loop.recv_multishot(h.op, sv[0], Hoarder::callback, &h), 0);
  ASSERT_EQ(::send(sv[1], "x", 1, 0), 1);
  ASSERT_TRUE(run_until(loop, [&] { return h.held.size() == 1; }));
  EXPECT_EQ(loop.buffers_lent(), 1u);
  ASSERT_EQ(::send(sv[1], "y", 1, 0), 1);
  ASSERT_TRUE(run_until(loop, [&] { return h.held.size() == 2; }));
  EXPECT_EQ(loop.buffers_lent(), 2u);
  EXPECT_EQ(loop.release_buffer(h.held[0]), 0);
  EXPECT_EQ(loop.buffers_lent(), 1u);
  EXPECT_EQ(loop.release_buffer(h.held[0]), -EINVAL);
  EXPECT_EQ(loop.buffers_lent(), 1u) << "a refused release must not count";
  EXPECT_EQ(loop.release_buffer(h.held[1]), 0);
  EXPECT_EQ(loop.buffers_lent(), 0u);
  h.held.clear();
  ::close(sv[1]);
  ASSERT_TRUE(run_until(loop, [&] { return h.terminal; }));
  EXPECT_EQ(loop.buffers_lent(), 0u);
  ::close(sv[0]);
}

TEST_P(TinyPoolTest, ReleaseOfABufferNotLentIsRefused) {
  EXPECT_EQ(loop.release_buffer(0), -EINVAL);
  EXPECT_EQ(loop.release_buffer(2), -EINVAL);
  EXPECT_EQ(loop.release_buffer(65535), -EINVAL);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  Hoarder h;
  ASSERT_EQ(loop.recv_multishot(h.op, sv[0], Hoarder::callback, &h), 0);
  ASSERT_EQ(::send(sv[1], "x", 1, 0), 1);
  ASSERT_TRUE(run_until(loop, [&] { return h.held.size() == 1; }));
  EXPECT_EQ(loop.release_buffer(h.held[0]), 0);
  EXPECT_EQ(loop.release_buffer(h.held[0]), -EINVAL) << "double release";
  h.held.clear();
  ::close(sv[1]);
  ASSERT_TRUE(run_until(loop, [&] { return h.terminal; }));
  ::close(sv[0]);
}

// A per-fd cap on lent buffers (LoopOptions::max_lent_per_fd): one reader
// that keeps every buffer it is lent cannot empty the pool for the others.
class CappedPoolTest : public BackendTest {
 protected:
  static constexpr uint32_t kBuffers = 64;
  static constexpr uint32_t kCap = 4;
  LoopOptions loop_options() const override {
    LoopOptions o;
    o.buffer_count = kBuffers;
    o.buffer_size = 4096;
    o.max_lent_per_fd = kCap;
    return options_for(GetParam(), o);
  }
};

TEST_P(CappedPoolTest, AHoardingReaderPausesAtItsCapAndOthersAreServed) {
  int a[2], b[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, a), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, b), 0);
  // Four times what the pool holds: without a cap the hoarder takes it all.
  std::vector<uint8_t> stream(4 * kBuffers * 4096);
  for (size_t i = 0; i < stream.size(); ++i) stream[i] = uint8_t(i * 13 + (i >> 12));
  size_t written = 0;
  bool socket_full = false;
  auto feed = [&] {
    ssize_t n = ::send(a[1], stream.data() + written, stream.size() - written, MSG_DONTWAIT);
    if (n > 0) written += size_t(n);
    socket_full = n <= 0;
  };
  Hoarder hoarder;
  ASSERT_EQ(loop.recv_multishot(hoarder.op, a[0], Hoarder::callback, &hoarder), 0);
  Recorder other;
  ASSERT_EQ(loop.recv_multishot(other.op, b[0], Recorder::callback, &other), 0);
  // The hoarder reads until it holds its cap and is paused: its socket fills up.
  ASSERT_TRUE(run_until(loop, [&] {
    feed();
    return socket_full && hoarder.held.size() >= kCap && loop.stats().fd_cap_pauses > 0;
  }));
  for (int i = 0; i < 5; ++i) loop.run(RunMode::no_wait);
  EXPECT_LE(hoarder.held.size(), size_t(kCap)) << "the hoarder was lent past its cap";
  std::printf("held at the cap of %u: %zu buffers\n", kCap, hoarder.held.size());
  // Another connection is served meanwhile.
  ASSERT_EQ(::send(b[1], "hello", 5, MSG_DONTWAIT), 5);
  ASSERT_TRUE(run_until(loop, [&] { return !other.payloads.empty(); }, 3s))
      << "another fd starved while one fd held its buffers";
  EXPECT_EQ(std::string(other.payloads[0].begin(), other.payloads[0].end()), "hello");
  EXPECT_FALSE(hoarder.terminal);
  // Given back, the hoarder resumes and gets the whole stream, in order.
  ASSERT_TRUE(run_until(loop, [&] {
    feed();
    hoarder.give_back(loop);
    return hoarder.received.size() == stream.size();
  }));
  EXPECT_TRUE(hoarder.received == stream);
  EXPECT_FALSE(hoarder.terminal);
  ::close(a[1]);
  ::close(b[1]);
  ASSERT_TRUE(run_until(loop, [&] { return hoarder.terminal && other.terminal; }));
  hoarder.give_back(loop);
  EXPECT_EQ(hoarder.last, 0);
  ::close(a[0]);
  ::close(b[0]);
}

// The cap holds against a burst: far more than the pool is already queued on
// a TCP connection when its receive is armed, where one multishot arming (a
// bundle of up to 256 buffers, then the kernel's retries) would take the
// whole pool before the core saw the first result. Neither backend lends
// past the cap: io_uring arms such a receive for one buffer at a time, and
// epoll's emulation reads no more than the fd has left under it.
TEST_P(CappedPoolTest, ABurstLendsNoMoreThanTheCap) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, Family::ipv4, dir, pair));
  std::vector<uint8_t> stream(4 * kBuffers * 4096);
  for (size_t i = 0; i < stream.size(); ++i) stream[i] = uint8_t(i * 7 + (i >> 12));
  size_t written = 0;
  auto feed = [&] {
    ssize_t n = ::send(pair.client, stream.data() + written, stream.size() - written, MSG_DONTWAIT);
    if (n > 0) written += size_t(n);
  };
  feed();  // loopback queues all of it, or as much as the socket buffers hold
  ASSERT_GT(written, size_t(kBuffers) * 4096) << "too little queued to overrun the pool";
  Hoarder hoarder;
  ASSERT_EQ(loop.recv_multishot(hoarder.op, pair.server, Hoarder::callback, &hoarder), 0);
  ASSERT_TRUE(run_until(loop, [&] { return loop.stats().fd_cap_pauses > 0; }));
  for (int i = 0; i < 5; ++i) loop.run(RunMode::no_wait);
  EXPECT_LE(hoarder.held.size(), size_t(kCap)) << "one arming lent past the cap";
  EXPECT_LE(loop.buffers_lent(), kCap);
  // Given back a few at a time, the rest of the stream comes in order.
  ASSERT_TRUE(run_until(loop, [&] {
    feed();
    EXPECT_LE(hoarder.held.size(), size_t(kCap));
    hoarder.give_back(loop);
    return hoarder.received.size() == stream.size();
  }));
  EXPECT_TRUE(hoarder.received == stream);
  EXPECT_FALSE(hoarder.terminal);
  ASSERT_EQ(loop.cancel(hoarder.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return hoarder.terminal; }));
  hoarder.give_back(loop);
  close_pair(loop, pair);
}

// A receive started on an fd that already holds its cap (its last receive
// ended while the caller kept the buffers) waits for one to come back: it
// is neither lent past the cap (io_uring would arm it for one more buffer)
// nor left spinning (epoll's emulation found no room and tried again every
// turn, so a blocking run returned at once, again and again).
TEST_P(CappedPoolTest, AReceiveStartedAtTheCapWaitsForABufferBack) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, Family::ipv4, dir, pair));
  std::vector<uint8_t> stream(2 * kCap * 4096);
  for (size_t i = 0; i < stream.size(); ++i) stream[i] = uint8_t(i * 11 + (i >> 12));
  ASSERT_EQ(::send(pair.client, stream.data(), stream.size(), MSG_DONTWAIT), ssize_t(stream.size()));
  Hoarder first;
  ASSERT_EQ(loop.recv_multishot(first.op, pair.server, Hoarder::callback, &first), 0);
  ASSERT_TRUE(run_until(loop, [&] { return first.held.size() == kCap; }));
  ASSERT_EQ(loop.cancel(first.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return first.terminal; }));
  ASSERT_EQ(first.held.size(), size_t(kCap));
  uint64_t pauses = loop.stats().fd_cap_pauses;
  Hoarder second;
  ASSERT_EQ(loop.recv_multishot(second.op, pair.server, Hoarder::callback, &second), 0);
  EXPECT_EQ(loop.stats().fd_cap_pauses, pauses + 1) << "not paused at its start";
  // Nothing but a timer is due: each blocking run waits for it.
  Operation timer;
  bool fired = false;
  ASSERT_EQ(loop.timeout(timer, 20'000'000, [](Loop&, Operation& op, const Completion&) {
              *static_cast<bool*>(op.user_data) = true;
            }, &fired), 0);
  int runs = 0;
  while (!fired && runs < 1000) {
    ASSERT_GE(loop.run(RunMode::once), 0);
    ++runs;
  }
  EXPECT_TRUE(fired);
  EXPECT_LE(runs, 5) << "the loop spun instead of waiting";
  EXPECT_TRUE(second.held.empty()) << "lent past the cap";
  EXPECT_EQ(loop.buffers_lent(), kCap);
  // One buffer back: the new receive starts and reads the rest, in order.
  ASSERT_EQ(loop.release_buffer(first.held.back()), 0);
  first.held.pop_back();
  ASSERT_TRUE(run_until(loop, [&] {
    EXPECT_LE(first.held.size() + second.held.size(), size_t(kCap));
    second.give_back(loop);
    return first.received.size() + second.received.size() == stream.size();
  }));
  std::vector<uint8_t> all = first.received;
  all.insert(all.end(), second.received.begin(), second.received.end());
  EXPECT_TRUE(all == stream);
  first.give_back(loop);
  ASSERT_EQ(loop.cancel(second.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.terminal; }));
  second.give_back(loop);
  close_pair(loop, pair);
}

// The peer's end comes while the receive waits paused at its cap: once the
// buffers come back, the rest of the stream and then the end (0) arrive, on
// TCP and on a UNIX stream (whose end io_uring must not lose; see
// unix_stream_recv.hpp).
TEST_P(CappedPoolTest, AnEndThatComesWhilePausedFollowsTheRestOfTheStream) {
  for (Family family : {Family::ipv4, Family::unix_path}) {
    SCOPED_TRACE(family_name(family));
    StreamPair pair;
    ASSERT_TRUE(connect_pair(loop, family, dir, pair));
    std::vector<uint8_t> stream(3 * kCap * 4096);
    for (size_t i = 0; i < stream.size(); ++i) stream[i] = uint8_t(i * 5 + (i >> 12));
    Hoarder hoarder;
    ASSERT_EQ(loop.recv_multishot(hoarder.op, pair.server, Hoarder::callback, &hoarder), 0);
    ASSERT_EQ(::send(pair.client, stream.data(), stream.size(), MSG_DONTWAIT),
              ssize_t(stream.size()));
    uint64_t pauses = loop.stats().fd_cap_pauses;
    ASSERT_TRUE(run_until(loop, [&] {
      return hoarder.held.size() == kCap && loop.stats().fd_cap_pauses > pauses;
    }));
    ASSERT_EQ(::shutdown(pair.client, SHUT_WR), 0);
    for (int i = 0; i < 5; ++i) loop.run(RunMode::no_wait);
    EXPECT_FALSE(hoarder.terminal) << "ended while it held its cap";
    EXPECT_EQ(hoarder.held.size(), size_t(kCap));
    ASSERT_TRUE(run_until(loop, [&] {
      EXPECT_LE(hoarder.held.size(), size_t(kCap));
      hoarder.give_back(loop);
      return hoarder.terminal;
    }));
    EXPECT_EQ(hoarder.last, 0) << "the end did not come as the end";
    EXPECT_TRUE(hoarder.received == stream);
    hoarder.give_back(loop);
    close_pair(loop, pair);
  }
}

// A buffer size that is not a multiple of 16 still gives every pool buffer
// an aligned start, where recvfrom_multishot puts its header and the sender's
// address (a misaligned one faults on strict-alignment targets; found by the
// C ABI fuzzer with buffer_size 1067).
class OddSizePoolTest : public BackendTest {
 protected:
  LoopOptions loop_options() const override {
    LoopOptions o;
    o.buffer_count = 4;
    o.buffer_size = 1067;
    return options_for(GetParam(), o);
  }
};

TEST_P(OddSizePoolTest, DatagramsAndTheirSendersLandAligned) {
  if (loop.backend() == BackendKind::uring && !loop.capabilities().multishot_recv) {
    GTEST_SKIP() << "kernel lacks multishot recvmsg";
  }
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  Hoarder h;
  h.datagram = true;
  std::vector<uintptr_t> starts;
  struct Watch {
    Hoarder* hoarder;
    std::vector<uintptr_t>* starts;
  } watch{&h, &starts};
  ASSERT_EQ(loop.recvfrom_multishot(h.op, sv[0], [](Loop& l, Operation& op, const Completion& c) {
              auto* w = static_cast<Watch*>(op.user_data);
              if (c.has_buffer) w->starts->push_back(reinterpret_cast<uintptr_t>(c.peer));
              op.user_data = w->hoarder;
              Hoarder::callback(l, op, c);
              op.user_data = w;
            }, &watch), 0);
  for (int i = 0; i < 8; ++i) {
    uint8_t d[5] = {uint8_t(i), 1, 2, 3, 4};
    ASSERT_EQ(::send(sv[1], d, sizeof d, 0), 5);
  }
  ASSERT_TRUE(run_until(loop, [&] {
    if (h.held.size() == 4) h.give_back(loop);
    return h.datagrams.size() >= 8u;
  }));
  ASSERT_EQ(starts.size(), 8u);
  for (uintptr_t peer : starts) EXPECT_EQ(peer % alignof(sockaddr_storage), 0u) << std::hex << peer;
  for (int i = 0; i < 8; ++i) EXPECT_EQ(h.datagrams[i][0], uint8_t(i));
  h.give_back(loop);
  ASSERT_EQ(loop.cancel(h.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return h.terminal; }));
  ::close(sv[0]);
  ::close(sv[1]);
}

INSTANTIATE_TEST_SUITE_P(Backends, OddSizePoolTest, testing::ValuesIn(all_backends()),
                         backend_param_name);
INSTANTIATE_TEST_SUITE_P(Backends, CappedPoolTest, testing::ValuesIn(all_backends()),
                         backend_param_name);
INSTANTIATE_TEST_SUITE_P(Backends, TinyPoolTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
