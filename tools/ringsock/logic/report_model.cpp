#include "logic/report_model.hpp"

#include <algorithm>
#include <cmath>

namespace ringsock::tool {
namespace {

double us_of(std::uint64_t ns) noexcept { return static_cast<double>(ns) / 1e3; }

// The step to the next percentile from p: each halving of the distance to
// 100% gets ticks_per_half_distance steps (HdrHistogram's
// PercentileIterator). p < 100, so the logarithm is finite.
double percentile_step(double p, int ticks_per_half_distance) noexcept {
  const double halvings = std::floor(std::log2(100.0 / (100.0 - p)));
  const double ticks = ticks_per_half_distance * std::exp2(halvings + 1);
  return 100.0 / ticks;
}

}  // namespace

std::vector<SpectrumPoint> percentile_spectrum(const Histogram& latency_ns,
                                               int ticks_per_half_distance) {
  std::vector<SpectrumPoint> points;
  if (latency_ns.count() == 0) return points;
  const int ticks = std::max(1, ticks_per_half_distance);
  const std::uint64_t max_ns = latency_ns.max();
  double p = 0;
  for (;;) {
    const std::uint64_t v = latency_ns.value_at_percentile(p);
    points.push_back({p, us_of(v)});
    if (v >= max_ns || p >= kSpectrumTopPercentile) break;
    // The last step lands exactly on the top percentile.
    p = std::min(p + percentile_step(p, ticks), kSpectrumTopPercentile);
  }
  return points;
}

void set_interval_latency(IntervalPoint& interval, const Histogram& latency_ns) {
  interval.latency_samples = latency_ns.count();
  interval.p50_us = us_of(latency_ns.value_at_percentile(50));
  interval.p99_us = us_of(latency_ns.value_at_percentile(99));
  interval.max_us = us_of(latency_ns.max());
}

}  // namespace ringsock::tool
