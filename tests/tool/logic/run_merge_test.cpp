#include "logic/run_merge.hpp"

#include <gtest/gtest.h>

#include <string>

#include "run_record_fixture.hpp"

namespace ringsock::tool {
namespace {

#if !RINGSOCK_HAVE_ZLIB
#define SKIP_WITHOUT_ZLIB() GTEST_SKIP() << "built without zlib"
#else
#define SKIP_WITHOUT_ZLIB() (void)0
#endif

std::vector<MergeInput> four_shards() {
  std::vector<MergeInput> in;
  for (std::uint32_t k = 0; k < 4; ++k)
    in.push_back({"shard" + std::to_string(k) + ".json", testing::shard_record({k, 4})});
  return in;
}

std::string merge_error(const std::vector<MergeInput>& in) {
  auto r = merge_runs(in);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "merged";
}

// By value: the merge result is a temporary.
RunRecord merged(std::variant<RunRecord, std::string> r) {
  EXPECT_TRUE(std::holds_alternative<RunRecord>(r)) << std::get<std::string>(r);
  return std::holds_alternative<RunRecord>(r) ? std::move(std::get<RunRecord>(r)) : RunRecord{};
}

TEST(RunMerge, AddsCountersAndSummarizesTheShards) {
  const auto in = four_shards();
  const RunRecord whole = merged(merge_runs(in));
  EXPECT_EQ(whole.shard, (ShardSpec{0, 1}));
  EXPECT_EQ(whole.counter("sent"), 20'000u);
  EXPECT_EQ(whole.counter("errors.refused"), 0u + 1 + 2 + 3);
  EXPECT_EQ(whole.connections, 8u);
  EXPECT_EQ(whole.threads, 4u);
  EXPECT_DOUBLE_EQ(whole.cpu_seconds, 1.0);
  EXPECT_EQ(whole.start_skew_ns, 4000);
  EXPECT_EQ(whole.host, "several hosts");
  // From the earliest start (skew 1 us) to the latest end (skew 4 us + 2 s).
  EXPECT_EQ(whole.started_unix_ns, in[0].record.started_unix_ns);
  EXPECT_DOUBLE_EQ(whole.seconds, 2.000003);
  EXPECT_EQ(whole.config, in[0].record.config);
}

TEST(RunMerge, AddsTheShardsIntervalsSecondBySecond) {
  auto in = four_shards();
  for (std::uint32_t k = 0; k < 4; ++k) {
    for (std::uint32_t i = 0; i < 2 + (k == 3); ++i) {  // shard 3 ran one second longer
      RunInterval interval;
      interval.start_s = i;
      interval.length_s = 1;
      interval.counters = {{"sent", 10u * (k + 1)}};
      interval.histograms.push_back({"latency", Histogram()});
      interval.histograms.back().histogram.record(1000 * (k + 1));
      in[k].record.intervals.push_back(std::move(interval));
    }
  }
  const RunRecord whole = merged(merge_runs(in));
  ASSERT_EQ(whole.intervals.size(), 3u);
  EXPECT_EQ(whole.intervals[0].counter("sent"), 10u + 20 + 30 + 40);
  EXPECT_EQ(whole.intervals[2].counter("sent"), 40u);
  const Histogram* latency = whole.intervals[1].histogram("latency");
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->count(), 4u);
  EXPECT_EQ(latency->min(), 1000u);
  EXPECT_EQ(latency->max(), 4000u);
}

TEST(RunMerge, InputOrderDoesNotMatter) {
  auto in = four_shards();
  std::swap(in[0], in[3]);
  std::swap(in[1], in[2]);
  const RunRecord whole = merged(merge_runs(in));
  EXPECT_EQ(whole.counter("sent"), 20'000u);
  EXPECT_EQ(whole.histogram("latency")->count(), 20'000u);
}

// The proof: merged percentiles are those of all samples pooled, exactly,
// after each shard's histograms went through the JSON result and back.
TEST(RunMerge, MergedPercentilesEqualThePooledSamples) {
  SKIP_WITHOUT_ZLIB();
  std::vector<MergeInput> in;
  Histogram pooled;
  for (std::uint32_t k = 0; k < 4; ++k) {
    const RunRecord shard = testing::shard_record({k, 4}, 25'000);
    auto back = read_run_record(run_record_document(shard));
    ASSERT_TRUE(std::holds_alternative<RunRecord>(back)) << std::get<std::string>(back);
    in.push_back({"s" + std::to_string(k), std::get<RunRecord>(back)});
    for (std::uint64_t v : testing::shard_samples(k, 25'000)) pooled.record(v + 500);
  }
  const RunRecord whole = merged(merge_runs(in));
  const Histogram& h = *whole.histogram("latency");
  ASSERT_EQ(h.count(), pooled.count());
  for (std::size_t i = 0; i < h.bucket_count(); ++i) ASSERT_EQ(h.count_at(i), pooled.count_at(i)) << i;
  EXPECT_EQ(h.min(), pooled.min());
  EXPECT_EQ(h.max(), pooled.max());
  for (double p : {0.0, 1.0, 10.0, 50.0, 75.0, 90.0, 99.0, 99.5, 99.9, 99.99, 99.999, 100.0})
    EXPECT_EQ(h.value_at_percentile(p), pooled.value_at_percentile(p)) << "p" << p;
  EXPECT_NEAR(h.mean(), pooled.mean(), pooled.mean() * 1e-12);
}

TEST(RunMerge, RefusesShardsThatAreNotOneRun) {
  EXPECT_EQ(merge_error({}), "nothing to merge");
  auto in = four_shards();
  in.pop_back();
  EXPECT_EQ(merge_error(in), "shard 3 of 4 is missing (3 result(s) given)");
  in = four_shards();
  in[2].record.shard.index = 1;
  EXPECT_EQ(merge_error(in), "shard 1 is given twice: shard1.json and shard2.json");
  in = four_shards();
  in[1].record.shard.count = 5;
  EXPECT_NE(merge_error(in).find("shard counts differ"), std::string::npos);
  in = four_shards();
  in[3].record.config.framing = "sockperf";
  EXPECT_EQ(merge_error(in),
            "framing differs: 'ringsock' in shard0.json (shard 0/4), 'sockperf' in shard3.json "
            "(shard 3/4)");
  in = four_shards();
  in[1].record.config.size_max = 128;
  EXPECT_NE(merge_error(in).find("size_max differs: 64 in shard0.json"), std::string::npos);
  in = four_shards();
  in[1].record.config.mode = "pingpong";
  EXPECT_NE(merge_error(in).find("mode differs"), std::string::npos);
  in = four_shards();
  in[2].record.ringsock_version = "0.3.0";
  EXPECT_NE(merge_error(in).find("ringsock versions differ: 0.2.0"), std::string::npos);
  in = four_shards();
  in[2].record.ringsock_version = "0.2.7";  // the same 0.2 series: mergeable
  EXPECT_EQ(merge_error(in), "merged");
  in = four_shards();
  in[2].record.histograms[0].histogram = Histogram(1'000'000);
  EXPECT_NE(merge_error(in).find("histogram range of 'latency' differs"), std::string::npos);
  in = four_shards();
  in[2].record.histograms.pop_back();
  EXPECT_NE(merge_error(in).find("histograms differ"), std::string::npos);
  in = four_shards();
  in[1].record.counters.emplace_back("extra", 1);
  EXPECT_NE(merge_error(in).find("has counters that"), std::string::npos);
  in = four_shards();
  in[1].record.counters[0].first = "other";
  EXPECT_NE(merge_error(in).find("counter 'sent' is in shard0.json"), std::string::npos);
  in = four_shards();
  in[2].record.start_at_unix_ns += 33'000'000'000;  // another run's shard, 33 s later
  EXPECT_NE(merge_error(in).find("the shards did not start together (results of different runs?)"),
            std::string::npos);
  in = four_shards();
  in[2].record.endpoint = "udp://127.0.0.1:9000";
  EXPECT_NE(merge_error(in).find("transport differs: 'tcp' in shard0.json (shard 0/4), 'udp' in "
                                 "shard2.json"), std::string::npos) << merge_error(in);
  in[2].record.endpoint = "tcp://10.0.0.7:9000";  // another address of the server: one run
  EXPECT_EQ(merge_error(in), "merged");
  // Without --start-at, shards run 5 s apart: their seconds would be added
  // by position although they cover different times. 0.2 s apart is one run.
  in = four_shards();
  for (auto& shard : in) shard.record.start_at_unix_ns = 0;
  in[3].record.started_unix_ns += 5'000'000'000;
  EXPECT_NE(merge_error(in).find("the shards began measuring 5.000 s apart (shard0.json (shard "
                                 "0/4) first, shard3.json (shard 3/4) last)"),
            std::string::npos) << merge_error(in);
  in[3].record.started_unix_ns -= 4'800'000'000;
  EXPECT_EQ(merge_error(in), "merged");
  in = four_shards();
  for (auto& shard : in) {
    RunInterval second;
    second.length_s = 1;
    second.counters = {{"received", UINT64_MAX / 2 + 1}};
    shard.record.intervals = {second};
  }
  EXPECT_EQ(merge_error(in), "interval 0's counter 'received' overflows when added");
  in = four_shards();
  in[0].record.counters[0].second = UINT64_MAX;
  EXPECT_EQ(merge_error(in), "counter 'sent' overflows when added");
}

}  // namespace
}  // namespace ringsock::tool
