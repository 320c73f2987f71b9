// Zero-copy sends (LoopOptions::zero_copy_min_bytes): on io_uring a send of
// at least the set size goes out by SEND_ZC (SENDMSG_ZC for the message
// kinds), and its one terminal callback comes only after the kernel's
// notification that it let go of the buffer. A socket that cannot (UNIX
// streams) has the same send go out again by copying; a notification that
// says the kernel copied (loopback always does) stops zero-copy on that fd.
// Loopback copies, so what these tests check is the semantics: every byte
// arrives once and in order, one callback, after the notification, and the
// fall-backs; whether a real NIC sends without copying cannot be seen on
// these machines. On epoll, and on kernels without SEND_ZC, the option is
// ignored: the same tests pass with the counters at zero.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "netns.hpp"
#include "support.hpp"

namespace rstest {
namespace {

constexpr uint32_t kMinBytes = 1024;

// A send's terminal callback, and how many notifications the loop had taken
// when it came.
struct Sent {
  Operation op;
  int result = 1;
  int callbacks = 0;
  uint64_t notifications_then = 0;
  static void callback(Loop& loop, Operation& op, const Completion& c) {
    auto* self = static_cast<Sent*>(op.user_data);
    EXPECT_FALSE(c.more);
    ++self->callbacks;
    self->result = c.result;
    self->notifications_then = loop.stats().zero_copy_notifications;
  }
};

// Whether the loop sends zero-copy at all: io_uring with SEND_ZC.
bool zero_copy(const Loop& loop) {
  return loop.backend() == BackendKind::uring && loop.capabilities().send_zc;
}

// Every loop here asks for zero-copy from kMinBytes up.
LoopOptions zero_copy_options(TestBackend backend) {
  LoopOptions o;
  o.zero_copy_min_bytes = kMinBytes;
  return options_for(backend, o);
}

class ZeroCopyStreamTest : public SocketTest {
 protected:
  LoopOptions loop_options() const override { return zero_copy_options(backend()); }
  // Sends `bytes` on pair.client (as one send, or as pieces with sendv) to a
  // slow reader, and checks what arrives and the one callback.
  void send_all(StreamPair& pair, const Pieces& data, bool vectored, Sent& sent) {
    SlowReader reader;
    int rc = vectored ? loop.sendv(sent.op, pair.client, data.iov.data(), data.count(),
                                   Sent::callback, &sent)
                      : loop.send(sent.op, pair.client, data.bytes.data(), data.bytes.size(),
                                  Sent::callback, &sent);
    ASSERT_EQ(rc, 0);
    reader.start(loop, pair.server, data.bytes.size());
    ASSERT_TRUE(run_until(loop, [&] { return sent.callbacks > 0 && reader.done; }));
    EXPECT_EQ(sent.callbacks, 1);
    EXPECT_EQ(sent.result, int(data.bytes.size()));
    EXPECT_EQ(sent.op.transferred, data.bytes.size());
    EXPECT_TRUE(reader.received == data.bytes) << "bytes lost, repeated or out of order";
  }
  // Fills pair.client's way to the peer so that the next send must wait.
  void fill(StreamPair& pair) {
    ASSERT_EQ(set_buffer_sizes(pair.client, 4096, 0), 0);
    ASSERT_EQ(set_buffer_sizes(pair.server, 0, 4096), 0);
    std::vector<uint8_t> junk(65536, 0x5a);
    while (::send(pair.client, junk.data(), junk.size(), MSG_DONTWAIT) > 0) {
    }
    ASSERT_EQ(errno, EAGAIN);
  }
};

// With small socket buffers the send is cut short again and again: the
// continuations keep their place whether they go zero-copy or not.
TEST_P(ZeroCopyStreamTest, ALargeSendArrivesWholeWithOneCallbackAfterItsNotification) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  ASSERT_EQ(set_buffer_sizes(pair.client, 16384, 0), 0);
  Pieces data({256 * 1024});
  Sent sent;
  send_all(pair, data, false, sent);
  const LoopStats& stats = loop.stats();
  if (!zero_copy(loop)) {
    EXPECT_EQ(stats.zero_copy_notifications + stats.zero_copy_refused, 0u);
  } else if (is_unix()) {
    EXPECT_EQ(stats.zero_copy_refused, 1u) << "a UNIX stream refuses SEND_ZC, once per fd";
    EXPECT_EQ(stats.zero_copy_copied, 0u);
  } else {
    EXPECT_GE(stats.zero_copy_notifications, 1u);
    EXPECT_GE(sent.notifications_then, 1u) << "the callback came before the notification";
    EXPECT_EQ(stats.zero_copy_copied, 1u) << "loopback copies: the fd stops asking at once";
    EXPECT_EQ(stats.zero_copy_refused, 0u);
  }
  EXPECT_EQ(sent.notifications_then, stats.zero_copy_notifications) << "a notification after it";
}

TEST_P(ZeroCopyStreamTest, SendvPiecesGoZeroCopyAndArriveInOrder) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  ASSERT_EQ(set_buffer_sizes(pair.client, 16384, 0), 0);
  Pieces data({100, 70000, 0, 3, 50000, 1});
  Sent sent;
  send_all(pair, data, true, sent);
  if (zero_copy(loop) && !is_unix()) {
    EXPECT_GE(sent.notifications_then, 1u);
    EXPECT_EQ(loop.stats().zero_copy_copied, 1u);
  }
}

