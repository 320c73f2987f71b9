#include "logic/hlog_merge.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "logic/pacing.hpp"

namespace ringsock::tool {
namespace {

#if !RINGSOCK_HAVE_ZLIB
#define SKIP_WITHOUT_ZLIB() GTEST_SKIP() << "built without zlib"
#else
#define SKIP_WITHOUT_ZLIB() (void)0
#endif

constexpr const char* kTags[] = {"latency", "connect"};

Histogram second_of(std::uint32_t shard, int second, int tag, std::uint64_t highest = 3'600'000'000'000ULL) {
  Histogram h(highest);
  Rng rng(shard * 1000 + static_cast<std::uint64_t>(second) * 10 + static_cast<std::uint64_t>(tag));
  for (int i = 0; i < 3000; ++i) h.record(10'000 + rng.next() % (50'000 * (tag + 1)));
  return h;
}

// A shard's --hlog: 3 intervals of each tag, from base_s, one second long
// but the last (`last_s`: the rest of a run after its last whole second).
HlogInput shard_log(std::uint32_t shard, double base_s, double last_s = 1) {
  std::string text = hlog_header({.start_unix_s = base_s});
  for (int second = 0; second < 3; ++second)
    for (int tag = 0; tag < 2; ++tag)
      text += hlog_interval(kTags[tag], second, second == 2 ? last_s : 1, second_of(shard, second, tag));
  auto f = read_hlog(text);
  EXPECT_TRUE(std::holds_alternative<HlogFile>(f)) << std::get<std::string>(f);
  return {"shard" + std::to_string(shard) + ".hlog", std::get<HlogFile>(f)};
}

std::string merge_error(const std::vector<HlogInput>& in) {
  auto r = merge_hlogs(in);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "merged";
}

TEST(HlogMerge, AddsTheSameSecondOfEveryShard) {
  SKIP_WITHOUT_ZLIB();
  // Started together within a few milliseconds of skew.
  const std::vector<HlogInput> in = {shard_log(0, 1000.002), shard_log(1, 1000.000),
                                     shard_log(2, 1000.004)};
  auto merged = merge_hlogs(in);
  ASSERT_TRUE(std::holds_alternative<HlogFile>(merged)) << std::get<std::string>(merged);
  const HlogFile& f = std::get<HlogFile>(merged);
  EXPECT_DOUBLE_EQ(f.base_time_s, 1000.000);
  ASSERT_EQ(f.intervals.size(), 6u);
  for (int second = 0; second < 3; ++second) {
    for (int tag = 0; tag < 2; ++tag) {
      const HlogInterval& iv = f.intervals[static_cast<std::size_t>(second * 2 + tag)];
      EXPECT_EQ(iv.tag, kTags[tag]);
      EXPECT_DOUBLE_EQ(iv.start_s, second);
      EXPECT_DOUBLE_EQ(iv.length_s, 1);
      Histogram pooled;
      for (std::uint32_t k = 0; k < 3; ++k) pooled.merge(second_of(k, second, tag));
      auto decoded = iv.histogram();
      ASSERT_TRUE(std::holds_alternative<Histogram>(decoded));
      const Histogram& h = std::get<Histogram>(decoded);
      EXPECT_EQ(iv.count, pooled.count());
      for (std::size_t i = 0; i < h.bucket_count(); ++i) ASSERT_EQ(h.count_at(i), pooled.count_at(i));
    }
  }
  // The merged log is a valid log.
  auto again = read_hlog(write_hlog(f, "merged"));
  ASSERT_TRUE(std::holds_alternative<HlogFile>(again)) << std::get<std::string>(again);
  EXPECT_EQ(std::get<HlogFile>(again).intervals.size(), 6u);
}

TEST(HlogMerge, AbsoluteAndRelativeTimestampsLineUp) {
  SKIP_WITHOUT_ZLIB();
  // HdrHistogram's C writer: absolute timestamps and no BaseTime.
  std::string text = "#[Histogram log format version 1.2]\n#[StartTime: 1796407200.000 (seconds since epoch)]\n";
  for (int second = 0; second < 3; ++second)
    for (int tag = 0; tag < 2; ++tag) {
      std::string line = hlog_interval(kTags[tag], 1796407200.0 + second, 1, second_of(9, second, tag));
      text += line;
    }
  auto absolute = read_hlog(text);
  ASSERT_TRUE(std::holds_alternative<HlogFile>(absolute)) << std::get<std::string>(absolute);
  auto merged = merge_hlogs({shard_log(0, 1796407200.0), {"abs.hlog", std::get<HlogFile>(absolute)}});
  ASSERT_TRUE(std::holds_alternative<HlogFile>(merged)) << std::get<std::string>(merged);
  ASSERT_EQ(std::get<HlogFile>(merged).intervals.size(), 6u);
  EXPECT_EQ(std::get<HlogFile>(merged).intervals[5].count, 6000u);
}

TEST(HlogMerge, RefusesLogsThatDidNotStartTogether) {
  SKIP_WITHOUT_ZLIB();
  const std::string e = merge_error({shard_log(0, 1000.0), shard_log(1, 1000.4)});
  EXPECT_NE(e.find("shard1.hlog: an interval starts 0.400 s after the earliest"), std::string::npos) << e;
}

// Each shard's run ends a little apart: their last intervals are shorter
// than a second and differ, and are added as one, as long as the longest.
TEST(HlogMerge, ShorterLastIntervalsAreAddedAsOne) {
  SKIP_WITHOUT_ZLIB();
  auto merged = merge_hlogs({shard_log(0, 1000.0, 0.002), shard_log(1, 1000.001, 0.3)});
  ASSERT_TRUE(std::holds_alternative<HlogFile>(merged)) << std::get<std::string>(merged);
  const HlogFile& f = std::get<HlogFile>(merged);
  ASSERT_EQ(f.intervals.size(), 6u);
  EXPECT_DOUBLE_EQ(f.intervals[4].start_s, 2);
  EXPECT_NEAR(f.intervals[4].length_s, 0.3, 1e-9);
  EXPECT_EQ(f.intervals[4].count, 6000u);
  // A short interval that is not its log's last is another grid: refused.
  std::string text = hlog_header({.start_unix_s = 1000.0});
  for (int i = 0; i < 3; ++i) text += hlog_interval("latency", 0.5 * i, 0.5, second_of(7, i, 0));
  auto halves = read_hlog(text);
  ASSERT_TRUE(std::holds_alternative<HlogFile>(halves));
  const std::string e = merge_error({shard_log(0, 1000.0), {"halves.hlog", std::get<HlogFile>(halves)}});
  EXPECT_NE(e.find("halves.hlog: an interval of 0.500 s where another has 1.000 s"), std::string::npos)
      << e;
}

TEST(HlogMerge, RefusesDifferentRangesOfOneTag) {
  SKIP_WITHOUT_ZLIB();
  std::string text = hlog_header({.start_unix_s = 1000.0});
  text += hlog_interval("latency", 0, 1, second_of(5, 0, 0, 1'000'000));
  auto small = read_hlog(text);
  ASSERT_TRUE(std::holds_alternative<HlogFile>(small));
  const std::string e = merge_error({shard_log(0, 1000.0), {"small.hlog", std::get<HlogFile>(small)}});
  EXPECT_NE(e.find("small.hlog: tag 'latency' has highest trackable value 1000000"), std::string::npos)
      << e;
}

TEST(HlogMerge, EmptyInputs) {
  EXPECT_EQ(merge_error({}), "no histogram log to merge");
  HlogFile empty;
  auto merged = merge_hlogs({{"empty.hlog", empty}});
  ASSERT_TRUE(std::holds_alternative<HlogFile>(merged));
  EXPECT_TRUE(std::get<HlogFile>(merged).intervals.empty());
}

}  // namespace
}  // namespace ringsock::tool
