#include "logic/pacing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace ringsock::tool {
namespace {

std::vector<std::uint64_t> schedule(const PacingConfig& config, std::uint32_t connection,
                                    std::size_t n) {
  Pacer pacer(config, connection);
  std::vector<std::uint64_t> times;
  for (std::size_t i = 0; i < n; ++i) times.push_back(pacer.next());
  return times;
}

TEST(Pacing, ConstantRateIsExactlyEvenlySpaced) {
  PacingConfig config{.total_rate = 1000, .connections = 1, .arrival = Arrival::constant,
                      .seed = 1, .start_ns = 5'000};
  const auto t = schedule(config, 0, 1000);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t[i], 5'000 + i * 1'000'000);
}

TEST(Pacing, ConstantRateDoesNotDriftWithFractionalIntervals) {
  PacingConfig config{.total_rate = 3, .connections = 1};  // 333333333.33 ns
  Pacer pacer(config, 0);
  std::uint64_t last = 0;
  for (int i = 0; i <= 3'000'000; ++i) last = pacer.next();
  EXPECT_EQ(last, 1'000'000'000'000'000ULL);  // 3e6 intervals of 1/3 s: 1e6 s exactly
}

TEST(Pacing, ConstantRateConnectionsInterleaveEvenly) {
  PacingConfig config{.total_rate = 4000, .connections = 4};
  std::vector<std::uint64_t> all;
  for (std::uint32_t c = 0; c < 4; ++c)
    for (auto t : schedule(config, c, 100)) all.push_back(t);
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i * 250'000) << i;
}

TEST(Pacing, PoissonAverageRateWithinTolerance) {
  for (std::uint64_t seed : {1ULL, 42ULL, 123456789ULL}) {
    PacingConfig config{.total_rate = 10'000, .connections = 1, .arrival = Arrival::poisson,
                        .seed = seed};
    const auto t = schedule(config, 0, 200'000);
    const double rate = 200'000 / (static_cast<double>(t.back()) / 1e9);
    // 200k samples: the relative standard deviation is ~0.22%; 2% is far out.
    EXPECT_NEAR(rate, 10'000, 200) << seed;
  }
}

TEST(Pacing, PoissonInterArrivalsLookExponential) {
  PacingConfig config{.total_rate = 1'000, .arrival = Arrival::poisson, .seed = 7};
  const auto t = schedule(config, 0, 100'000);
  // For an exponential gap of mean m, P(gap > m) = 1/e and the CV is 1.
  std::size_t above = 0;
  double sum = 0, sum2 = 0;
  for (std::size_t i = 1; i < t.size(); ++i) {
    const double gap = static_cast<double>(t[i] - t[i - 1]);
    above += gap > 1e6;
    sum += gap;
    sum2 += gap * gap;
  }
  const double n = static_cast<double>(t.size() - 1);
  const double mean = sum / n;
  const double sd = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(static_cast<double>(above) / n, std::exp(-1.0), 0.01);
  EXPECT_NEAR(sd / mean, 1.0, 0.03);
  for (std::size_t i = 1; i < t.size(); ++i) ASSERT_GE(t[i], t[i - 1]);
}

TEST(Pacing, PoissonTotalRateSplitOverConnections) {
  PacingConfig config{.total_rate = 8'000, .connections = 8, .arrival = Arrival::poisson,
                      .seed = 99};
  std::size_t n = 0;
  for (std::uint32_t c = 0; c < 8; ++c) {
    Pacer pacer(config, c);
    while (pacer.next() < 20'000'000'000ULL) ++n;  // 20 s
  }
  EXPECT_NEAR(static_cast<double>(n) / 20, 8'000, 160);
}

TEST(Pacing, SameSeedSameSchedule) {
  PacingConfig config{.total_rate = 500, .connections = 3, .arrival = Arrival::poisson,
                      .seed = 2024};
  EXPECT_EQ(schedule(config, 2, 1000), schedule(config, 2, 1000));
  PacingConfig other = config;
  other.seed = 2025;
  EXPECT_NE(schedule(config, 2, 1000), schedule(other, 2, 1000));
}

TEST(Pacing, ConnectionsAreIndependent) {
  PacingConfig config{.total_rate = 1000, .connections = 2, .arrival = Arrival::poisson,
                      .seed = 5};
  const auto a = schedule(config, 0, 20'000);
  const auto b = schedule(config, 1, 20'000);
  EXPECT_NE(a, b);
  // Correlation of the two connections' gaps should be ~0.
  std::vector<double> ga, gb;
  for (std::size_t i = 1; i < a.size(); ++i) {
    ga.push_back(static_cast<double>(a[i] - a[i - 1]));
    gb.push_back(static_cast<double>(b[i] - b[i - 1]));
  }
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < ga.size(); ++i) ma += ga[i], mb += gb[i];
  ma /= static_cast<double>(ga.size());
  mb /= static_cast<double>(gb.size());
  double cov = 0, va = 0, vb = 0;
  for (std::size_t i = 0; i < ga.size(); ++i) {
    cov += (ga[i] - ma) * (gb[i] - mb);
    va += (ga[i] - ma) * (ga[i] - ma);
    vb += (gb[i] - mb) * (gb[i] - mb);
  }
  EXPECT_LT(std::fabs(cov / std::sqrt(va * vb)), 0.03);
}

TEST(Pacing, PeekDoesNotConsume) {
  PacingConfig config{.total_rate = 100, .arrival = Arrival::poisson, .seed = 3};
  Pacer pacer(config, 0);
  const auto p = pacer.peek();
  EXPECT_EQ(pacer.peek(), p);
  EXPECT_EQ(pacer.next(), p);
  EXPECT_GE(pacer.peek(), p);
}

TEST(Pacing, RejectsBadConfig) {
  EXPECT_THROW(Pacer(PacingConfig{.total_rate = 0}, 0), std::invalid_argument);
  EXPECT_THROW(Pacer(PacingConfig{.total_rate = -1}, 0), std::invalid_argument);
  EXPECT_THROW(Pacer(PacingConfig{.total_rate = NAN}, 0), std::invalid_argument);
  EXPECT_THROW(Pacer(PacingConfig{.total_rate = 1, .connections = 0}, 0), std::invalid_argument);
  EXPECT_THROW(Pacer(PacingConfig{.total_rate = 1, .connections = 2}, 2), std::invalid_argument);
}

TEST(LatencyPair, RecordsCorrectedAndUncorrected) {
  LatencyPair pair;
  // Intended at 1000, sent late at 5000 (the sender stalled), reply at 6000.
  pair.record(1'000, 5'000, 6'000);
  EXPECT_EQ(pair.corrected.max(), 5'000u);
  EXPECT_EQ(pair.uncorrected.max(), 1'000u);
  pair.record(10'000, 10'000, 9'000);  // reply before send (clock skew): 0
  EXPECT_EQ(pair.corrected.min(), 0u);
  LatencyPair other;
  other.merge(pair);
  EXPECT_EQ(other.corrected.count(), 2u);
  other.reset();
  EXPECT_EQ(other.uncorrected.count(), 0u);
}

TEST(Rng, SameSeedSameStream) {
  Rng a(1), b(1);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next(), b.next());
  Rng c(0);
  EXPECT_NE(c.next(), 0u);
  for (int i = 0; i < 1000; ++i) {
    const double u = c.uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace ringsock::tool