TEST_P(ZeroCopyStreamTest, SendsBelowTheSizeCopy) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Pieces data({kMinBytes - 1});
  Sent sent;
  send_all(pair, data, false, sent);
  EXPECT_EQ(loop.stats().zero_copy_notifications, 0u);
  EXPECT_EQ(loop.stats().zero_copy_refused, 0u);
}

// The fd that copied (TCP over loopback) or refused (UNIX) is not asked
// again; a new socket is, even when it gets the same fd number.
TEST_P(ZeroCopyStreamTest, AnFdStopsAskingUntilItIsClosed) {
  Pieces data({64 * 1024});
  uint64_t after_first = 0;
  uint64_t refused_first = 0;
  for (int connection = 0; connection < 2; ++connection) {
    StreamPair pair;
    ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
    for (int round = 0; round < 2; ++round) {
      Sent sent;
      send_all(pair, data, false, sent);
      const LoopStats& stats = loop.stats();
      if (connection == 0 && round == 0) {
        after_first = stats.zero_copy_notifications;
        refused_first = stats.zero_copy_refused;
      } else if (connection == 0) {
        EXPECT_EQ(stats.zero_copy_notifications, after_first) << "asked again on the same fd";
        EXPECT_EQ(stats.zero_copy_refused, refused_first);
      } else if (zero_copy(loop)) {
        // The new connection asked once more, then stopped.
        uint64_t asked = is_unix() ? stats.zero_copy_refused - refused_first
                                           : stats.zero_copy_copied - 1;
        EXPECT_EQ(asked, 1u);
      }
    }
    close_pair(loop, pair);  // the loop's fd table forgets them
  }
}

// A zero-copy send that waits for room, then is cancelled, timed out or
// closed: one callback, with the usual result, and still after the
// kernel's notification.
TEST_P(ZeroCopyStreamTest, CancelDeadlineAndCloseEndAWaitingSendOnce) {
  Pieces data({32 * 1024});
  for (int how = 0; how < 3; ++how) {
    SCOPED_TRACE(how == 0 ? "cancel" : how == 1 ? "deadline" : "close");
    StreamPair pair;
    ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
    fill(pair);
    Sent sent;
    if (how == 1) sent.op.timeout_ns = 50'000'000;
    ASSERT_EQ(loop.send(sent.op, pair.client, data.bytes.data(), data.bytes.size(),
                        Sent::callback, &sent), 0);
    for (int i = 0; i < 4; ++i) loop.run(RunMode::no_wait);
    Recorder closed;
    if (how == 0) {
      ASSERT_EQ(sent.callbacks, 0) << sent.result;
      ASSERT_EQ(loop.cancel(sent.op), 0);
    } else if (how == 2) {
      ASSERT_EQ(sent.callbacks, 0) << sent.result;
      ASSERT_EQ(loop.close(closed.op, pair.client, Recorder::callback, &closed), 0);
      pair.client = -1;
    }
    ASSERT_TRUE(run_until(loop, [&] { return sent.callbacks > 0 && (how != 2 || closed.terminal); }));
    EXPECT_EQ(sent.callbacks, 1);
    EXPECT_EQ(sent.result, how == 1 ? -ETIMEDOUT : -ECANCELED);
    EXPECT_EQ(sent.notifications_then, loop.stats().zero_copy_notifications);
    if (how == 2) {
      EXPECT_EQ(closed.result(), 0);
    }
    // Nothing comes after the terminal callback.
    for (int i = 0; i < 3; ++i) loop.run(RunMode::no_wait);
    EXPECT_EQ(sent.callbacks, 1);
    close_pair(loop, pair);
  }
  EXPECT_EQ(loop.active(), 0u);
}

