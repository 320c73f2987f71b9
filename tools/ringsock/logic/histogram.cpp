#include "logic/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ringsock::tool {
namespace {

constexpr unsigned kSubBits = 11;                   // 2048 exact values
constexpr std::uint64_t kSub = 1ULL << kSubBits;    // first range, step 1
constexpr std::uint64_t kHalf = kSub / 2;           // buckets per later range

}  // namespace

std::size_t Histogram::index_of(std::uint64_t ns) noexcept {
  if (ns < kSub) return static_cast<std::size_t>(ns);
  // Keep the top kSubBits bits: shift >= 1 here, and (ns >> shift) is in
  // [kHalf, kSub).
  const unsigned msb = 63U - static_cast<unsigned>(std::countl_zero(ns));
  const unsigned shift = msb - (kSubBits - 1);
  return static_cast<std::size_t>(kSub + (shift - 1) * kHalf + ((ns >> shift) - kHalf));
}

std::uint64_t Histogram::lowest_in(std::size_t index) noexcept {
  if (index < kSub) return index;
  const std::uint64_t shift = (index - kSub) / kHalf + 1;
  const std::uint64_t sub = (index - kSub) % kHalf + kHalf;
  return sub << shift;
}

std::uint64_t Histogram::highest_in(std::size_t index) noexcept {
  if (index < kSub) return index;
  const std::uint64_t shift = (index - kSub) / kHalf + 1;
  return lowest_in(index) + (1ULL << shift) - 1;
}

Histogram::Histogram(std::uint64_t highest_trackable_ns)
    : counts_(index_of(std::max<std::uint64_t>(highest_trackable_ns, kSub)) + 1),
      highest_(std::max<std::uint64_t>(highest_trackable_ns, kSub)) {}

void Histogram::record_n(std::uint64_t ns, std::uint64_t n) noexcept {
  if (n == 0) return;
  counts_[std::min(index_of(ns), counts_.size() - 1)] += n;
  count_ += n;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
  sum_ += static_cast<long double>(ns) * static_cast<long double>(n);
}

void Histogram::merge(const Histogram& other) noexcept {
  if (other.count_ == 0) return;
  if (other.counts_.size() == counts_.size()) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  } else {
    // Different ranges: re-record at each bucket's lowest value, clamped.
    for (std::size_t i = 0; i < other.counts_.size(); ++i) {
      if (other.counts_[i] == 0) continue;
      counts_[std::min(index_of(lowest_in(i)), counts_.size() - 1)] += other.counts_[i];
    }
  }
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

bool Histogram::add_to_bucket(std::size_t index, std::uint64_t n) noexcept {
  if (index >= counts_.size() || n > UINT64_MAX - count_) return false;
  if (n == 0) return true;
  counts_[index] += n;
  count_ += n;
  min_ = std::min(min_, lowest_in(index));
  max_ = std::max(max_, std::min(highest_in(index), index + 1 == counts_.size() ? highest_ : UINT64_MAX));
  sum_ += static_cast<long double>(lowest_in(index)) * static_cast<long double>(n);
  return true;
}

bool Histogram::restore_stats(std::uint64_t min, std::uint64_t max, long double sum) noexcept {
  if (count_ == 0) return min == 0 && max == 0 && sum == 0;
  std::size_t first = 0, last = counts_.size() - 1;
  while (counts_[first] == 0) ++first;
  while (counts_[last] == 0) --last;
  const std::size_t overflow = counts_.size() - 1;
  // Each extreme lies in its bucket; the overflow bucket has no upper bound.
  auto inside = [&](std::uint64_t v, std::size_t i) {
    return v >= lowest_in(i) && (i == overflow || v <= highest_in(i));
  };
  if (min > max || !inside(min, first) || !inside(max, last)) return false;
  // The sum lies between count * min and count * max (a little slack for the
  // rounding of a sum that went through a double).
  const auto n = static_cast<long double>(count_);
  const long double slack = 1e-9L * (n * static_cast<long double>(max) + 1);
  if (!(sum >= n * static_cast<long double>(min) - slack) ||
      !(sum <= n * static_cast<long double>(max) + slack))
    return false;
  min_ = min;
  max_ = max;
  sum_ = sum;
  return true;
}

void Histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const noexcept {
  return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

std::uint64_t Histogram::value_at_percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  if (!(p > 0)) return min();  // also catches NaN
  if (p >= 100) return max_;
  // The rank-th smallest sample, rank in [1, count].
  // p * count first: exact for integral p, so p99 of 100 samples is rank 99.
  const double exact = p * static_cast<double>(count_) / 100.0;
  auto rank = static_cast<std::uint64_t>(std::ceil(exact));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    // The bucket's highest value, clamped to what was really recorded, so
    // that a single-valued histogram reports that value exactly.
    if (seen < rank) continue;
    if (i + 1 == counts_.size()) return max_;  // the overflow bucket
    return std::clamp(highest_in(i), min_, max_);
  }
  return max_;
}

}  // namespace ringsock::tool
