#include "logic/interval_recorder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace ringsock::tool {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000ULL;

struct Emitted {
  std::uint64_t first, last, count0, count1;
};

IntervalCollector::Emit into(std::vector<Emitted>& out) {
  return [&out](std::uint64_t first, std::uint64_t last, const std::vector<Histogram>& m) {
    out.push_back({first, last, m[0].count(), m[1].count()});
  };
}

TEST(IntervalRecorder, GivesEachSecondOnceAllThreadsPassedIt) {
  IntervalRecorder a(2, 100, kSecond), b(2, 100, kSecond);
  IntervalCollector collector({&a, &b}, 2);
  std::vector<Emitted> out;
  a.record(0, 100 + kSecond / 2, 5);        // second 0
  a.record(1, 100 + kSecond / 2, 7);
  b.record(0, 100 + kSecond / 3, 5);
  a.record(0, 100 + kSecond + 1, 5);        // second 1: a hands second 0 over
  collector.poll(into(out));
  EXPECT_TRUE(out.empty());            // b has not passed second 0 yet
  b.roll(100 + 2 * kSecond);                // b hands over second 0; passes second 1 too
  collector.poll(into(out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, 0u);
  EXPECT_EQ(out[0].last, 0u);
  EXPECT_EQ(out[0].count0, 2u);
  EXPECT_EQ(out[0].count1, 1u);
  a.finish();
  b.finish();
  collector.drain(into(out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].first, 1u);
  EXPECT_EQ(out[1].count0, 1u);
}

TEST(IntervalRecorder, QuietSecondsAreSkippedAndValuesBeforeStartCountInTheFirst) {
  IntervalRecorder r(2, 10 * kSecond, kSecond);
  IntervalCollector collector({&r}, 2);
  std::vector<Emitted> out;
  r.record(0, 5 * kSecond, 1);              // before start: interval 0
  r.record(0, 13 * kSecond + 5, 1);         // interval 3
  r.roll(20 * kSecond);
  collector.poll(into(out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].first, 0u);
  EXPECT_EQ(out[1].first, 3u);
}

TEST(IntervalRecorder, AFullRingWidensTheHeldIntervalAndLosesNothing) {
  IntervalRecorder r(2, 0, kSecond, 2);     // one slot handed over, one held
  IntervalCollector collector({&r}, 2);
  for (std::uint64_t s = 0; s < 6; ++s)
    for (int i = 0; i < 10; ++i) r.record(0, s * kSecond + static_cast<std::uint64_t>(i), 1);
  r.finish();                          // the ring is full: the tail stays held
  std::vector<Emitted> out;
  collector.drain(into(out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].first, 0u);
  EXPECT_EQ(out[0].last, 0u);
  EXPECT_EQ(out[0].count0, 10u);
  EXPECT_EQ(out[1].first, 1u);
  EXPECT_EQ(out[1].last, 5u);          // seconds 1 to 5 in one
  EXPECT_EQ(out[1].count0, 50u);
}

TEST(IntervalRecorder, ThreadsAndACollectorLoseAndRepeatNothing) {
  constexpr int kThreads = 4;
  constexpr std::uint64_t kValues = 200'000;
  std::vector<std::unique_ptr<IntervalRecorder>> recorders;
  std::vector<IntervalRecorder*> raw;
  for (int t = 0; t < kThreads; ++t) {
    recorders.push_back(std::make_unique<IntervalRecorder>(2, 0, kSecond / 1000, 4, 1'000'000));
    raw.push_back(recorders.back().get());
  }
  IntervalCollector collector(raw, 2, 1'000'000);
  std::vector<Emitted> out;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Synthetic time: 10 us a value, 100 values per 1 ms interval.
      for (std::uint64_t i = 0; i < kValues; ++i) raw[t]->record(i % 2, i * 10'000, 1000 + i % 5000);
      raw[t]->finish();
      running.fetch_sub(1);
    });
  }
  while (running.load() > 0) collector.poll(into(out));
  for (auto& th : threads) th.join();
  collector.drain(into(out));
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    total += out[i].count0 + out[i].count1;
    EXPECT_LE(out[i].first, out[i].last);
    if (i > 0) {
      EXPECT_LT(out[i - 1].first, out[i].first) << "interval given twice or out of order";
    }
  }
  EXPECT_EQ(total, kThreads * kValues);
}

}  // namespace
}  // namespace ringsock::tool
