// Test records of one shard of a run: what `ringsock load --json` would
// write, with latencies drawn from a seeded generator so that each shard's
// samples are known and can be pooled.
#pragma once

#include <string>
#include <vector>

#include "logic/pacing.hpp"
#include "logic/result_file.hpp"

namespace ringsock::tool::testing {

// The samples of shard k of a run: n latencies, a body and a tail.
inline std::vector<std::uint64_t> shard_samples(std::uint32_t k, std::size_t n) {
  Rng rng(1000 + k);
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t r = rng.next();
    out.push_back(r % 100 == 0 ? 2'000'000 + r % 50'000'000 : 20'000 + r % (30'000 + 5'000 * k));
  }
  return out;
}

inline RunRecord shard_record(ShardSpec shard, std::size_t n = 5000) {
  RunRecord r;
  r.ringsock_version = "0.2.0";
  r.shard = shard;
  r.host = "host" + std::to_string(shard.index);
  r.clock_source = "CLOCK_REALTIME";
  r.start_at_unix_ns = 1'796'407'200'000'000'000LL;
  r.start_skew_ns = 1000 * (shard.index + 1);
  r.started_unix_ns = r.start_at_unix_ns + r.start_skew_ns;
  r.config = {.mode = "rate", .framing = "ringsock", .arrival = "constant", .size_min = 64,
              .size_max = 64, .inflight = 1, .connections = 8, .rate = 4000, .count = 0,
              .duration_ns = 2'000'000'000, .warmup_ns = 0, .seed = 1};
  r.endpoint = "tcp://127.0.0.1:9000";
  r.backend = "io_uring";
  r.threads = 1;
  r.connections = shard_share(8, shard);
  r.seconds = 2.0;
  r.cpu_seconds = 0.25;
  const std::uint64_t n64 = n;
  r.counters = {{"sent", n64},           {"received", n64},      {"bytes_sent", 64 * n64},
                {"bytes_received", 64 * n64}, {"sent_all", n64}, {"replied_all", n64},
                {"verify_failures", 0}, {"errors.refused", shard.index}, {"errors.reset", 0},
                {"established", r.connections}, {"failed_connections", 0}};
  NamedHistogram latency{"latency", Histogram()}, uncorrected{"latency_uncorrected", Histogram()},
      connect{"connect", Histogram()};
  for (std::uint64_t v : shard_samples(shard.index, n)) {
    latency.histogram.record(v + 500);
    uncorrected.histogram.record(v);
  }
  for (std::uint32_t c = 0; c < r.connections; ++c) connect.histogram.record(40'000 + 1000 * c);
  r.histograms = {latency, uncorrected, connect};
  return r;
}

}  // namespace ringsock::tool::testing
