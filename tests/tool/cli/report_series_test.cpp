// What `ringsock report` draws from a result file: the series built from a
// record with known intervals and classic fields lands where it should (a
// known interval's rate, errors and connections; the spectra an open-loop
// run gets; the header from the classic fields), and the bar chart input.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <variant>

#include "../logic/run_record_fixture.hpp"
#include "bar_input.hpp"
#include "logic/json.hpp"
#include "logic/result_file.hpp"
#include "report_series.hpp"

namespace {

namespace tool = ringsock::tool;
using ringsock_cli::series_from_result;

// The record wrapped in a document with the classic fields load writes.
std::string document(const tool::RunRecord& r, bool merged = false) {
  std::string text;
  tool::JsonWriter w(text, 0);
  w.begin_object();
  w.field("version", "0.2.0").field("kernel", "Linux 6.1.0 x86_64");
  w.field("command_line", "ringsock load tcp://127.0.0.1:9000 --mode rate --rate 4000");
  w.key("backend").begin_object().field("name", "epoll").field("reason", "epoll (io_uring_setup: EPERM)");
  w.end_object();
  w.key("assertions").begin_array();
  w.begin_object().field("check", "p99 = 3ms < 1ms: FAILED").field("passed", false).end_object();
  w.end_array();
  if (merged) w.key("shards").begin_array().end_array();
  tool::write_run_record(w, r);
  w.end_object();
  return text;
}

tool::RunRecord with_interval(tool::RunRecord r) {
  tool::RunInterval in;
  in.start_s = 2;
  in.length_s = 0.5;
  in.counters = {{"received", 1500}, {"sent", 1600}, {"errors.timeout", 7}, {"errors.reset", 0},
                 {"verify_failures", 2}, {"connections_open", 6}};
  tool::NamedHistogram latency{"latency", tool::Histogram()};
  for (int i = 0; i < 100; ++i) latency.histogram.record(100'000);
  in.histograms = {latency};
  r.intervals.push_back(in);
  return r;
}

TEST(ReportSeries, AnOpenLoopRunWithAnInterval) {
  const tool::RunRecord record = with_interval(tool::testing::shard_record({0, 1}));
  auto got = series_from_result("epoll", document(record));
  ASSERT_TRUE(std::holds_alternative<tool::ReportSeries>(got)) << std::get<std::string>(got);
  const tool::ReportSeries& s = std::get<tool::ReportSeries>(got);
  EXPECT_EQ(s.label, "epoll");
  EXPECT_EQ(s.facts.command_line, "ringsock load tcp://127.0.0.1:9000 --mode rate --rate 4000");
  EXPECT_EQ(s.facts.backend, "epoll (io_uring_setup: EPERM)");
  EXPECT_EQ(s.facts.kernel, "Linux 6.1.0 x86_64");
  EXPECT_EQ(s.facts.mode, "rate");
  ASSERT_EQ(s.checks.size(), 1u);
  EXPECT_FALSE(s.checks[0].passed);
  // Open loop: "latency" is the corrected spectrum, "latency_uncorrected" the other.
  ASSERT_FALSE(s.corrected.empty());
  ASSERT_FALSE(s.latency.empty());
  EXPECT_DOUBLE_EQ(s.corrected.back().value_us, double(record.histogram("latency")->max()) / 1e3);
  EXPECT_DOUBLE_EQ(s.latency.back().value_us,
                   double(record.histogram("latency_uncorrected")->max()) / 1e3);
  ASSERT_EQ(s.intervals.size(), 1u);
  const tool::IntervalPoint& p = s.intervals[0];
  EXPECT_DOUBLE_EQ(p.start_s, 2);
  EXPECT_DOUBLE_EQ(p.rate_per_s, 3000);  // 1500 received in half a second
  EXPECT_DOUBLE_EQ(p.asked_rate_per_s, 4000);
  EXPECT_EQ(p.latency_samples, 100u);
  EXPECT_NEAR(p.p50_us, 100, 0.1);
  EXPECT_EQ(p.errors.at("timeout"), 7u);
  EXPECT_EQ(p.errors.at("verification"), 2u);
  EXPECT_EQ(p.errors.count("reset"), 0u) << "kinds that counted nothing are left out";
  EXPECT_EQ(p.connections_open, 6u);
  EXPECT_FALSE(s.highlight);
}

// A shard was asked its share of the run's rate (2 of 8 connections: 1000
// of 4000/s), and its chart and summary say that, not the whole run's.
TEST(ReportSeries, AShardIsDrawnAgainstItsShareOfTheRate) {
  const tool::RunRecord record = with_interval(tool::testing::shard_record({1, 4}));
  auto got = series_from_result("shard 1", document(record));
  ASSERT_TRUE(std::holds_alternative<tool::ReportSeries>(got)) << std::get<std::string>(got);
  const tool::ReportSeries& s = std::get<tool::ReportSeries>(got);
  ASSERT_EQ(s.intervals.size(), 1u);
  EXPECT_DOUBLE_EQ(s.intervals[0].asked_rate_per_s, 1000);
  bool row = false;
  for (const auto& [name, value] : s.summary)
    if (name == "asked rate/s (its share)") row = value == "1000";
  EXPECT_TRUE(row);
}

// The rest of a run after its last whole second is not drawn when it is
// short; a run that is all one short interval is.
TEST(ReportSeries, AShortRestIsLeftOutButAShortRunIsDrawn) {
  tool::RunRecord record = with_interval(tool::testing::shard_record({0, 1}));
  record.intervals[0].start_s = 0;
  record.intervals[0].length_s = 0.1;
  auto one = series_from_result("short", document(record));
  ASSERT_TRUE(std::holds_alternative<tool::ReportSeries>(one)) << std::get<std::string>(one);
  EXPECT_EQ(std::get<tool::ReportSeries>(one).intervals.size(), 1u);
  record.intervals[0].length_s = 1;
  record.intervals.push_back(record.intervals[0]);
  record.intervals[1].start_s = 1;
  record.intervals[1].length_s = 0.002;
  auto two = series_from_result("rest", document(record));
  ASSERT_TRUE(std::holds_alternative<tool::ReportSeries>(two)) << std::get<std::string>(two);
  EXPECT_EQ(std::get<tool::ReportSeries>(two).intervals.size(), 1u);
}

TEST(ReportSeries, AClosedLoopRunHasOneSpectrumAndAMergedOneIsHighlighted) {
  tool::RunRecord record = tool::testing::shard_record({0, 1});
  record.config.mode = "pingpong";
  record.config.rate = 0;
  auto got = series_from_result("merged", document(record, true));
  ASSERT_TRUE(std::holds_alternative<tool::ReportSeries>(got));
  const tool::ReportSeries& s = std::get<tool::ReportSeries>(got);
  EXPECT_TRUE(s.corrected.empty());
  EXPECT_FALSE(s.latency.empty());
  EXPECT_TRUE(s.highlight);
}

TEST(ReportSeries, RefusesWhatIsNotAResult) {
  EXPECT_TRUE(std::holds_alternative<std::string>(series_from_result("a", "{\"a\": 1}")));
  EXPECT_TRUE(std::holds_alternative<std::string>(series_from_result("a", "{\"run\": ")));
  // A throughput run without intervals has nothing to draw: said so.
  tool::RunRecord r = tool::testing::shard_record({0, 1});
  r.config.mode = "throughput";
  r.histograms.clear();
  auto got = series_from_result("t", tool::run_record_document(r));
  ASSERT_TRUE(std::holds_alternative<std::string>(got));
  EXPECT_NE(std::get<std::string>(got).find("no one-second intervals"), std::string::npos);
}

TEST(BarInput, ReadsAChartAndRefusesBadOnes) {
  auto got = ringsock_cli::bar_chart_from_json(
      R"({"title": "t", "series": ["a", "b"], "groups": [{"label": "W1", "values": [1.5, null]}],
          "reference": 1})");
  ASSERT_TRUE(std::holds_alternative<tool::BarChartSpec>(got)) << std::get<std::string>(got);
  const tool::BarChartSpec& spec = std::get<tool::BarChartSpec>(got);
  ASSERT_EQ(spec.groups.size(), 1u);
  EXPECT_DOUBLE_EQ(spec.groups[0].values[0], 1.5);
  EXPECT_TRUE(std::isnan(spec.groups[0].values[1]));
  EXPECT_DOUBLE_EQ(spec.reference, 1);
  EXPECT_TRUE(std::isinf(spec.y_cap));
  for (const char* bad : {"[]", R"({"series": [], "groups": []})",
                          R"({"series": ["a"], "groups": [{"label": "W", "values": [1, 2]}]})",
                          R"({"series": ["a"], "groups": [{"label": "W", "values": [-1]}]})",
                          R"({"series": ["a"], "groups": [{"label": "W", "values": ["x"]}]})"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(ringsock_cli::bar_chart_from_json(bad))) << bad;
  }
}

}  // namespace