// A send whose every byte is queued but not yet taken by a peer that stops
// reading: the kernel keeps the buffer (on TCP its notification waits for
// the peer's ACK of every byte), so the callback waits too, and a cancel is
// too late (-EALREADY). A close must neither wait for that peer nor end
// before the send's callback: it aborts the connection, the kernel lets go,
// and the send ends with -ECANCELED (its bytes queued in op.transferred)
// before the close's callback.
TEST_P(ZeroCopyStreamTest, ACloseAbortsASendThatAPeerHoldsBack) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  ASSERT_EQ(set_buffer_sizes(pair.client, 4 << 20, 0), 0);  // room for every byte
  ASSERT_EQ(set_buffer_sizes(pair.server, 0, 4096), 0);     // a window that stays shut
  Pieces data({256 * 1024});
  Sent sent;
  ASSERT_EQ(loop.send(sent.op, pair.client, data.bytes.data(), data.bytes.size(),
                      Sent::callback, &sent), 0);
  for (int i = 0; i < 4; ++i) loop.run(RunMode::no_wait);
  const bool held = zero_copy(loop) && !is_unix();
  if (held) {
    ASSERT_EQ(sent.callbacks, 0) << "the kernel let go of a buffer the peer has not taken";
    EXPECT_EQ(loop.cancel(sent.op), -EALREADY);
  } else {
    ASSERT_TRUE(run_until(loop, [&] { return sent.callbacks > 0; }));  // copied: done at once
    EXPECT_EQ(sent.result, int(data.bytes.size()));
  }
  struct CloseOrder {
    Operation op;
    const Sent* sent = nullptr;
    int sends_seen = -1;
    int result = 1;
    static void callback(Loop&, Operation& op, const Completion& c) {
      auto* self = static_cast<CloseOrder*>(op.user_data);
      self->sends_seen = self->sent->callbacks;
      self->result = c.result;
    }
  } closed;
  closed.sent = &sent;
  ASSERT_EQ(loop.close(closed.op, pair.client, CloseOrder::callback, &closed), 0);
  pair.client = -1;
  ASSERT_TRUE(run_until(loop, [&] { return closed.sends_seen >= 0; })) << "the close waited";
  EXPECT_EQ(closed.result, 0);
  EXPECT_EQ(closed.sends_seen, 1) << "the close ended before the send's callback";
  EXPECT_EQ(sent.callbacks, 1);
  if (held) {
    EXPECT_EQ(sent.result, -ECANCELED);
    EXPECT_EQ(sent.op.transferred, data.bytes.size()) << "every byte had been queued";
    EXPECT_EQ(sent.notifications_then, loop.stats().zero_copy_notifications);
  }
  close_pair(loop, pair);
}

// The same with part of the send still waiting for room: the close's
// cancel ends the kernel's request with the bytes it had queued, and the
// kernel's notification for those still waits for the peer. The close must
// abort then too, not wait for a peer that never reads.
TEST_P(ZeroCopyStreamTest, ACloseAbortsASendHalfQueuedThatAPeerHoldsBack) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  ASSERT_EQ(set_buffer_sizes(pair.client, 64 * 1024, 0), 0);  // room for part of it
  ASSERT_EQ(set_buffer_sizes(pair.server, 0, 4096), 0);       // a window that stays shut
  Pieces data({4 << 20});
  Sent sent;
  ASSERT_EQ(loop.send(sent.op, pair.client, data.bytes.data(), data.bytes.size(),
                      Sent::callback, &sent), 0);
  for (int i = 0; i < 4; ++i) loop.run(RunMode::no_wait);
  ASSERT_EQ(sent.callbacks, 0) << sent.result;
  Recorder closed;
  ASSERT_EQ(loop.close(closed.op, pair.client, Recorder::callback, &closed), 0);
  pair.client = -1;
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; })) << "the close waited for the peer";
  EXPECT_EQ(closed.result(), 0);
  EXPECT_EQ(sent.callbacks, 1);
  EXPECT_EQ(sent.result, -ECANCELED);
  EXPECT_LT(sent.op.transferred, data.bytes.size());
  close_pair(loop, pair);
  EXPECT_EQ(loop.active(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Sockets, ZeroCopyStreamTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(all_families())),
                         socket_param_name);

// ---- datagrams -------------------------------------------------------------------

class ZeroCopyDatagramTest : public SocketTest {
 protected:
  LoopOptions loop_options() const override { return zero_copy_options(backend()); }
};

