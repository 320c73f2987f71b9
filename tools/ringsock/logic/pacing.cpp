#include "logic/pacing.hpp"

#include <bit>
#include <cmath>
#include <stdexcept>

namespace ringsock::tool {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Rng::Rng(std::uint64_t seed) noexcept {
  // splitmix64 expansion, as recommended by xoshiro's authors: never all-zero.
  for (auto& word : s_) word = splitmix64(seed);
}

std::uint64_t Rng::next() noexcept {
  const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

double Rng::uniform01() noexcept {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;  // 53 random bits
}

namespace {

std::uint64_t connection_seed(std::uint64_t seed, std::uint32_t connection) {
  // Mix both so connection c of seed s and connection c+1 of seed s-1 differ.
  std::uint64_t state = seed;
  const std::uint64_t a = splitmix64(state);
  state = a ^ (static_cast<std::uint64_t>(connection) * 0xD1B54A32D192ED03ULL);
  return splitmix64(state);
}

const PacingConfig& validated(const PacingConfig& config, std::uint32_t connection) {
  if (!(config.total_rate > 0) || !std::isfinite(config.total_rate))
    throw std::invalid_argument("pacing: the rate must be a positive number");
  if (config.connections == 0) throw std::invalid_argument("pacing: no connections");
  if (connection >= config.connections)
    throw std::invalid_argument("pacing: connection index out of range");
  return config;
}

}  // namespace

Pacer::Pacer(const PacingConfig& config, std::uint32_t connection)
    : interval_ns_(1e9 * validated(config, connection).connections / config.total_rate),
      start_ns_(config.start_ns),
      arrival_(config.arrival),
      rng_(connection_seed(config.seed, connection)),
      next_offset_ns_(0),
      stagger_ns_(interval_ns_ * connection / config.connections) {
  // Poisson: the first arrival is itself one exponential gap after start.
  if (arrival_ == Arrival::poisson) next_offset_ns_ = -std::log1p(-rng_.uniform01()) * interval_ns_;
}

std::uint64_t Pacer::at(double offset_ns) const noexcept {
  return start_ns_ + static_cast<std::uint64_t>(std::llround(offset_ns));
}

std::uint64_t Pacer::peek() const noexcept {
  if (arrival_ == Arrival::constant)
    // From the index, not by accumulation, so rounding never drifts.
    return at(stagger_ns_ + static_cast<double>(index_) * interval_ns_);
  return at(next_offset_ns_);
}

std::uint64_t Pacer::next() noexcept {
  const std::uint64_t t = peek();
  ++index_;
  if (arrival_ == Arrival::poisson)
    next_offset_ns_ += -std::log1p(-rng_.uniform01()) * interval_ns_;
  return t;
}

void LatencyPair::record(std::uint64_t intended_ns, std::uint64_t sent_ns,
                         std::uint64_t received_ns) noexcept {
  corrected.record(received_ns > intended_ns ? received_ns - intended_ns : 0);
  uncorrected.record(received_ns > sent_ns ? received_ns - sent_ns : 0);
}

void LatencyPair::merge(const LatencyPair& other) noexcept {
  corrected.merge(other.corrected);
  uncorrected.merge(other.uncorrected);
}

void LatencyPair::reset() noexcept {
  corrected.reset();
  uncorrected.reset();
}

}  // namespace ringsock::tool
