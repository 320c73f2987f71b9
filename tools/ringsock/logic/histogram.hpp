// Latency histogram with log-linear buckets (HdrHistogram-like).
//
// Values are nanoseconds. Values below 2048 are exact; above that each
// power-of-two range is split into 1024 linear buckets, so any value is
// reported within a relative error below 1/1024 (three significant digits).
// Storage is allocated once at construction: record() and merge() never
// allocate, so per-thread histograms can sit on the hot path and be merged
// at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringsock::tool {

class Histogram {
 public:
  // Values above highest_trackable_ns are counted in the last bucket (and
  // still reported exactly by max()). Default: one hour.
  explicit Histogram(std::uint64_t highest_trackable_ns = 3'600'000'000'000ULL);

  void record(std::uint64_t ns) noexcept { record_n(ns, 1); }
  void record_n(std::uint64_t ns, std::uint64_t n) noexcept;
  // Adds every sample of other; histograms of different ranges merge too
  // (other's buckets are re-recorded, with its bucket resolution).
  void merge(const Histogram& other) noexcept;
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  // min/max/mean of an empty histogram are 0.
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept;
  // The smallest recorded value v such that at least p% of the samples are
  // <= v, within the bucket resolution; p is clamped to [0, 100]. p=0 gives
  // min(), p=100 gives max(); 0 when empty.
  std::uint64_t value_at_percentile(double p) const noexcept;

  std::uint64_t highest_trackable() const noexcept { return highest_; }
  std::size_t bucket_count() const noexcept { return counts_.size(); }
  // The samples in bucket `index` (< bucket_count()); the last bucket also
  // holds every value above highest_trackable().
  std::uint64_t count_at(std::size_t index) const noexcept { return counts_[index]; }
  // The exact sum of the samples (min/max/mean come from it and the extremes).
  long double sum() const noexcept { return sum_; }

  // Rebuilding a histogram from an encoded form (logic/hlog.hpp), which
  // holds bucket counts only. add_to_bucket() adds n samples to a bucket,
  // taking its lowest value for min and the sum and its highest for max;
  // false (nothing changed) when index is out of range or the total count
  // would overflow.
  bool add_to_bucket(std::size_t index, std::uint64_t n) noexcept;
  // Then, when the exact min, max and sum are known (the JSON result keeps
  // them), they replace the estimates; false (nothing changed) when they
  // cannot be those of the samples in the buckets.
  bool restore_stats(std::uint64_t min, std::uint64_t max, long double sum) noexcept;

  // Bucket geometry, public so tests can check the error bound.
  static std::size_t index_of(std::uint64_t ns) noexcept;
  static std::uint64_t lowest_in(std::size_t index) noexcept;
  static std::uint64_t highest_in(std::size_t index) noexcept;

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t highest_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  // long double: a sum of many large nanosecond values stays exact longer.
  long double sum_ = 0;
};

}  // namespace ringsock::tool