// sendto and sendtov of 8 KiB datagrams: each arrives whole. UDP asks for
// zero-copy until loopback's first copy; UNIX datagrams go out by the
// core's own sendmsg and never ask.
TEST_P(ZeroCopyDatagramTest, DatagramsArriveWhole) {
  Endpoint server_end;
  int server = bind_server(server_end);
  ASSERT_GE(server, 0);
  ASSERT_EQ(set_buffer_sizes(server, 0, 1 << 20), 0);
  int client = open_socket(server_end);
  ASSERT_GE(client, 0);
  Pieces whole({8192}, 9);
  Pieces pieces({1000, 0, 4000, 3192}, 11);
  Sent first, second;
  ASSERT_EQ(loop.sendto(first.op, client, whole.bytes.data(), whole.bytes.size(), &server_end,
                        Sent::callback, &first), 0);
  ASSERT_TRUE(run_until(loop, [&] { return first.callbacks > 0; }));
  ASSERT_EQ(loop.sendtov(second.op, client, pieces.iov.data(), pieces.count(), &server_end,
                         Sent::callback, &second), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.callbacks > 0; }));
  EXPECT_EQ(first.result, 8192);
  EXPECT_EQ(second.result, 8192);
  std::vector<uint8_t> buffer(16384);
  for (const Pieces* sent : {&whole, &pieces}) {
    ssize_t n = ::recv(server, buffer.data(), buffer.size(), 0);  // sent already: no wait
    ASSERT_EQ(n, 8192) << strerror(errno);
    EXPECT_TRUE(std::vector<uint8_t>(buffer.begin(), buffer.begin() + n) == sent->bytes);
  }
  const LoopStats& stats = loop.stats();
  if (zero_copy(loop) && !is_unix()) {
    EXPECT_GE(first.notifications_then, 1u);
    EXPECT_EQ(stats.zero_copy_copied, 1u);
    EXPECT_EQ(second.notifications_then, first.notifications_then) << "the fd copies now";
  } else {
    EXPECT_EQ(stats.zero_copy_notifications + stats.zero_copy_refused, 0u);
  }
  ::close(client);
  ::close(server);
}

INSTANTIATE_TEST_SUITE_P(Sockets, ZeroCopyDatagramTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(all_families())),
                         socket_param_name);

// ---- a kernel that does send from the buffer ----------------------------------------

// Over loopback the kernel always copies. Through a veth pair whose far end
// drops every frame at its ingress hook (in network namespaces of the
// test's own), a UDP datagram leaves the stack as through a NIC and nobody
// copies it: the notification says so, the fd keeps asking, and the
// callback still waits for it. (Named for the fault tests, which cross
// builds leave out: under qemu-user they would test the emulator.)
class ZeroCopyNetnsFaultTest : public BackendTest {
 protected:
  LoopOptions loop_options() const override { return zero_copy_options(GetParam()); }
};

TEST_P(ZeroCopyNetnsFaultTest, SendsTheKernelDidNotCopyKeepAsking) {
  NetnsPair ns;
  std::string why;
  if (!ns.create(why)) GTEST_SKIP() << why;
  ASSERT_TRUE(ns.swallow_at_b_ingress()) << ns.error();
  Endpoint peer;
  ASSERT_EQ(parse_endpoint("udp://10.78.0.2:9", peer).error, 0);
  int fd = open_socket(peer);  // in A, where the thread is
  ASSERT_GE(fd, 0) << strerror(-fd);
  Pieces data({1400}, 21);  // one frame: no fragmenting, which would copy
  constexpr int kSends = 3;
  for (int i = 0; i < kSends; ++i) {
    Sent sent;
    ASSERT_EQ(loop.sendto(sent.op, fd, data.bytes.data(), data.bytes.size(), &peer,
                          Sent::callback, &sent), 0);
    ASSERT_TRUE(run_until(loop, [&] { return sent.callbacks > 0; }));
    EXPECT_EQ(sent.result, 1400);
    if (zero_copy(loop)) {
      EXPECT_EQ(sent.notifications_then, uint64_t(i + 1));
    }
  }
  const LoopStats& stats = loop.stats();
  if (zero_copy(loop)) {
    EXPECT_EQ(stats.zero_copy_notifications, uint64_t(kSends)) << "the fd stopped asking";
    EXPECT_EQ(stats.zero_copy_copied, 0u) << "the kernel copied a frame nobody received";
  } else {
    EXPECT_EQ(stats.zero_copy_notifications, 0u);
  }
  Recorder closed;
  ASSERT_EQ(loop.close(closed.op, fd, Recorder::callback, &closed), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }));
}

INSTANTIATE_TEST_SUITE_P(Backends, ZeroCopyNetnsFaultTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
