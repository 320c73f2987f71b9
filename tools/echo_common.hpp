// Pieces the echo demo's server, client and report share: the clock, the
// message format, the latency histogram and a bounded loop drain.
#pragma once

#include <time.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ringsock/loop.hpp"

namespace echo {

inline uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

inline constexpr uint32_t kMinMessageSize = 16;
inline constexpr uint32_t kMaxMessageSize = 65536;

// Every message is [sequence u64][send time ns u64][pattern...]. The pattern
// is a window into a byte ramp whose start depends on the sequence number and
// the connection, so a reply that is cut, shifted, mixed up with another
// message or delivered to the wrong connection fails the check.
class MessageCodec {
 public:
  static constexpr uint32_t kHeaderBytes = 16;

  explicit MessageCodec(uint32_t size) : size_(size), ramp_(size + 256) {
    for (size_t i = 0; i < ramp_.size(); ++i) ramp_[i] = uint8_t(i);
  }
  uint32_t size() const noexcept { return size_; }

  void write(uint8_t* out, uint32_t connection, uint64_t sequence, uint64_t sent_ns) const noexcept {
    std::memcpy(out, &sequence, 8);
    std::memcpy(out + 8, &sent_ns, 8);
    std::memcpy(out + kHeaderBytes, body(connection, sequence), size_ - kHeaderBytes);
  }

  /// True when the body matches the header's sequence for this connection.
  bool check(const uint8_t* in, uint32_t connection, uint64_t& sequence,
             uint64_t& sent_ns) const noexcept {
    std::memcpy(&sequence, in, 8);
    std::memcpy(&sent_ns, in + 8, 8);
    return std::memcmp(in + kHeaderBytes, body(connection, sequence), size_ - kHeaderBytes) == 0;
  }

 private:
  const uint8_t* body(uint32_t connection, uint64_t sequence) const noexcept {
    return ramp_.data() + ((sequence + uint64_t(connection) * 37u) & 255u) + kHeaderBytes;
  }
  uint32_t size_;
  std::vector<uint8_t> ramp_;  // filled once at setup; read-only on the hot path
};

// Log-linear latency histogram in nanoseconds, HdrHistogram style: exact below
// 256 ns, then 128 linear buckets per power of two (< 0.8 % wide), up to 10 s.
// Fixed arrays, so recording a sample never allocates.
class LatencyHistogram {
 public:
  static constexpr uint64_t kMaxTrackable = 10'000'000'000ull;  // 10 s; above is clamped

  void record(uint64_t ns) noexcept {
    ++total_;
    if (ns > max_) max_ = ns;
    ++counts_[index_of(ns < kMaxTrackable ? ns : kMaxTrackable)];
  }
  uint64_t total() const noexcept { return total_; }
  uint64_t max() const noexcept { return max_; }

  /// Smallest recorded value v with at least `fraction` of the samples <= v,
  /// reported as the top of its bucket (never above the true maximum).
  uint64_t percentile(double fraction) const noexcept {
    if (total_ == 0) return 0;
    auto rank = uint64_t(fraction * double(total_) + 0.999999);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return highest_in(i) < max_ ? highest_in(i) : max_;
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 7;                          // 128 buckets per octave
  static constexpr uint64_t kLinearLimit = 2u << kSubBits;    // 256: exact below
  static constexpr size_t kBuckets = (34 - kSubBits + 1) << kSubBits;  // to 2^34 ns > 10 s

  static size_t index_of(uint64_t ns) noexcept {
    if (ns < kLinearLimit) return size_t(ns);
    int exponent = 63 - std::countl_zero(ns);
    int shift = exponent - kSubBits;
    return size_t(shift) * (1u << kSubBits) + size_t(ns >> shift);
  }
  static uint64_t highest_in(size_t index) noexcept {
    if (index < kLinearLimit) return index;
    size_t shift = index / (1u << kSubBits) - 1;
    uint64_t mantissa = index % (1u << kSubBits) + (1u << kSubBits);
    return ((mantissa + 1) << shift) - 1;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

/// Runs `loop` until nothing but a guard timer is in flight. Returns false if
/// the guard fired first (something did not finish within `guard_ns`); what is
/// left in flight is then dropped by Loop::deinit.
bool drain_loop(ringsock::Loop& loop, uint64_t guard_ns);

/// A socket error as text ("Connection reset by peer"), from a negated errno.
const char* error_text(int negated_errno);

}  // namespace echo
