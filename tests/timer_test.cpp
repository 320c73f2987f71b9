// Timers and per-operation deadlines. No assertion here depends on how fast
// the machine is: only on order and on which result arrives.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support.hpp"

namespace rstest {
namespace {

class TimerTest : public BackendTest {};

constexpr uint64_t kMs = 1'000'000;

TEST_P(TimerTest, TimeoutFiresWithResultZero) {
  Recorder t;
  ASSERT_EQ(loop.timeout(t.op, 1 * kMs, Recorder::callback, &t), 0);
  ASSERT_TRUE(run_until(loop, [&] { return t.terminal; }));
  EXPECT_EQ(t.result(), 0);
  EXPECT_EQ(t.terminal_count, 1);
}

TEST_P(TimerTest, ZeroTimeoutFiresAtOnce) {
  Recorder t;
  ASSERT_EQ(loop.timeout(t.op, 0, Recorder::callback, &t), 0);
  ASSERT_TRUE(run_until(loop, [&] { return t.terminal; }));
  EXPECT_EQ(t.result(), 0);
}

TEST_P(TimerTest, TimeoutsFireInDeadlineOrder) {
  std::vector<int> order;
  struct Tagged {
    Operation op;
    int tag;
    std::vector<int>* order;
  } a{{}, 30, &order}, b{{}, 10, &order}, c{{}, 20, &order};
  auto cb = [](Loop&, Operation& op, const Completion&) {
    auto* t = static_cast<Tagged*>(op.user_data);
    t->order->push_back(t->tag);
  };
  ASSERT_EQ(loop.timeout(a.op, 30 * kMs, cb, &a), 0);
  ASSERT_EQ(loop.timeout(b.op, 10 * kMs, cb, &b), 0);
  ASSERT_EQ(loop.timeout(c.op, 20 * kMs, cb, &c), 0);
  ASSERT_TRUE(run_until(loop, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
}

TEST_P(TimerTest, CancelledTimeoutEndsWithEcanceled) {
  Recorder t;
  ASSERT_EQ(loop.timeout(t.op, 3600'000 * kMs, Recorder::callback, &t), 0);
  loop.run(RunMode::no_wait);
  ASSERT_EQ(loop.cancel(t.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return t.terminal; }));
  EXPECT_EQ(t.result(), -ECANCELED);
}

// A timer as long as the API takes (2^64 - 1 ns, 584 years) is waited for,
// not spun on: with nothing else due, a blocking run waits until another
// thread wakes the loop. epoll once computed its wait in nanoseconds that
// overflowed into 0 and returned from every run at once.
TEST_P(TimerTest, TheLongestTimerIsWaitedForNotSpunOn) {
  Recorder forever;
  ASSERT_EQ(loop.timeout(forever.op, UINT64_MAX, Recorder::callback, &forever), 0);
  std::atomic<bool> woken{false};
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    woken = true;
    loop.wake();
  });
  int runs = 0;
  while (!woken && runs < 1000) {
    ASSERT_GE(loop.run(RunMode::once), 0);
    ++runs;
  }
  waker.join();
  EXPECT_LE(runs, 5) << "the loop spun instead of waiting";
  EXPECT_FALSE(forever.terminal);
  ASSERT_EQ(loop.cancel(forever.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return forever.terminal; }));
  EXPECT_EQ(forever.result(), -ECANCELED);
}

// An operation in flight on one loop is not another loop's to cancel: that
// loop refuses it (-EINVAL) and changes nothing; its own loop still can.
TEST_P(TimerTest, AnotherLoopsOperationIsRefusedByCancel) {
  Loop other;
  ASSERT_EQ(other.init(loop_options()), 0);
  Recorder t;
  ASSERT_EQ(loop.timeout(t.op, 3600'000 * kMs, Recorder::callback, &t), 0);
  loop.run(RunMode::no_wait);
  EXPECT_EQ(other.cancel(t.op), -EINVAL);
  other.run(RunMode::no_wait);
  EXPECT_FALSE(t.terminal);
  ASSERT_EQ(loop.cancel(t.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return t.terminal; }));
  EXPECT_EQ(t.result(), -ECANCELED);
  EXPECT_EQ(t.terminal_count, 1);
  other.deinit();
}

class DeadlineTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv_), 0);
  }
  void TearDown() override {
    ::close(sv_[0]);
    ::close(sv_[1]);
  }
  int sv_[2] = {-1, -1};
  uint8_t buffer_[64] = {};
};

