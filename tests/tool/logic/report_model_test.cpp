#include "logic/report_model.hpp"

#include <gtest/gtest.h>

namespace ringsock::tool {
namespace {

TEST(PercentileSpectrum, EmptyHistogramHasNoPoints) {
  EXPECT_TRUE(percentile_spectrum(Histogram()).empty());
}

TEST(PercentileSpectrum, OneValueIsOnePointAtItsValue) {
  Histogram h;
  h.record(5'000);
  const auto points = percentile_spectrum(h);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].percentile, 0);
  EXPECT_EQ(points[0].value_us, 5);
}

// HdrHistogram's spacing: with 5 ticks per half distance, 0..50% in steps of
// 10, 50..75% in steps of 5, 75..87.5% in steps of 2.5, ...
TEST(PercentileSpectrum, TicksPerHalfDistance) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 1'000'000; ++v) h.record(v * 1'000);
  const auto points = percentile_spectrum(h, 5);
  ASSERT_GT(points.size(), 16u);
  const double expected[] = {0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5, 85, 87.5};
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_NEAR(points[i].percentile, expected[i], 1e-9) << i;
  }
  // Each point is the histogram's value at that percentile, in microseconds.
  for (const SpectrumPoint& p : points) {
    EXPECT_DOUBLE_EQ(p.value_us, static_cast<double>(h.value_at_percentile(p.percentile)) / 1e3);
  }
}

TEST(PercentileSpectrum, RisesAndStopsAtTheTopOrTheMax) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v * 100 + (v % 7) * 13);
  const auto points = percentile_spectrum(h, 5);
  for (std::size_t i = 1; i < points.size(); ++i) {
    EXPECT_GT(points[i].percentile, points[i - 1].percentile);
    EXPECT_GE(points[i].value_us, points[i - 1].value_us);
    EXPECT_LT(points[i].percentile, 100);
  }
  const SpectrumPoint& last = points.back();
  EXPECT_TRUE(last.percentile == kSpectrumTopPercentile ||
              last.value_us == static_cast<double>(h.max()) / 1e3);
  EXPECT_LE(last.percentile, kSpectrumTopPercentile);
}

TEST(PercentileSpectrum, FewSamplesStopAtTheMax) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 10; ++v) h.record(v * 1'000'000);
  const auto points = percentile_spectrum(h);
  ASSERT_FALSE(points.empty());
  EXPECT_EQ(points.back().value_us, 10'000);
  // With ten samples everything above 90% is the max: no points beyond it.
  EXPECT_LE(points.back().percentile, 95);
}

TEST(PercentileSpectrum, MoreTicksMorePoints) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1'000);
  EXPECT_GT(percentile_spectrum(h, 10).size(), percentile_spectrum(h, 5).size());
}

TEST(IntervalLatency, FromAHistogramInNanoseconds) {
  Histogram h;
  // Below 2048 ns the histogram is exact.
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v * 10);
  IntervalPoint p;
  set_interval_latency(p, h);
  EXPECT_EQ(p.latency_samples, 100u);
  EXPECT_DOUBLE_EQ(p.p50_us, 0.5);
  EXPECT_DOUBLE_EQ(p.p99_us, 0.99);
  EXPECT_DOUBLE_EQ(p.max_us, 1);
}

}  // namespace
}  // namespace ringsock::tool
