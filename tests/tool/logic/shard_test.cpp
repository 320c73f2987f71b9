#include "logic/shard.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ringsock::tool {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

ShardSpec spec(const std::variant<ShardSpec, std::string>& v) {
  EXPECT_TRUE(std::holds_alternative<ShardSpec>(v)) << std::get<std::string>(v);
  return std::holds_alternative<ShardSpec>(v) ? std::get<ShardSpec>(v) : ShardSpec{};
}

std::string error(const std::variant<ShardSpec, std::string>& v) {
  EXPECT_TRUE(std::holds_alternative<std::string>(v));
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "";
}

TEST(Shard, ParsesKOfN) {
  const auto none = env_of({});
  EXPECT_EQ(spec(parse_shard("0/1", none)), (ShardSpec{0, 1}));
  EXPECT_EQ(spec(parse_shard("3/4", none)), (ShardSpec{3, 4}));
  EXPECT_NE(error(parse_shard("4/4", none)).find("not below the count 4"), std::string::npos);
  EXPECT_NE(error(parse_shard("0/0", none)).find("at least 1"), std::string::npos);
  for (const char* bad : {"", "1", "1/", "/4", "a/4", "1/b", "-1/4", "1/4/5", " 1/4", "1/4 "})
    EXPECT_NE(error(parse_shard(bad, none)).find("expected K/N"), std::string::npos) << bad;
  EXPECT_NE(error(parse_shard("0/2000000", none)).find("at most"), std::string::npos);
}

TEST(Shard, AutoReadsEachLauncher) {
  EXPECT_EQ(spec(parse_shard("auto", env_of({{"SLURM_PROCID", "2"}, {"SLURM_NTASKS", "4"}}))),
            (ShardSpec{2, 4}));
  EXPECT_EQ(spec(parse_shard("auto", env_of({{"JOB_COMPLETION_INDEX", "5"},
                                             {"RINGSOCK_SHARDS", "8"}}))),
            (ShardSpec{5, 8}));
  EXPECT_EQ(spec(parse_shard("auto", env_of({{"OMPI_COMM_WORLD_RANK", "0"},
                                             {"OMPI_COMM_WORLD_SIZE", "2"}}))),
            (ShardSpec{0, 2}));
  EXPECT_EQ(spec(parse_shard("auto", env_of({{"PMI_RANK", "1"}, {"PMI_SIZE", "3"}}))),
            (ShardSpec{1, 3}));
}

TEST(Shard, AutoAcceptsLaunchersThatAgree) {
  // srun of an MPI program sets both Slurm's and PMI's variables.
  EXPECT_EQ(spec(shard_from_environment(env_of({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"},
                                                {"PMI_RANK", "1"}, {"PMI_SIZE", "2"}}))),
            (ShardSpec{1, 2}));
}

TEST(Shard, AutoRefusesWhatIsMissingOrContradictory) {
  std::string e = error(shard_from_environment(env_of({})));
  EXPECT_NE(e.find("no launcher"), std::string::npos) << e;
  e = error(shard_from_environment(env_of({{"JOB_COMPLETION_INDEX", "3"}})));
  EXPECT_NE(e.find("JOB_COMPLETION_INDEX='3' RINGSOCK_SHARDS=(unset)"), std::string::npos) << e;
  e = error(shard_from_environment(env_of({{"SLURM_PROCID", "x"}, {"SLURM_NTASKS", "4"}})));
  EXPECT_NE(e.find("not whole numbers"), std::string::npos) << e;
  e = error(shard_from_environment(env_of({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}})));
  EXPECT_NE(e.find("not below"), std::string::npos) << e;
  e = error(shard_from_environment(env_of({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "4"},
                                           {"OMPI_COMM_WORLD_RANK", "2"},
                                           {"OMPI_COMM_WORLD_SIZE", "4"}})));
  EXPECT_NE(e.find("disagree"), std::string::npos) << e;
  EXPECT_NE(e.find("SLURM_PROCID='1'"), std::string::npos) << e;
  EXPECT_NE(e.find("OMPI_COMM_WORLD_RANK='2'"), std::string::npos) << e;
}

// k6's rule, computed here in long double for small values as the reference.
std::uint64_t reference_share(std::uint64_t v, std::uint32_t k, std::uint32_t n) {
  auto round_half_up = [](std::uint64_t num, std::uint64_t den) { return (2 * num + den) / (2 * den); };
  return round_half_up(v * (k + 1), n) - round_half_up(v * k, n);
}

TEST(Shard, SharesAddUpExactlyAndDifferByAtMostOne) {
  for (std::uint32_t n = 1; n <= 40; ++n) {
    for (std::uint64_t v : {0ULL, 1ULL, 2ULL, 3ULL, 7ULL, 10ULL, 99ULL, 1000ULL, 1001ULL,
                            123457ULL, 10'000'019ULL}) {
      std::uint64_t sum = 0, low = UINT64_MAX, high = 0;
      for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint64_t s = shard_share(v, {k, n});
        EXPECT_EQ(s, reference_share(v, k, n)) << v << " " << k << "/" << n;
        EXPECT_EQ(shard_first(v, {k, n}), sum);
        sum += s;
        low = std::min(low, s);
        high = std::max(high, s);
      }
      EXPECT_EQ(sum, v) << v << " over " << n;
      EXPECT_LE(high - low, 1u) << v << " over " << n;
    }
  }
}

