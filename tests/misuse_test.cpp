// Misuse of a loop is refused with an errno and changes nothing, the same on
// both backends: a misaligned Operation (-EINVAL at every entry) and calls
// from a thread that does not own the loop (-EPERM; only wake() is allowed).
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "support.hpp"

namespace rstest {
namespace {

class MisuseTest : public BackendTest {};

TEST_P(MisuseTest, AMisalignedOperationIsRefusedAtEveryEntry) {
  alignas(16) unsigned char storage[sizeof(Operation) + 16];
  memset(storage, 0, sizeof(storage));
  unsigned char before[sizeof(storage)];
  memcpy(before, storage, sizeof(storage));
  Operation& op = misaligned_operation(storage);
  ASSERT_NE(reinterpret_cast<uintptr_t>(&op) % alignof(Operation), 0u);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  uint8_t buffer[8] = {};
  Endpoint peer;
  EXPECT_EQ(loop.nop(op, noop_cb), -EINVAL);
  EXPECT_EQ(loop.timeout(op, 1'000'000, noop_cb), -EINVAL);
  EXPECT_EQ(loop.recv(op, sv[0], buffer, sizeof(buffer), noop_cb), -EINVAL);
  EXPECT_EQ(loop.send(op, sv[0], buffer, sizeof(buffer), noop_cb), -EINVAL);
  EXPECT_EQ(loop.recv_multishot(op, sv[0], noop_cb), -EINVAL);
  EXPECT_EQ(loop.recvfrom(op, sv[0], buffer, sizeof(buffer), &peer, noop_cb), -EINVAL);
  EXPECT_EQ(loop.recvfrom_multishot(op, sv[0], noop_cb), -EINVAL);
  EXPECT_EQ(loop.sendto(op, sv[0], buffer, sizeof(buffer), nullptr, noop_cb), -EINVAL);
  const iovec pieces[1] = {{buffer, sizeof(buffer)}};
  EXPECT_EQ(loop.sendv(op, sv[0], pieces, 1, noop_cb), -EINVAL);
  EXPECT_EQ(loop.sendtov(op, sv[0], pieces, 1, nullptr, noop_cb), -EINVAL);
  EXPECT_EQ(loop.accept(op, sv[0], nullptr, noop_cb), -EINVAL);
  EXPECT_EQ(loop.accept_multishot(op, sv[0], noop_cb), -EINVAL);
  EXPECT_EQ(loop.shutdown(op, sv[0], SHUT_WR, noop_cb), -EINVAL);
  EXPECT_EQ(loop.close(op, sv[0], noop_cb), -EINVAL);
  EXPECT_EQ(loop.cancel(op), -EINVAL);
  EXPECT_EQ(memcmp(before, storage, sizeof(storage)), 0) << "a refused call wrote the operation";
  EXPECT_EQ(loop.active(), 0u);
  EXPECT_EQ(loop.run(RunMode::no_wait), 0);
  ::close(sv[0]);
  ::close(sv[1]);
}

// Runs `call` on a thread of its own and returns its result.
template <class Call>
int from_other_thread(Call call) {
  int result = 1;
  std::thread other([&] { result = call(); });
  other.join();
  return result;
}

TEST_P(MisuseTest, CallsFromAnotherThreadAreRefusedButWake) {
  Recorder timer;
  ASSERT_EQ(loop.timeout(timer.op, 60'000'000'000ull, Recorder::callback, &timer), 0);
  Operation nop;
  EXPECT_EQ(from_other_thread([&] { return loop.nop(nop, noop_cb); }), -EPERM);
  EXPECT_FALSE(nop.in_flight());
  EXPECT_EQ(from_other_thread([&] { return loop.run(RunMode::no_wait); }), -EPERM);
  EXPECT_EQ(from_other_thread([&] { return loop.stop(); }), -EPERM);
  EXPECT_EQ(from_other_thread([&] { return loop.cancel(timer.op); }), -EPERM);
  EXPECT_EQ(from_other_thread([&] { return loop.release_buffer(0); }), -EPERM);
  EXPECT_EQ(from_other_thread([&] { return loop.deinit(); }), -EPERM);
  EXPECT_TRUE(loop.initialized());
  EXPECT_EQ(loop.active(), 1u);
  EXPECT_EQ(from_other_thread([&] { return loop.wake(); }), 0);
  // The owner still runs it: the refused stop() left no stop behind.
  ASSERT_EQ(loop.cancel(timer.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return timer.terminal; }));
  EXPECT_EQ(timer.result(), -ECANCELED);
  EXPECT_EQ(loop.deinit(), 0);
  EXPECT_FALSE(loop.initialized());
}

INSTANTIATE_TEST_SUITE_P(Backends, MisuseTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
