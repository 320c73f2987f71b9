// Bounded busy polling (LoopOptions::busy_poll_us): a run() that would block
// first checks for completions without sleeping, until something happens or
// the budget is spent, then blocks as usual. Nothing may be lost on either
// path: completions, timers and cross-thread wakes all end the wait.
// Which path a wait took is read from LoopStats, never from timings: the
// events here come 20-50 ms after the wait starts, against budgets of 1 s
// (the poll sees them) or 1 ms (the poll gives up long before).

#include <chrono>
#include <thread>

#include "support.hpp"

namespace rstest {
namespace {

constexpr uint32_t kLongBudgetUs = 1'000'000;
constexpr uint32_t kShortBudgetUs = 1'000;

class BusyPollTest : public BackendTest {
 protected:
  LoopOptions loop_options() const override {
    LoopOptions o;
    o.busy_poll_us = kLongBudgetUs;
    return options_for(GetParam(), o);
  }
  // A loop with a budget far shorter than the events' delay.
  bool init_short(Loop& other) {
    LoopOptions o;
    o.busy_poll_us = kShortBudgetUs;
    std::string why;
    return init_for_test(other, options_for(GetParam(), o), why) == 0;
  }
};

TEST_P(BusyPollTest, ACompletionInsideTheBudgetEndsThePollWithoutBlocking) {
  EXPECT_EQ(receive_late(loop, 1, std::chrono::milliseconds(20)), 1);
  EXPECT_GE(loop.stats().busy_poll_hits, 1u);
  EXPECT_EQ(loop.stats().busy_poll_misses, 0u);
}

TEST_P(BusyPollTest, AnExhaustedBudgetBlocksAndStillDelivers) {
  Loop other;
  ASSERT_TRUE(init_short(other));
  receive_late(other, 1, std::chrono::milliseconds(50));
  EXPECT_GE(other.stats().busy_poll_misses, 1u);
}

// A wake carries no completion: the poll must still end on it, and a wake
// that comes after the poll gave up must still end the blocking wait.
TEST_P(BusyPollTest, AWakeEndsTheWaitOnBothPaths) {
  Loop other;
  ASSERT_TRUE(init_short(other));
  for (Loop* l : {&loop, &other}) {
    Recorder guard;
    ASSERT_EQ(l->timeout(guard.op, 10'000'000'000ull, Recorder::callback, &guard), 0);
    std::thread waker([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      EXPECT_EQ(l->wake(), 0);
    });
    EXPECT_EQ(l->run(RunMode::once), 0);
    waker.join();
    EXPECT_FALSE(guard.terminal);
    ASSERT_EQ(l->cancel(guard.op), 0);
    EXPECT_TRUE(run_until(*l, [&] { return guard.terminal; }));
  }
  EXPECT_GE(loop.stats().busy_poll_hits, 1u);
  EXPECT_GE(other.stats().busy_poll_misses, 1u);
}

TEST_P(BusyPollTest, TimersFireWhilePolling) {
  Recorder timer;
  ASSERT_EQ(loop.timeout(timer.op, 20'000'000, Recorder::callback, &timer), 0);
  EXPECT_EQ(loop.run(RunMode::until_done), 1);
  EXPECT_EQ(timer.result(), 0);
  EXPECT_GE(loop.stats().busy_poll_hits, 1u);
}

// Without a budget no wait polls.
TEST_P(BusyPollTest, OffByDefault) {
  Loop plain;
  std::string why;
  ASSERT_EQ(init_for_test(plain, options_for(GetParam()), why), 0) << why;
  receive_late(plain, 1, std::chrono::milliseconds(20));
  EXPECT_EQ(plain.stats().busy_poll_hits, 0u);
  EXPECT_EQ(plain.stats().busy_poll_misses, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, BusyPollTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