TEST(Shard, SharesOfHugeCountsStayExact) {
  const std::uint64_t v = UINT64_MAX - 12345;
  for (std::uint32_t n : {1u, 2u, 3u, 7u, 1000u, kMaxShards}) {
    std::uint64_t sum = 0;
    const std::uint32_t step = n > 1000 ? 997 : 1;  // sample the huge count of shards
    for (std::uint32_t k = 0; k < n; k += step) sum += shard_share(v, {k, n});
    if (step == 1) {
      EXPECT_EQ(sum, v) << n;
    }
    EXPECT_EQ(shard_first(v, {n, n}), v) << n;  // the end of the last block
  }
}

TEST(Shard, KsixExampleRounding) {
  // 10 over 3: 3.33 -> 3, 6.67 -> 7, 10: shares 3, 4, 3.
  EXPECT_EQ(shard_share(10, {0, 3}), 3u);
  EXPECT_EQ(shard_share(10, {1, 3}), 4u);
  EXPECT_EQ(shard_share(10, {2, 3}), 3u);
}

TEST(Shard, ConnectionBlocksTileTheGlobalRange) {
  for (std::uint32_t c : {1u, 4u, 5u, 17u, 1000u}) {
    for (std::uint32_t n = 1; n <= std::min(c, 9u); ++n) {
      std::set<std::uint32_t> ids;
      for (std::uint32_t k = 0; k < n; ++k) {
        const ConnectionBlock b = shard_connections(c, {k, n});
        for (std::uint32_t j = 0; j < b.count; ++j) {
          const std::uint32_t g = global_connection(c, {k, n}, j);
          EXPECT_TRUE(ids.insert(g).second) << "connection " << g << " in two shards";
        }
      }
      EXPECT_EQ(ids.size(), c);
      EXPECT_EQ(*ids.rbegin(), c - 1);
    }
  }
}

TEST(Shard, SeedsAreTheBaseForOneShardAndDistinctOtherwise) {
  EXPECT_EQ(shard_seed(42, {0, 1}), 42u);
  std::set<std::uint64_t> seeds;
  for (std::uint32_t n = 2; n <= 16; ++n)
    for (std::uint32_t k = 0; k < n; ++k) {
      EXPECT_EQ(shard_seed(42, {k, n}), shard_seed(42, {k, n}));  // reproducible
      seeds.insert(shard_seed(42, {k, n}));
    }
  EXPECT_EQ(seeds.size(), 135u);  // 2 + 3 + ... + 16, all distinct
}

TEST(Shard, RatesAddUpToTheWhole) {
  double sum = 0;
  for (std::uint32_t k = 0; k < 3; ++k) sum += shard_rate(1000, 10, {k, 3});
  EXPECT_DOUBLE_EQ(sum, 1000);
  EXPECT_DOUBLE_EQ(shard_rate(1000, 10, {1, 3}), 400);
}

std::vector<ScheduledArrival> single_machine(const PacingConfig& config, std::size_t n) {
  return [&] {
    ShardArrivals all(config, {0, 1});
    std::vector<ScheduledArrival> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(all.next());
    return out;
  }();
}

// The union of the shards' arrivals up to a horizon is the single machine's.
void expect_union_is_whole(const PacingConfig& config, std::uint32_t shards) {
  const auto whole = single_machine(config, 4000);
  const std::uint64_t horizon = whole.back().intended_ns;
  std::vector<ScheduledArrival> merged;
  for (std::uint32_t k = 0; k < shards; ++k) {
    ShardArrivals mine(config, {k, shards});
    for (ScheduledArrival a = mine.next(); a.intended_ns <= horizon; a = mine.next())
      merged.push_back(a);
  }
  std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) {
    return a.intended_ns != b.intended_ns ? a.intended_ns < b.intended_ns
                                          : a.connection < b.connection;
  });
  // The whole run may stop in the middle of a tie at the horizon.
  ASSERT_GE(merged.size(), whole.size());
  merged.resize(whole.size());
  EXPECT_EQ(merged, whole) << shards << " shards";
}

TEST(Shard, UnionOfShardSchedulesIsTheSingleMachineScheduleConstant) {
  PacingConfig config{.total_rate = 12'345, .connections = 10, .arrival = Arrival::constant,
                      .seed = 3, .start_ns = 777};
  for (std::uint32_t n : {1u, 2u, 3u, 4u, 7u, 10u}) expect_union_is_whole(config, n);
}

