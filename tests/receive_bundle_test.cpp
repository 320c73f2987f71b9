// Multishot receives that fill several pool buffers at once (io_uring
// receive bundles, Linux 6.10+): the engine hands each buffer out as a
// completion of its own, so callers see what they see without bundles -
// every byte in order, one lent buffer per completion, none larger than a
// pool buffer - whether they give buffers back at once or hold them and
// return them out of order (which rewrites the kernel's buffer ring in an
// order the engine must follow). On epoll (no bundles) the same must hold.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "support.hpp"

namespace rstest {
namespace {

constexpr uint32_t kBuffers = 16;
constexpr uint32_t kBufferBytes = 4096;

class ReceiveBundleTest : public SocketTest {
 protected:
  LoopOptions loop_options() const override {
    LoopOptions o;
    o.buffer_count = kBuffers;
    o.buffer_size = kBufferBytes;
    return options_for(backend(), o);
  }
  bool bundles_expected() const {
    return backend() == TestBackend::uring && loop.capabilities().recv_bundle;
  }
};

std::vector<uint8_t> pattern(size_t length) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i) bytes[i] = uint8_t(i * 7 + (i >> 12));
  return bytes;
}

// Copies every chunk; holds up to `hold` lent buffers and gives them back
// newest first, so the ring is refilled out of id order.
struct HoldingReceiver {
  Operation op;
  std::vector<uint8_t> received;
  std::vector<uint16_t> held;
  size_t hold = 0;
  size_t chunks = 0;
  size_t oversized = 0;
  bool terminal = false;
  int last = 1;
  static void on_recv(Loop& loop, Operation& op, const Completion& c) {
    auto* self = static_cast<HoldingReceiver*>(op.user_data);
    if (c.has_buffer) {
      ++self->chunks;
      if (uint32_t(c.result) > loop.buffer_size()) ++self->oversized;
      self->received.insert(self->received.end(), c.data, c.data + c.result);
      self->held.push_back(c.buffer_id);
      if (self->held.size() > self->hold) self->release_all(loop);
    }
    if (!c.more) {
      self->terminal = true;
      self->last = c.result;
      self->release_all(loop);
    }
  }
  void release_all(Loop& loop) {
    std::reverse(held.begin(), held.end());
    for (uint16_t id : held) EXPECT_EQ(loop.release_buffer(id), 0);
    held.clear();
  }
};

// Data already waiting in the socket when the receive is armed: the kernel
// can fill many buffers per completion.
TEST_P(ReceiveBundleTest, WaitingDataArrivesWholeOneBufferPerCompletion) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  auto message = pattern(48 * 1024);  // fits the socket buffers, 12 pool buffers
  Recorder sent;
  ASSERT_EQ(loop.send(sent.op, pair.client, message.data(), message.size(), Recorder::callback,
                      &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  ASSERT_EQ(sent.result(), int(message.size()));
  HoldingReceiver receiver;
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, HoldingReceiver::on_recv, &receiver), 0);
  ASSERT_TRUE(run_until(loop, [&] { return receiver.received.size() >= message.size(); }));
  EXPECT_TRUE(receiver.received == message);
  EXPECT_EQ(receiver.oversized, 0u);
  EXPECT_GE(receiver.chunks, message.size() / kBufferBytes);
  if (bundles_expected()) {
    EXPECT_GE(loop.stats().receive_bundles, 1u);
  }
  ::shutdown(pair.client, SHUT_WR);
  ASSERT_TRUE(run_until(loop, [&] { return receiver.terminal; }));
  EXPECT_EQ(receiver.last, 0);
}

// 2 MiB through a 16-buffer pool while the receiver holds up to 5 buffers and
// returns them newest first: buffers run out (the receive pauses and
// resumes) and the ring is refilled in an order unlike the ids.
TEST_P(ReceiveBundleTest, HeldAndReorderedBuffersKeepTheStreamIntact) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  auto message = pattern(2 << 20);
  HoldingReceiver receiver;
  receiver.hold = 5;
  ASSERT_EQ(loop.recv_multishot(receiver.op, pair.server, HoldingReceiver::on_recv, &receiver), 0);
  Recorder sent;
  ASSERT_EQ(loop.send(sent.op, pair.client, message.data(), message.size(), Recorder::callback,
                      &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] {
    return sent.terminal && receiver.received.size() >= message.size();
  }, 30s)) << "received " << receiver.received.size();
  EXPECT_EQ(sent.result(), int(message.size()));
  ASSERT_EQ(receiver.received.size(), message.size());
  EXPECT_TRUE(receiver.received == message);
  EXPECT_EQ(receiver.oversized, 0u);
  ::shutdown(pair.client, SHUT_WR);
  ASSERT_TRUE(run_until(loop, [&] { return receiver.terminal; }));
  EXPECT_EQ(receiver.last, 0);
}

INSTANTIATE_TEST_SUITE_P(Sockets, ReceiveBundleTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::Values(Family::ipv4, Family::unix_path)),
                         socket_param_name);

}  // namespace
}  // namespace rstest
