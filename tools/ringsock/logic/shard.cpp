#include "logic/shard.hpp"

#include <stdexcept>

namespace ringsock::tool {
namespace {

bool parse_u32(std::string_view text, std::uint32_t& out) {
  if (text.empty() || text.size() > 10) return false;
  std::uint64_t v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

// The shared range check of K/N and of every launcher's pair.
std::string range_error(std::uint32_t index, std::uint32_t count) {
  if (count == 0) return "the shard count must be at least 1";
  if (count > kMaxShards) return "at most " + std::to_string(kMaxShards) + " shards";
  if (index >= count)
    return "shard index " + std::to_string(index) + " is not below the count " +
           std::to_string(count) + " (indices are 0-based)";
  return {};
}

struct Launcher {
  const char* name;
  const char* index_variable;
  const char* count_variable;
};

constexpr Launcher kLaunchers[] = {
    {"Slurm", "SLURM_PROCID", "SLURM_NTASKS"},
    {"Kubernetes Indexed Job", "JOB_COMPLETION_INDEX", "RINGSOCK_SHARDS"},
    {"Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
    {"PMI", "PMI_RANK", "PMI_SIZE"},
};

std::string shown(const char* variable, const char* value) {
  return std::string(variable) + "=" + (value ? "'" + std::string(value) + "'" : "(unset)");
}

// One launcher's pair: absent (both unset), a spec, or an error.
struct Found {
  bool present = false;
  ShardSpec spec;
  std::string error;
  std::string text;  // "SLURM_PROCID='1' SLURM_NTASKS='4'"
};

Found read_launcher(const Launcher& l, const EnvLookup& env) {
  Found f;
  const char* index = env(l.index_variable);
  const char* count = env(l.count_variable);
  if (index == nullptr && count == nullptr) return f;
  f.present = true;
  f.text = shown(l.index_variable, index) + " " + shown(l.count_variable, count);
  if (index == nullptr || count == nullptr) {
    f.error = std::string(l.name) + " half set: " + f.text;
    return f;
  }
  if (!parse_u32(index, f.spec.index) || !parse_u32(count, f.spec.count)) {
    f.error = std::string(l.name) + ": not whole numbers: " + f.text;
    return f;
  }
  if (std::string e = range_error(f.spec.index, f.spec.count); !e.empty())
    f.error = std::string(l.name) + ": " + e + ": " + f.text;
  return f;
}

}  // namespace

std::variant<ShardSpec, std::string> shard_from_environment(const EnvLookup& env) {
  std::vector<Found> found;
  std::string seen;
  for (const Launcher& l : kLaunchers) {
    Found f = read_launcher(l, env);
    if (!f.present) continue;
    if (!f.error.empty()) return "--shard auto: " + f.error;
    seen += (seen.empty() ? "" : ", ") + f.text;
    found.push_back(std::move(f));
  }
  if (found.empty()) {
    return "--shard auto: no launcher's variables are set (looked for SLURM_PROCID/SLURM_NTASKS, "
           "JOB_COMPLETION_INDEX with RINGSOCK_SHARDS, OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE, "
           "PMI_RANK/PMI_SIZE); use --shard K/N";
  }
  for (const Found& f : found) {
    if (!(f.spec == found.front().spec))
      return "--shard auto: the launchers disagree: " + seen + "; use --shard K/N";
  }
  return found.front().spec;
}

std::variant<ShardSpec, std::string> parse_shard(std::string_view text, const EnvLookup& env) {
  if (text == "auto") return shard_from_environment(env);
  const auto slash = text.find('/');
  ShardSpec s;
  if (slash == std::string_view::npos || !parse_u32(text.substr(0, slash), s.index) ||
      !parse_u32(text.substr(slash + 1), s.count)) {
    return "bad value '" + std::string(text) +
           "' for --shard: expected K/N (instance K of N, 0-based, e.g. 0/4) or auto";
  }
  if (std::string e = range_error(s.index, s.count); !e.empty())
    return "bad value '" + std::string(text) + "' for --shard: " + e;
  return s;
}

std::uint64_t shard_first(std::uint64_t total, ShardSpec shard) noexcept {
  // total = q*N + r, so total*K/N = q*K + r*K/N with r, K < N <= 2^20: every
  // product fits in 64 bits. Halves round up: floor(x + 1/2).
  const std::uint64_t n = shard.count;
  const std::uint64_t q = total / n, r = total % n;
  return q * shard.index + (2 * r * shard.index + n) / (2 * n);
}

std::uint64_t shard_share(std::uint64_t total, ShardSpec shard) noexcept {
  const std::uint64_t end =
      shard.index + 1 == shard.count ? total : shard_first(total, {shard.index + 1, shard.count});
  return end - shard_first(total, shard);
}

ConnectionBlock shard_connections(std::uint32_t total_connections, ShardSpec shard) noexcept {
  return {static_cast<std::uint32_t>(shard_first(total_connections, shard)),
          static_cast<std::uint32_t>(shard_share(total_connections, shard))};
}

std::uint32_t global_connection(std::uint32_t total_connections, ShardSpec shard,
                                std::uint32_t j) noexcept {
  return shard_connections(total_connections, shard).first + j;
}

std::uint64_t shard_seed(std::uint64_t base_seed, ShardSpec shard) noexcept {
  if (shard.count == 1) return base_seed;
  std::uint64_t state = base_seed ^ (static_cast<std::uint64_t>(shard.count) << 32 | shard.index);
  splitmix64(state);
  return splitmix64(state);
}

double shard_rate(double total_rate, std::uint32_t total_connections, ShardSpec shard) noexcept {
  if (total_connections == 0) return 0;
  return total_rate * shard_connections(total_connections, shard).count / total_connections;
}

std::uint64_t count_of_connections(std::uint64_t total_count, std::uint32_t total_connections,
                                   std::uint32_t before, std::uint32_t count) noexcept {
  const std::uint32_t end = before + count;
  const std::uint64_t last =
      end == total_connections ? total_count : shard_first(total_count, {end, total_connections});
  return last - shard_first(total_count, {before, total_connections});
}

// Paced, the count goes with the connections as the rate does, so every
// shard's share lasts as long as the others'.
static std::uint64_t paced_count(std::uint64_t total_count, std::uint32_t total_connections,
                                 ShardSpec shard) noexcept {
  const ConnectionBlock b = shard_connections(total_connections, shard);
  return count_of_connections(total_count, total_connections, b.first, b.count);
}

std::variant<ShardPlan, std::string> plan_shard(ShardSpec shard, std::uint32_t total_connections,
                                                std::uint64_t total_count, double total_rate,
                                                std::uint64_t base_seed) {
  const std::string of = " over " + std::to_string(shard.count) + " shards";
  if (total_connections < shard.count)
    return "--connections " + std::to_string(total_connections) + of +
           " leaves a shard without a connection: give at least one per shard";
  // Every shard refuses alike when any one would be left without a message.
  const bool paced = total_rate > 0;
  for (std::uint32_t k = 0; total_count != 0 && k < shard.count; ++k) {
    const ShardSpec s{k, shard.count};
    if ((paced ? paced_count(total_count, total_connections, s) : shard_share(total_count, s)) == 0)
      return "--count " + std::to_string(total_count) + of +
             " leaves a shard without a message: give at least one per shard" +
             (paced ? " (with a rate, the count is split as the connections are)" : "");
  }
  ShardPlan plan;
  plan.connections = shard_connections(total_connections, shard);
  plan.count = paced ? paced_count(total_count, total_connections, shard)
                     : shard_share(total_count, shard);
  plan.rate = shard_rate(total_rate, total_connections, shard);
  plan.seed = shard_seed(base_seed, shard);
  return plan;
}

std::uint64_t constant_global_index(std::uint32_t total_connections, ShardSpec shard,
                                    std::uint64_t i) noexcept {
  // Each round of C global arrivals holds one arrival of every connection,
  // in connection order; the shard's block is a contiguous run in each round.
  const ConnectionBlock b = shard_connections(total_connections, shard);
  if (b.count == 0) return 0;
  return (i / b.count) * total_connections + b.first + i % b.count;
}

ShardArrivals::ShardArrivals(const PacingConfig& global, ShardSpec shard) {
  const ConnectionBlock b = shard_connections(global.connections, shard);
  if (b.count == 0) throw std::invalid_argument("shard: this shard has no connection");
  first_ = b.first;
  pacers_.reserve(b.count);
  for (std::uint32_t j = 0; j < b.count; ++j) {
    pacers_.emplace_back(global, b.first + j);
    heads_.push({pacers_.back().peek(), j});
  }
}

ScheduledArrival ShardArrivals::next() {
  const Head h = heads_.top();
  heads_.pop();
  pacers_[h.local].next();
  heads_.push({pacers_[h.local].peek(), h.local});
  return {first_ + h.local, h.at};
}

}  // namespace ringsock::tool
