// The report's charts and page: what is drawn for which results, what is
// left out with a sentence, and the results it refuses.
#include "logic/report_page.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>
#include <utility>
#include <variant>

#include "count_of.hpp"
#include "logic/report_charts.hpp"
#include "report_examples.hpp"

namespace ringsock::tool {
namespace {

using examples::RunShape;

ReportSeries run(const std::string& label, const std::string& mode = "pingpong", std::uint64_t seed = 1) {
  RunShape shape;
  shape.label = label;
  shape.mode = mode;
  shape.seed = seed;
  shape.seconds = 5;
  shape.rate_per_s = 2000;
  return examples::make_run(shape);
}

std::vector<ReportChart> charts_of(const std::vector<ReportSeries>& results) {
  auto built = build_report_charts(results);
  if (auto* e = std::get_if<ReportError>(&built)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<std::vector<ReportChart>>(built);
}

const ReportChart& chart(const std::vector<ReportChart>& charts, ChartKind kind) {
  for (const ReportChart& c : charts) {
    if (c.kind == kind) return c;
  }
  static const ReportChart none;
  ADD_FAILURE() << "no such chart";
  return none;
}

std::string page_of(const std::vector<ReportSeries>& results) {
  auto page = render_report_page(results);
  if (auto* e = std::get_if<ReportError>(&page)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<std::string>(page);
}

std::string error_of(const std::vector<ReportSeries>& results) {
  auto page = render_report_page(results);
  if (!std::holds_alternative<ReportError>(page)) {
    ADD_FAILURE() << "a page was made";
    return {};
  }
  return std::get<ReportError>(page).message;
}

TEST(ReportCharts, OnePingpongRun) {
  const auto charts = charts_of({run("uring")});
  ASSERT_EQ(charts.size(), 5u);
  EXPECT_TRUE(chart(charts, ChartKind::spectrum).drawn);
  EXPECT_EQ(chart(charts, ChartKind::spectrum).spec.lines.size(), 1u);
  EXPECT_EQ(chart(charts, ChartKind::spectrum).spec.x_kind, XAxisKind::percentile);
  EXPECT_EQ(chart(charts, ChartKind::latency_over_time).spec.lines.size(), 3u);  // p50 p99 max
  EXPECT_EQ(chart(charts, ChartKind::throughput).spec.lines.size(), 1u);  // nothing asked
  EXPECT_TRUE(chart(charts, ChartKind::errors).drawn);
  EXPECT_FALSE(chart(charts, ChartKind::connections).drawn);
}

TEST(ReportCharts, OpenLoopDrawsCorrectedAndUncorrectedAndTheAskedRate) {
  const auto charts = charts_of({run("open", "rate")});
  const auto& spectrum = chart(charts, ChartKind::spectrum).spec.lines;
  ASSERT_EQ(spectrum.size(), 2u);
  EXPECT_EQ(spectrum[0].label, "corrected");
  EXPECT_EQ(spectrum[1].label, "uncorrected");
  EXPECT_NE(spectrum[0].colour, spectrum[1].colour);
  const auto& throughput = chart(charts, ChartKind::throughput).spec.lines;
  ASSERT_EQ(throughput.size(), 2u);
  EXPECT_EQ(throughput[1].label, "asked");
  EXPECT_NE(chart(charts, ChartKind::spectrum).caption.find("coordinated omission"), std::string::npos);
}

TEST(ReportCharts, ChurnDrawsConnectionsInConnectionsPerSecond) {
  const auto charts = charts_of({run("churn", "churn")});
  EXPECT_TRUE(chart(charts, ChartKind::connections).drawn);
  EXPECT_EQ(chart(charts, ChartKind::throughput).spec.y_label, "connections/s");
}

TEST(ReportCharts, OverlayGivesEachResultItsColourAndLegendEntry) {
  const auto charts = charts_of({run("uring"), run("epoll", "pingpong", 2)});
  const auto& spectrum = chart(charts, ChartKind::spectrum).spec.lines;
  ASSERT_EQ(spectrum.size(), 2u);
  EXPECT_EQ(spectrum[0].label, "uring");
  EXPECT_EQ(spectrum[1].label, "epoll");
  EXPECT_NE(spectrum[0].colour, spectrum[1].colour);
  // Several metrics per result: colour by result, dash by metric.
  const auto& over_time = chart(charts, ChartKind::latency_over_time).spec.lines;
  ASSERT_EQ(over_time.size(), 6u);
  EXPECT_EQ(over_time[0].label, "uring p50");
  EXPECT_EQ(over_time[0].colour, over_time[1].colour);
  EXPECT_NE(over_time[0].dash, over_time[1].dash);
  EXPECT_NE(over_time[0].colour, over_time[3].colour);
  const std::string svg = render_svg(chart(charts, ChartKind::spectrum).spec);
  EXPECT_EQ(count_of(svg, "<g class=\"entry\">"), 2u);
  EXPECT_EQ(count_of(svg, "<path class=\"line\""), 2u);
}

TEST(ReportCharts, ShardsAndTheirMergedWholeStayApart) {
  std::vector<ReportSeries> results;
  for (std::uint64_t k = 1; k <= 9; ++k) results.push_back(run("shard " + std::to_string(k), "pingpong", k));
  ReportSeries merged = run("merged", "pingpong", 99);
  merged.highlight = true;
  results.push_back(merged);
  const auto charts = charts_of(results);
  const auto& lines = chart(charts, ChartKind::spectrum).spec.lines;
  ASSERT_EQ(lines.size(), 10u);
  std::set<std::pair<std::size_t, std::size_t>> styles;
  for (const ChartLine& l : lines) styles.insert({l.colour % palette_size(), l.dash % dash_count()});
  EXPECT_EQ(styles.size(), lines.size());  // no two results look alike
  EXPECT_EQ(palette_colour(lines.back().colour), "#000000");
  EXPECT_GT(lines.back().width_px, lines.front().width_px);
  const std::string svg = render_svg(chart(charts, ChartKind::spectrum).spec);
  EXPECT_EQ(count_of(svg, "<g class=\"entry\">"), 10u);
}

TEST(ReportCharts, PingpongAndOpenLoopOverlayWhereTheirAxesAgree) {
  const auto charts = charts_of({run("closed"), run("open", "rate", 3)});
  EXPECT_EQ(chart(charts, ChartKind::spectrum).spec.lines.size(), 3u);
  EXPECT_EQ(chart(charts, ChartKind::spectrum).spec.lines[1].label, "open corrected");
}

TEST(ReportCharts, AResultWithoutSomeDataIsNamedUnderTheChart) {
  ReportSeries only_spectrum = run("summary only", "pingpong", 5);
  only_spectrum.intervals.clear();
  const auto charts = charts_of({run("uring"), only_spectrum});
  const ReportChart& throughput = chart(charts, ChartKind::throughput);
  EXPECT_TRUE(throughput.drawn);
  ASSERT_EQ(throughput.missing.size(), 1u);
  EXPECT_EQ(throughput.missing[0], "summary only");
}

TEST(ReportCharts, NoErrorsIsASentenceNotAnEmptyChart) {
  ReportSeries clean = run("clean");
  for (IntervalPoint& i : clean.intervals) i.errors.clear();
  const auto charts = charts_of({clean});
  EXPECT_FALSE(chart(charts, ChartKind::errors).drawn);
  EXPECT_EQ(chart(charts, ChartKind::errors).omitted, "No errors or timeouts in any interval.");
}

TEST(ReportCharts, LongRunsAreDrawnInMinutes) {
  RunShape shape;
  shape.seconds = 900;
  shape.rate_per_s = 100;
  const auto charts = charts_of({examples::make_run(shape)});
  const ReportChart& throughput = chart(charts, ChartKind::throughput);
  EXPECT_EQ(throughput.spec.x_label, "time (min)");
  EXPECT_DOUBLE_EQ(throughput.spec.lines[0].points.back().x, 899.0 / 60);
  EXPECT_EQ(chart(charts, ChartKind::spectrum).spec.x_label, "percentile");
  EXPECT_EQ(chart(charts_of({run("short")}), ChartKind::throughput).spec.x_label, "time (s)");
}

TEST(ReportPage, NonFiniteValuesNeverReachTheSvg) {
  ReportSeries r = run("odd");
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.latency.push_back({nan, 5});
  r.latency.push_back({99, inf});
  r.intervals[1].rate_per_s = nan;
  r.intervals[2].p99_us = -inf;
  r.intervals[3].max_us = -4;
  const std::string page = page_of({r});
  ASSERT_FALSE(page.empty());
  for (const char* bad : {"nan", "inf", "NaN", "Inf"}) EXPECT_EQ(page.find(bad), std::string::npos) << bad;
}

TEST(ReportPage, SelfContainedAndScriptFree) {
  const std::string page = page_of({run("uring"), run("epoll", "pingpong", 2)});
  ASSERT_FALSE(page.empty());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* banned : {"<script", "http://", "https://", "src=", "href=", "url(", "@import",
                             "<link", "<img", "<iframe", "@font-face"}) {
    EXPECT_EQ(page.find(banned), std::string::npos) << banned;
  }
  EXPECT_NE(page.find("<style>"), std::string::npos);
}

TEST(ReportPage, HeaderSummaryChecksAndCharts) {
  const ReportSeries r = run("uring");
  const std::string page = page_of({r});
  EXPECT_NE(page.find(xml_escaped(r.facts.command_line)), std::string::npos);
  EXPECT_NE(page.find("6.1.0-28-amd64"), std::string::npos);
  for (const SummaryRow& row : r.summary) EXPECT_NE(page.find(xml_escaped(row.value)), std::string::npos);
  for (const CheckVerdict& c : r.checks) {
    EXPECT_NE(page.find(std::string(c.passed ? "PASS" : "FAIL") + "</span><code>" + xml_escaped(c.line)),
              std::string::npos)
        << c.line;
  }
  EXPECT_EQ(count_of(page, "<svg class=\"chart\""), 4u);
  // The connections chart is left out with a sentence, not drawn empty.
  EXPECT_NE(page.find("No connections chart"), std::string::npos);
}

TEST(ReportPage, UserTextIsEscaped) {
  ReportSeries r = run("<b>bold</b> & co");
  r.facts.command_line = "ringsock load 'x<y' \"q\"";
  r.checks.push_back({"p99 < 1us: <FAILED>", false});
  const std::string page = page_of({r});
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_EQ(page.find("<FAILED>"), std::string::npos);
  EXPECT_EQ(page.find("'x<y'"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;bold&lt;/b&gt; &amp; co"), std::string::npos);
}

TEST(ReportErrors, NoResults) { EXPECT_EQ(error_of({}), "no results to draw"); }

TEST(ReportErrors, AnEmptyRun) {
  ReportSeries empty;
  empty.label = "nothing";
  empty.facts.mode = "pingpong";
  const std::string why = error_of({run("uring"), empty});
  EXPECT_NE(why.find("'nothing' has no samples"), std::string::npos) << why;
  // Intervals that counted nothing are empty too.
  empty.intervals.resize(3);
  EXPECT_NE(error_of({empty}).find("no samples"), std::string::npos);
}

TEST(ReportErrors, LabelsMustTellResultsApart) {
  EXPECT_NE(error_of({run("same"), run("same", "pingpong", 2)}).find("both labelled 'same'"),
            std::string::npos);
  EXPECT_NE(error_of({run("")}).find("result 1 has no label"), std::string::npos);
}

TEST(ReportErrors, ThroughputInDifferentUnits) {
  const std::string why = error_of({run("pingpong"), run("churn", "churn", 2)});
  EXPECT_NE(why.find("'pingpong'"), std::string::npos) << why;
  EXPECT_NE(why.find("'churn'"), std::string::npos) << why;
  EXPECT_NE(why.find("axes differ"), std::string::npos) << why;
}

TEST(ReportErrors, NothingInCommon) {
  ReportSeries spectrum_only = run("a");
  spectrum_only.intervals.clear();
  ReportSeries intervals_only = run("b", "throughput", 2);
  intervals_only.latency.clear();
  for (IntervalPoint& i : intervals_only.intervals) i.latency_samples = 0;
  const std::string why = error_of({spectrum_only, intervals_only});
  EXPECT_NE(why.find("no chart in common"), std::string::npos) << why;
  EXPECT_NE(why.find("mode throughput"), std::string::npos) << why;
}

}  // namespace
}  // namespace ringsock::tool
