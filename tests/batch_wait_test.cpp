// Coalesced waits (LoopOptions::batch_wait_us, batch_wait_count): a run()
// that blocks sleeps until a batch of completions is ready or the time has
// passed, then takes what is ready; if nothing is, the first completion ends
// the wait. Nothing may be lost or held back for good: completions, timers
// and cross-thread wakes all end it. On io_uring without the kernel's
// minimum wait (before 6.12) and on epoll the options are accepted and
// ignored, which LoopStats::batch_waits shows. No timing is asserted: the
// events come 20 ms after the wait starts, inside or past a minimum of 1 ms
// or 1 s, and what is checked is which callbacks one run() delivered.

#include <chrono>
#include <thread>

#include "support.hpp"

namespace rstest {
namespace {

constexpr uint32_t kLongWaitUs = 1'000'000;
constexpr uint32_t kShortWaitUs = 1'000;

LoopOptions batch_options(const TestBackend& backend, uint32_t wait_us, uint32_t count) {
  LoopOptions o;
  o.batch_wait_us = wait_us;
  o.batch_wait_count = count;
  return options_for(backend, o);
}

class BatchWaitTest : public BackendTest {
 protected:
  LoopOptions loop_options() const override { return batch_options(GetParam(), kLongWaitUs, 2); }
  // Whether this loop's waits coalesce: io_uring with the kernel's minimum wait.
  bool coalesces(const Loop& l) const {
    return l.backend() == BackendKind::uring && l.capabilities().min_timeout;
  }
};

TEST_P(BatchWaitTest, AFullBatchIsTakenInOneRun) {
  int first = receive_late(loop, 2, 20ms);
  if (coalesces(loop)) {
    EXPECT_EQ(first, 2) << "the wait ended before its batch of two was ready";
    EXPECT_GE(loop.stats().batch_waits, 1u);
  } else {
    EXPECT_GE(first, 1);
    EXPECT_EQ(loop.stats().batch_waits, 0u);
  }
}

// One completion where two make the batch: the minimum passes, and the one
// that is ready is taken.
TEST_P(BatchWaitTest, AShortBatchEndsAtTheMinimumWait) {
  Loop other;
  std::string why;
  ASSERT_EQ(init_for_test(other, batch_options(GetParam(), kShortWaitUs, 2), why), 0) << why;
  EXPECT_EQ(receive_late(other, 1, 20ms), 1);
  EXPECT_EQ(other.stats().batch_waits != 0, coalesces(other));
}

TEST_P(BatchWaitTest, ATimerEndsTheWait) {
  Recorder timer;
  ASSERT_EQ(loop.timeout(timer.op, 20'000'000, Recorder::callback, &timer), 0);
  EXPECT_EQ(loop.run(RunMode::until_done), 1);
  EXPECT_EQ(timer.result(), 0);
}

// A wake carries no completion of its own and may be held to the minimum
// (on io_uring the kernel counts its eventfd read like any completion): it
// must still end the wait.
TEST_P(BatchWaitTest, AWakeEndsTheWait) {
  Recorder guard;
  ASSERT_EQ(loop.timeout(guard.op, 10'000'000'000ull, Recorder::callback, &guard), 0);
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(loop.wake(), 0);
  });
  EXPECT_EQ(loop.run(RunMode::once), 0);
  waker.join();
  EXPECT_FALSE(guard.terminal);
  ASSERT_EQ(loop.cancel(guard.op), 0);
  EXPECT_TRUE(run_until(loop, [&] { return guard.terminal; }));
}

TEST_P(BatchWaitTest, OutOfRangeOptionsAreRefused) {
  Loop other;
  std::string why;
  EXPECT_EQ(other.init(batch_options(GetParam(), kLongWaitUs + 1, 0)), -EINVAL);
  LoopOptions o = batch_options(GetParam(), kShortWaitUs, 0);
  o.completion_entries = 1024;
  o.batch_wait_count = 1025;  // more than the completion queue holds
  EXPECT_EQ(other.init(o), -EINVAL);
  EXPECT_FALSE(other.initialized());
  o.batch_wait_count = 1024;
  ASSERT_EQ(init_for_test(other, o, why), 0) << why;
}

// Without the option no wait coalesces.
TEST_P(BatchWaitTest, OffByDefault) {
  Loop plain;
  std::string why;
  ASSERT_EQ(init_for_test(plain, options_for(GetParam()), why), 0) << why;
  receive_late(plain, 1, 20ms);
  EXPECT_EQ(plain.stats().batch_waits, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, BatchWaitTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
