// Open-loop rate pacing: the intended send time of every message, decided in
// advance and independent of how fast replies come back, so a stalled server
// shows up as latency instead of silently lowering the offered load
// (coordinated omission).
#pragma once

#include <cstdint>

#include "logic/histogram.hpp"

namespace ringsock::tool {

enum class Arrival : std::uint8_t { constant, poisson };

struct PacingConfig {
  double total_rate = 1000;      // messages/s over all connections; > 0
  std::uint32_t connections = 1; // the rate is split evenly; > 0
  Arrival arrival = Arrival::constant;
  std::uint64_t seed = 1;
  std::uint64_t start_ns = 0;    // monotonic time of the first slot
};

// A small seeded generator (xoshiro256**): reproducible across platforms,
// unlike the std distributions whose output is implementation-defined.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  double uniform01() noexcept;  // in [0, 1)

 private:
  std::uint64_t s_[4];
};

std::uint64_t splitmix64(std::uint64_t& state) noexcept;

// The schedule of one connection. Constant arrivals of the connections are
// staggered so that together they are evenly spaced; Poisson arrivals of
// each connection come from their own stream derived from (seed, connection).
class Pacer {
 public:
  // Throws std::invalid_argument if the rate or connection count is not
  // positive, or connection >= connections.
  Pacer(const PacingConfig& config, std::uint32_t connection);

  // The intended send time of the next message; allocation-free.
  std::uint64_t next() noexcept;
  // The time next() will return, without consuming it.
  std::uint64_t peek() const noexcept;
  double interval_ns() const noexcept { return interval_ns_; }

 private:
  std::uint64_t at(double offset_ns) const noexcept;

  double interval_ns_;
  std::uint64_t start_ns_;
  Arrival arrival_;
  Rng rng_;
  double next_offset_ns_;  // of the next message, relative to start
  std::uint64_t index_ = 0;
  double stagger_ns_;
};

// Records the latency of one reply twice: from the intended send time
// (coordinated-omission corrected) and from the actual send time.
struct LatencyPair {
  explicit LatencyPair(std::uint64_t highest_trackable_ns = 3'600'000'000'000ULL)
      : corrected(highest_trackable_ns), uncorrected(highest_trackable_ns) {}

  // A reply that arrives before its (clock-skewed) send time counts as 0.
  void record(std::uint64_t intended_ns, std::uint64_t sent_ns,
              std::uint64_t received_ns) noexcept;
  void merge(const LatencyPair& other) noexcept;
  void reset() noexcept;

  Histogram corrected;
  Histogram uncorrected;
};

}  // namespace ringsock::tool
