#include "logic/result_file.hpp"

#include <gtest/gtest.h>

#include <string>

#include "logic/json_reader.hpp"
#include "run_record_fixture.hpp"

namespace ringsock::tool {
namespace {

#if !RINGSOCK_HAVE_ZLIB
#define SKIP_WITHOUT_ZLIB() GTEST_SKIP() << "built without zlib"
#else
#define SKIP_WITHOUT_ZLIB() (void)0
#endif

RunRecord read_ok(const std::string& text) {
  auto r = read_run_record(text);
  EXPECT_TRUE(std::holds_alternative<RunRecord>(r)) << std::get<std::string>(r);
  return std::holds_alternative<RunRecord>(r) ? std::get<RunRecord>(r) : RunRecord{};
}

std::string read_error(const std::string& text) {
  auto r = read_run_record(text);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "read";
}

void replace(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

TEST(ResultFile, RoundTripKeepsEverything) {
  SKIP_WITHOUT_ZLIB();
  const RunRecord r = testing::shard_record({2, 4});
  const RunRecord back = read_ok(run_record_document(r));
  EXPECT_EQ(back.ringsock_version, "0.2.0");
  EXPECT_EQ(back.shard, (ShardSpec{2, 4}));
  EXPECT_EQ(back.host, "host2");
  EXPECT_EQ(back.clock_source, r.clock_source);
  EXPECT_EQ(back.start_at_unix_ns, r.start_at_unix_ns);
  EXPECT_EQ(back.start_skew_ns, r.start_skew_ns);
  EXPECT_EQ(back.started_unix_ns, r.started_unix_ns);
  EXPECT_EQ(back.config, r.config);
  EXPECT_EQ(back.endpoint, r.endpoint);
  EXPECT_EQ(back.connections, r.connections);
  EXPECT_EQ(back.seconds, r.seconds);
  EXPECT_EQ(back.counters, r.counters);
  ASSERT_EQ(back.histograms.size(), 3u);
  for (const auto& h : r.histograms) {
    const Histogram* b = back.histogram(h.name);
    ASSERT_NE(b, nullptr) << h.name;
    EXPECT_EQ(b->count(), h.histogram.count());
    EXPECT_EQ(b->min(), h.histogram.min());
    EXPECT_EQ(b->max(), h.histogram.max());
    EXPECT_DOUBLE_EQ(b->mean(), h.histogram.mean());
    for (double p : {50.0, 99.0, 99.9, 100.0})
      EXPECT_EQ(b->value_at_percentile(p), h.histogram.value_at_percentile(p)) << h.name << p;
  }
}

// Two one-second intervals, each with its counters and a latency histogram.
RunRecord with_intervals(RunRecord r) {
  for (int i = 0; i < 2; ++i) {
    RunInterval interval;
    interval.start_s = i;
    interval.length_s = 1;
    interval.counters = {{"sent", 100u + i}, {"errors.timeout", std::uint64_t(i)}};
    interval.histograms.push_back({"latency", Histogram()});
    for (std::uint64_t v = 1; v <= 50; ++v) interval.histograms.back().histogram.record(v * 1000 + i);
    r.intervals.push_back(std::move(interval));
  }
  return r;
}

TEST(ResultFile, IntervalsRoundTrip) {
  SKIP_WITHOUT_ZLIB();
  const RunRecord r = with_intervals(testing::shard_record({0, 1}));
  const RunRecord back = read_ok(run_record_document(r));
  ASSERT_EQ(back.intervals.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.intervals[i].start_s, r.intervals[i].start_s);
    EXPECT_EQ(back.intervals[i].length_s, 1.0);
    EXPECT_EQ(back.intervals[i].counters, r.intervals[i].counters);
    const Histogram* h = back.intervals[i].histogram("latency");
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->count(), 50u);
    EXPECT_EQ(h->max(), r.intervals[i].histogram("latency")->max());
  }
}

TEST(ResultFile, IntervalsAreOptionalButMustReadWhenPresent) {
  SKIP_WITHOUT_ZLIB();
  EXPECT_TRUE(read_ok(run_record_document(testing::shard_record({0, 1}))).intervals.empty());
  std::string text = run_record_document(with_intervals(testing::shard_record({0, 1})));
  std::string backwards = text;
  replace(backwards, "\"start_s\": 1", "\"start_s\": 0.5");
  replace(backwards, "\"start_s\": 0,", "\"start_s\": 0.75,");
  EXPECT_NE(read_error(backwards).find("goes back in time"), std::string::npos) << read_error(backwards);
  std::string broken = text;
  replace(broken, "\"intervals\": [", "\"intervals\": [7, ");
  EXPECT_EQ(read_error(broken), "run.intervals[0] is not an object");
}

TEST(ResultFile, OtherMembersOfTheDocumentAreIgnored) {
  SKIP_WITHOUT_ZLIB();
  std::string text = run_record_document(testing::shard_record({0, 1}));
  replace(text, "{", R"({"version": "0.2.0", "results": {"sent": 5}, "assertions": [],)");
  EXPECT_EQ(read_ok(text).shard, (ShardSpec{0, 1}));
}

TEST(ResultFile, RefusesForeignAndBrokenDocuments) {
  SKIP_WITHOUT_ZLIB();
  const std::string good = run_record_document(testing::shard_record({1, 4}));
  EXPECT_NE(read_error("{\"results\": {}}").find("no \"run\" object"), std::string::npos);
  EXPECT_NE(read_error("[1, 2]").find("no \"run\" object"), std::string::npos);
  EXPECT_NE(read_error(good.substr(0, good.size() / 2)).find("JSON error"), std::string::npos);
  EXPECT_NE(read_error("{\"run\": {\"format\": \"k6\", \"format_version\": 1}}").find("not ringsock-run"),
            std::string::npos);
  auto mutated = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    replace(text, from, to);
    return read_error(text);
  };
  EXPECT_NE(mutated("\"format_version\": 1", "\"format_version\": 9").find("format_version 9"),
            std::string::npos);
  EXPECT_NE(mutated("\"index\": 1", "\"index\": 4").find("is not a shard"), std::string::npos);
  EXPECT_NE(mutated("\"index\": 1", "\"index\": -1").find("run.shard.index"), std::string::npos);
  EXPECT_NE(mutated("\"count\": 4", "\"count\": 4000000000").find("is not a shard"), std::string::npos);
  EXPECT_NE(mutated("\"mode\": \"rate\"", "\"mode\": 5").find("run.config.mode is not a string"),
            std::string::npos);
  EXPECT_NE(mutated("\"sent\": 5000", "\"sent\": 5000.5").find("run.counters.sent"), std::string::npos);
  EXPECT_NE(mutated("\"host\": \"host1\",", "").find("run.host is missing"), std::string::npos);
  EXPECT_NE(mutated("\"seconds\": 2", "\"seconds\": -2").find("run.seconds"), std::string::npos);
  // Times past what a run can be, which would overflow the merge's window.
  EXPECT_NE(mutated("\"seconds\": 2", "\"seconds\": 1e10").find("over 1e8 s"), std::string::npos);
  EXPECT_NE(mutated("\"started_unix_ns\": ", "\"started_unix_ns\": 9223372036854775807, \"x\": ")
                .find("run.started_unix_ns 9223372036854775807 is not a time between 1970 and 2100"),
            std::string::npos);
}

