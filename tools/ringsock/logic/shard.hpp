// Sharding one load over N instances without a coordinator: instance K of N
// computes its own share of the work from (K, N) alone, so that the shares of
// all instances add up exactly to the single-machine run.
//
//   --shard K/N     instance K (0-based) of N
//   --shard auto    K and N from the launcher's environment (Slurm, a
//                   Kubernetes Indexed Job, MPI launchers)
//
// Counts are split with k6's rule: shard K of a count V gets
// round(V*(K+1)/N) - round(V*K/N), so every shard gets V/N rounded one way or
// the other and the shares telescope to V exactly.
//
// The open-loop schedule is the single-machine one, unchanged: global arrival
// g is sent by global connection g % C (C = --connections over all shards),
// and each connection's arrivals come from its own stream (logic/pacing.hpp:
// evenly staggered for constant spacing, a Poisson stream seeded by
// (seed, global connection)). A shard owns a contiguous block of global
// connections and runs their pacers as they are; so the union of the N
// shards' arrivals is the single-machine schedule exactly, and a shard's
// offered rate is rate * (its connections) / C.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "logic/pacing.hpp"

namespace ringsock::tool {

// At most this many shards: keeps the rounding arithmetic in 64 bits (no
// 128-bit integers on 32-bit targets).
inline constexpr std::uint32_t kMaxShards = 1u << 20;

struct ShardSpec {
  std::uint32_t index = 0;  // K, 0-based
  std::uint32_t count = 1;  // N >= 1
  bool operator==(const ShardSpec&) const = default;
};

// Looks up an environment variable; nullptr when it is not set. Tests pass
// a map, the command passes getenv.
using EnvLookup = std::function<const char*(const char* name)>;

// "K/N" or "auto". An error is a sentence naming what was wrong or, for
// auto, which variables were found with which values.
std::variant<ShardSpec, std::string> parse_shard(std::string_view text, const EnvLookup& env);

// --shard auto alone: SLURM_PROCID/SLURM_NTASKS, JOB_COMPLETION_INDEX with
// RINGSOCK_SHARDS, OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE, PMI_RANK/PMI_SIZE.
// Every launcher whose variables are set must agree; a half-set pair, a
// value that is not a number, or no launcher at all is an error.
std::variant<ShardSpec, std::string> shard_from_environment(const EnvLookup& env);

// round(total * K / N), halves rounded up: where shard K's block starts.
std::uint64_t shard_first(std::uint64_t total, ShardSpec shard) noexcept;
// Shard K's share of total (k6's rule); the shares of K = 0..N-1 sum to total.
std::uint64_t shard_share(std::uint64_t total, ShardSpec shard) noexcept;

// Shard K's block of global connections [first, first + count).
struct ConnectionBlock {
  std::uint32_t first = 0;
  std::uint32_t count = 0;
};
ConnectionBlock shard_connections(std::uint32_t total_connections, ShardSpec shard) noexcept;

// The global index of shard K's j-th connection (j < its block's count): the
// connection id carried in every message header, the index that picks the
// --source address and port, and the pacing stream. Global ids never collide
// across shards, so a reply can never be taken for another shard's.
std::uint32_t global_connection(std::uint32_t total_connections, ShardSpec shard,
                                std::uint32_t j) noexcept;

// A seed for whatever a shard draws on its own (not the pacing streams,
// which are per global connection). The base seed itself for a single
// instance, so an unsharded run is unchanged; distinct and reproducible per
// shard otherwise.
std::uint64_t shard_seed(std::uint64_t base_seed, ShardSpec shard) noexcept;

// The part of total_count that `count` connections, after `before` others of
// total_connections, take when a count goes with the connections (k6's rule
// over their block): the shares of consecutive blocks sum to total_count.
std::uint64_t count_of_connections(std::uint64_t total_count, std::uint32_t total_connections,
                                   std::uint32_t before, std::uint32_t count) noexcept;

// The shard's offered open-loop rate, msgs/s: rate * (its connections) / C.
double shard_rate(double total_rate, std::uint32_t total_connections, ShardSpec shard) noexcept;

// Everything shard K of a run takes from the run's totals.
struct ShardPlan {
  ConnectionBlock connections;  // global connection indices [first, first + count)
  std::uint64_t count = 0;      // its share of --count (0: the run is bounded by time):
                                // paced, in proportion to its connections
  double rate = 0;              // its offered rate, msgs/s (0: not paced)
  std::uint64_t seed = 0;       // shard_seed(base_seed, shard)
};

// The plan of one shard; an error sentence when the split leaves a shard
// without a connection (--connections below N) or, for a count-bounded run,
// without a message (--count below N).
std::variant<ShardPlan, std::string> plan_shard(ShardSpec shard, std::uint32_t total_connections,
                                                std::uint64_t total_count, double total_rate,
                                                std::uint64_t base_seed);

// Constant spacing: the global arrival index of shard K's i-th arrival (its
// arrivals in time order), with C global connections. Its intended time is
// start + g * 1e9 / rate, as on a single machine.
std::uint64_t constant_global_index(std::uint32_t total_connections, ShardSpec shard,
                                    std::uint64_t i) noexcept;

// One arrival of the schedule: which global connection sends it and when,
// relative to the common start.
struct ScheduledArrival {
  std::uint32_t connection = 0;  // global connection index
  std::uint64_t intended_ns = 0;
  bool operator==(const ScheduledArrival&) const = default;
};

// Shard K's arrivals in time order, from the pacers of its connections,
// built exactly as a single machine builds them (global config, global
// connection index). For tests and for a progress view; the load itself
// keeps one pacer per connection. Ties are broken by connection index.
class ShardArrivals {
 public:
  // global.connections is C over all shards; throws std::invalid_argument
  // like Pacer on a bad config, or when the shard has no connection.
  ShardArrivals(const PacingConfig& global, ShardSpec shard);

  ScheduledArrival next();

 private:
  struct Head {
    std::uint64_t at;
    std::uint32_t local;
    bool operator>(const Head& o) const {
      return at != o.at ? at > o.at : local > o.local;
    }
  };
  std::vector<Pacer> pacers_;
  std::uint32_t first_ = 0;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads_;
};

}  // namespace ringsock::tool
