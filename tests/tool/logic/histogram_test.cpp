#include "logic/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ringsock::tool {
namespace {

TEST(Histogram, EmptyReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  for (double p : {0.0, 50.0, 99.99, 100.0}) EXPECT_EQ(h.value_at_percentile(p), 0u);
}

TEST(Histogram, OneValueIsEveryPercentile) {
  Histogram h;
  h.record(123'456'789);
  for (double p : {0.0, 1.0, 50.0, 99.9, 100.0}) EXPECT_EQ(h.value_at_percentile(p), 123'456'789u);
  EXPECT_EQ(h.min(), 123'456'789u);
  EXPECT_EQ(h.max(), 123'456'789u);
  EXPECT_DOUBLE_EQ(h.mean(), 123'456'789.0);
}

TEST(Histogram, SmallValuesAreExact) {
  for (std::uint64_t v = 0; v < 2048; ++v) {
    EXPECT_EQ(Histogram::lowest_in(Histogram::index_of(v)), v);
    EXPECT_EQ(Histogram::highest_in(Histogram::index_of(v)), v);
  }
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v);
  EXPECT_EQ(h.value_at_percentile(50), 500u);
  EXPECT_EQ(h.value_at_percentile(90), 900u);
  EXPECT_EQ(h.value_at_percentile(99), 990u);
  EXPECT_EQ(h.value_at_percentile(99.9), 999u);
  EXPECT_EQ(h.value_at_percentile(0), 1u);
  EXPECT_EQ(h.value_at_percentile(100), 1000u);
  EXPECT_DOUBLE_EQ(h.mean(), 500.5);
}

TEST(Histogram, BucketsAreContiguousAndRelativeErrorIsBounded) {
  Histogram h(200'000'000'000ULL);  // 200 s
  for (std::size_t i = 1; i < h.bucket_count(); ++i)
    ASSERT_EQ(Histogram::lowest_in(i), Histogram::highest_in(i - 1) + 1) << i;
  // Values spread over 1 ns .. 100 s: each bucket's width is < value/1024.
  for (double v = 1; v < 1e11; v *= 1.37) {
    const auto x = static_cast<std::uint64_t>(v);
    const std::size_t i = Histogram::index_of(x);
    ASSERT_LE(Histogram::lowest_in(i), x);
    ASSERT_GE(Histogram::highest_in(i), x);
    const double width = static_cast<double>(Histogram::highest_in(i) - Histogram::lowest_in(i));
    ASSERT_LE(width / static_cast<double>(x), 1.0 / 1024) << x;
  }
}

TEST(Histogram, LargeValuesWithinRelativeError) {
  Histogram h;
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 10'000; v <= 100'000'000'000ULL; v = v * 3 + 7) values.push_back(v);
  for (auto v : values) h.record(v);
  std::sort(values.begin(), values.end());
  for (double p : {10.0, 25.0, 50.0, 75.0, 90.0, 99.0}) {
    const auto rank = static_cast<std::size_t>(std::ceil(p * values.size() / 100.0));
    const double want = static_cast<double>(values[rank - 1]);
    const double got = static_cast<double>(h.value_at_percentile(p));
    EXPECT_NEAR(got, want, want / 1000) << p;
  }
  EXPECT_EQ(h.max(), values.back());
}

TEST(Histogram, PercentilesOfUniformDistribution) {
  Histogram h;
  // 1 us .. 1 ms uniformly in 100 ns steps: percentile p is ~ p% of 1 ms.
  for (std::uint64_t v = 1'000; v <= 1'000'000; v += 100) h.record(v);
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const double want = 1'000 + (1'000'000 - 1'000) * p / 100;
    EXPECT_NEAR(static_cast<double>(h.value_at_percentile(p)), want, want / 500) << p;
  }
}

TEST(Histogram, PercentilesOfBimodalDistribution) {
  Histogram h;
  h.record_n(10'000, 990);     // 99% at 10 us
  h.record_n(5'000'000, 10);   // 1% at 5 ms
  EXPECT_NEAR(static_cast<double>(h.value_at_percentile(50)), 10'000, 10);
  EXPECT_NEAR(static_cast<double>(h.value_at_percentile(99)), 10'000, 10);
  EXPECT_EQ(h.value_at_percentile(99.5), 5'000'000u);
  EXPECT_EQ(h.value_at_percentile(100), 5'000'000u);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  for (std::uint64_t v = 1; v < 100'000; v += 37) {
    (v % 2 ? a : b).record(v * 11);
    all.record(v * 11);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {0.0, 50.0, 90.0, 99.0, 99.9, 100.0})
    EXPECT_EQ(a.value_at_percentile(p), all.value_at_percentile(p));
}

TEST(Histogram, MergeEmptyAndIntoEmpty) {
  Histogram a, empty;
  a.merge(empty);
  EXPECT_EQ(a.count(), 0u);
  empty.record(42);
  a.merge(empty);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(a.min(), 42u);
  EXPECT_EQ(a.value_at_percentile(50), 42u);
}

TEST(Histogram, MergeDifferentRanges) {
  Histogram small(1'000'000), big;
  small.record(500'000);
  big.record(7);
  big.merge(small);
  EXPECT_EQ(big.count(), 2u);
  EXPECT_EQ(big.max(), 500'000u);
  EXPECT_NEAR(static_cast<double>(big.value_at_percentile(100)), 500'000, 500);
}

TEST(Histogram, ValuesAboveRangeAreClampedButMaxIsExact) {
  Histogram h(1'000'000);
  h.record(10);
  h.record(5'000'000'000ULL);
  EXPECT_EQ(h.max(), 5'000'000'000ULL);
  EXPECT_EQ(h.value_at_percentile(100), 5'000'000'000ULL);
  EXPECT_EQ(h.value_at_percentile(75), 5'000'000'000ULL);
}

TEST(Histogram, ResetForgetsEverything) {
  Histogram h;
  h.record(5);
  h.record(1'000'000);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 0u);
  h.record(3);
  EXPECT_EQ(h.min(), 3u);
  EXPECT_EQ(h.max(), 3u);
}

TEST(Histogram, OutOfRangePercentilesAreClamped) {
  Histogram h;
  h.record(1);
  h.record(9);
  EXPECT_EQ(h.value_at_percentile(-5), 1u);
  EXPECT_EQ(h.value_at_percentile(250), 9u);
  EXPECT_EQ(h.value_at_percentile(std::nan("")), 1u);
}

TEST(Histogram, ZeroAndHugeValues) {
  Histogram h;
  h.record(0);
  h.record(UINT64_MAX);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.value_at_percentile(0), 0u);
  EXPECT_EQ(h.value_at_percentile(100), UINT64_MAX);
}

}  // namespace
}  // namespace ringsock::tool