TEST_P(DeadlineTest, IdleReceivePastItsDeadlineEndsWithEtimedout) {
  Recorder r;
  r.op.timeout_ns = 20 * kMs;
  ASSERT_EQ(loop.recv(r.op, sv_[0], buffer_, sizeof(buffer_), Recorder::callback, &r), 0);
  ASSERT_TRUE(run_until(loop, [&] { return r.terminal; }));
  EXPECT_EQ(r.result(), -ETIMEDOUT);
  EXPECT_EQ(r.terminal_count, 1);
  EXPECT_EQ(loop.active(), 0u);
}

TEST_P(DeadlineTest, DataBeforeTheDeadlineWins) {
  Recorder r;
  r.op.timeout_ns = 3600'000 * kMs;
  ASSERT_EQ(::send(sv_[1], "hi", 2, 0), 2);
  ASSERT_EQ(loop.recv(r.op, sv_[0], buffer_, sizeof(buffer_), Recorder::callback, &r), 0);
  ASSERT_TRUE(run_until(loop, [&] { return r.terminal; }));
  EXPECT_EQ(r.result(), 2);
}

TEST_P(DeadlineTest, CancelBeforeTheDeadlineIsEcanceledNotEtimedout) {
  Recorder r;
  r.op.timeout_ns = 3600'000 * kMs;
  ASSERT_EQ(loop.recv(r.op, sv_[0], buffer_, sizeof(buffer_), Recorder::callback, &r), 0);
  loop.run(RunMode::no_wait);
  ASSERT_EQ(loop.cancel(r.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return r.terminal; }));
  EXPECT_EQ(r.result(), -ECANCELED);
}

TEST_P(DeadlineTest, DeadlineCoversAWholeContinuedSend) {
  // The peer never reads: the send continues until the deadline ends it,
  // with the exact byte count of what did go out.
  std::vector<uint8_t> big(8 << 20);
  Recorder s;
  s.op.timeout_ns = 50 * kMs;
  ASSERT_EQ(loop.send(s.op, sv_[0], big.data(), big.size(), Recorder::callback, &s), 0);
  ASSERT_TRUE(run_until(loop, [&] { return s.terminal; }));
  EXPECT_EQ(s.result(), -ETIMEDOUT);
  EXPECT_GT(s.op.transferred, 0u);
  EXPECT_LT(s.op.transferred, big.size());
}

TEST_P(DeadlineTest, ConnectPastItsDeadlineEndsWithEtimedout) {
  // A listener whose accept queue is full drops new SYNs, so a connect to it
  // hangs in SYN_SENT: on loopback, with no outside host involved. Filling the
  // queue is itself this test: the last probe connect ended with -ETIMEDOUT.
  FullListener full;
  ASSERT_TRUE(fill_accept_queue(loop, full)) << "the accept queue never filled";
  int fd = open_socket(full.endpoint);
  Recorder r;
  r.op.timeout_ns = 100 * kMs;
  ASSERT_EQ(loop.connect(r.op, fd, full.endpoint, Recorder::callback, &r), 0);
  ASSERT_TRUE(run_until(loop, [&] { return r.terminal; }));
  EXPECT_EQ(r.result(), -ETIMEDOUT);
  EXPECT_EQ(r.terminal_count, 1);
  ::close(fd);
}

TEST_P(DeadlineTest, DeadlineIsRefusedOnMultishotAndTimers) {
  Operation op;
  op.timeout_ns = kMs;
  auto cb = [](Loop&, Operation&, const Completion&) {};
  EXPECT_EQ(loop.recv_multishot(op, sv_[0], cb), -EINVAL);
  EXPECT_EQ(loop.timeout(op, kMs, cb), -EINVAL);
  EXPECT_FALSE(op.in_flight());
}

INSTANTIATE_TEST_SUITE_P(Backends, TimerTest, testing::ValuesIn(all_backends()), backend_param_name);
INSTANTIATE_TEST_SUITE_P(Backends, DeadlineTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