TEST(Shard, UnionOfShardSchedulesIsTheSingleMachineSchedulePoisson) {
  PacingConfig config{.total_rate = 50'000, .connections = 9, .arrival = Arrival::poisson,
                      .seed = 11, .start_ns = 0};
  for (std::uint32_t n : {1u, 2u, 4u, 9u}) expect_union_is_whole(config, n);
}

TEST(Shard, ConstantGlobalIndexGivesTheIntendedTime) {
  PacingConfig config{.total_rate = 1000, .connections = 10, .arrival = Arrival::constant};
  for (std::uint32_t n : {1u, 3u, 4u}) {
    for (std::uint32_t k = 0; k < n; ++k) {
      ShardArrivals mine(config, {k, n});
      for (std::uint64_t i = 0; i < 100; ++i) {
        const ScheduledArrival a = mine.next();
        const std::uint64_t g = constant_global_index(10, {k, n}, i);
        EXPECT_EQ(a.intended_ns, g * 1'000'000) << k << "/" << n << " i " << i;
        EXPECT_EQ(a.connection, g % 10);
      }
    }
  }
}

TEST(Shard, PlansAddUpToTheRun) {
  std::uint64_t count = 0, connections = 0;
  double rate = 0;
  for (std::uint32_t k = 0; k < 3; ++k) {
    auto plan = plan_shard({k, 3}, 10, 1000, 5000, 7);
    ASSERT_TRUE(std::holds_alternative<ShardPlan>(plan)) << std::get<std::string>(plan);
    const ShardPlan& p = std::get<ShardPlan>(plan);
    EXPECT_EQ(p.connections.first, connections);
    connections += p.connections.count;
    count += p.count;
    rate += p.rate;
    EXPECT_EQ(p.seed, shard_seed(7, {k, 3}));
  }
  EXPECT_EQ(connections, 10u);
  EXPECT_EQ(count, 1000u);
  EXPECT_DOUBLE_EQ(rate, 5000);
  auto whole = plan_shard({0, 1}, 10, 0, 0, 7);
  ASSERT_TRUE(std::holds_alternative<ShardPlan>(whole));
  EXPECT_EQ(std::get<ShardPlan>(whole).seed, 7u);
  EXPECT_EQ(std::get<ShardPlan>(whole).count, 0u);
}

// Paced, a shard's count goes with its connections as its rate does, so the
// shards' shares last equally long: 5 connections over 3 shards are 2, 1, 2.
TEST(Shard, APacedCountIsSplitAsTheConnectionsAre) {
  const std::uint64_t paced[] = {360, 180, 360}, unpaced[] = {300, 300, 300};
  for (std::uint32_t k = 0; k < 3; ++k) {
    auto p = plan_shard({k, 3}, 5, 900, 500, 1);
    ASSERT_TRUE(std::holds_alternative<ShardPlan>(p)) << std::get<std::string>(p);
    const ShardPlan& plan = std::get<ShardPlan>(p);
    EXPECT_EQ(plan.count, paced[k]) << k;
    EXPECT_DOUBLE_EQ(double(plan.count) / plan.rate, 1.8) << k;
    auto q = plan_shard({k, 3}, 5, 900, 0, 1);
    ASSERT_TRUE(std::holds_alternative<ShardPlan>(q));
    EXPECT_EQ(std::get<ShardPlan>(q).count, unpaced[k]) << k;
  }
  // Paced, a count below the connections can leave a shard without a message.
  auto p = plan_shard({1, 2}, 10, 3, 100, 1);
  ASSERT_TRUE(std::holds_alternative<ShardPlan>(p)) << std::get<std::string>(p);
  EXPECT_EQ(std::get<ShardPlan>(p).count, 1u);
  p = plan_shard({1, 3}, 9, 1, 100, 1);  // shard 1 would have it; 0 and 2 not
  ASSERT_TRUE(std::holds_alternative<std::string>(p));
  EXPECT_NE(std::get<std::string>(p).find("split as the connections are"), std::string::npos);
}

TEST(Shard, PlansRefuseAShardWithoutWork) {
  auto p = plan_shard({0, 4}, 3, 0, 0, 1);
  ASSERT_TRUE(std::holds_alternative<std::string>(p));
  EXPECT_EQ(std::get<std::string>(p),
            "--connections 3 over 4 shards leaves a shard without a connection: give at least one "
            "per shard");
  p = plan_shard({0, 4}, 8, 3, 0, 1);
  ASSERT_TRUE(std::holds_alternative<std::string>(p));
  EXPECT_NE(std::get<std::string>(p).find("--count 3 over 4 shards"), std::string::npos);
}

TEST(Shard, ShardWithoutConnectionIsRefused) {
  PacingConfig config{.total_rate = 1000, .connections = 2};
  EXPECT_EQ(shard_connections(2, {1, 4}).count, 0u);  // 2 over 4: 1, 0, 1, 0
  EXPECT_THROW(ShardArrivals(config, {1, 4}), std::invalid_argument);
}

}  // namespace
}  // namespace ringsock::tool