TEST(ResultFile, RefusesImpossibleHistograms) {
  SKIP_WITHOUT_ZLIB();
  const RunRecord r = testing::shard_record({0, 1});
  const std::string good = run_record_document(r);
  const Histogram& latency = *r.histogram("latency");
  auto mutated = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    replace(text, from, to);
    return read_error(text);
  };
  const std::string count = "\"count\": " + std::to_string(latency.count());
  EXPECT_NE(mutated(count, "\"count\": 4999").find("impossible counts"), std::string::npos);
  const std::string min = "\"min\": " + std::to_string(latency.min());
  EXPECT_NE(mutated(min, "\"min\": 1").find("impossible min"), std::string::npos);
  const std::string max = "\"max\": " + std::to_string(latency.max());
  EXPECT_NE(mutated(max, "\"max\": 99999999999").find("impossible min"), std::string::npos);
  EXPECT_NE(mutated("\"significant_digits\": 3", "\"significant_digits\": 2").find("significant digits"),
            std::string::npos);
  EXPECT_NE(mutated("\"highest_trackable\": 3600000000000", "\"highest_trackable\": 7")
                .find("highest_trackable says 7"),
            std::string::npos);
  EXPECT_NE(mutated("\"hdr\": \"HISTF", "\"hdr\": \"XISTF").find("bad histogram encoding"),
            std::string::npos);
  // A flipped character inside the compressed data: zlib's checksum or the decoder catch it.
  std::string text = good;
  const auto at = text.find("\"hdr\": \"HISTF") + 40;
  text[at] = text[at] == 'A' ? 'B' : 'A';
  EXPECT_NE(read_error(text), "read");
}

TEST(ResultFile, RandomDamageIsRefusedOrReadNeverACrash) {
  SKIP_WITHOUT_ZLIB();
  const std::string good = run_record_document(testing::shard_record({1, 2}, 500));
  Rng rng(99);
  int refused = 0;
  for (int round = 0; round < 1500; ++round) {
    std::string text = good;
    const int edits = 1 + static_cast<int>(rng.next() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng.next() % text.size();
      switch (rng.next() % 3) {
        case 0: text[at] = static_cast<char>(rng.next()); break;  // overwrite
        case 1: text.erase(at, 1 + rng.next() % 8); break;          // cut
        default: text.insert(at, 1, static_cast<char>(rng.next()));  // insert
      }
    }
    auto r = read_run_record(text);
    refused += std::holds_alternative<std::string>(r);
  }
  EXPECT_GT(refused, 750);  // most damage is caught; the rest reads as some record
}

TEST(ResultFile, CompatibilityVersion) {
  EXPECT_EQ(compatibility_version("1.4.2"), "1");
  EXPECT_EQ(compatibility_version("0.2.0"), "0.2");
  EXPECT_EQ(compatibility_version("0.2"), "0.2");
  EXPECT_EQ(compatibility_version("unknown"), "unknown");
}

}  // namespace
}  // namespace ringsock::tool
