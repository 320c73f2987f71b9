#include "logic/svg_chart.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "count_of.hpp"

namespace ringsock::tool {
namespace {

TEST(SvgChartGeometry, PercentileDecadesAreEquallySpaced) {
  EXPECT_DOUBLE_EQ(percentile_decades(0), 0);
  EXPECT_NEAR(percentile_decades(90), 1, 1e-12);
  EXPECT_NEAR(percentile_decades(99), 2, 1e-12);
  EXPECT_NEAR(percentile_decades(99.9), 3, 1e-9);
  EXPECT_NEAR(percentile_decades(99.99), 4, 1e-9);
  EXPECT_NEAR(percentile_decades(99.999), 5, 1e-6);
  // Beyond the axis (and nonsense) is clamped, never infinite.
  EXPECT_NEAR(percentile_decades(100), 5, 1e-6);
  EXPECT_DOUBLE_EQ(percentile_decades(-3), 0);
  EXPECT_DOUBLE_EQ(percentile_decades(std::numeric_limits<double>::quiet_NaN()), 0);
}

TEST(SvgChartGeometry, PercentileAtKnownX) {
  const PlotArea area{100, 20, 500, 300};
  EXPECT_DOUBLE_EQ(x_of_percentile(area, 0), 100);
  EXPECT_NEAR(x_of_percentile(area, 90), 200, 1e-9);
  EXPECT_NEAR(x_of_percentile(area, 99), 300, 1e-9);
  EXPECT_NEAR(x_of_percentile(area, 99.999), 600, 1e-6);
  // 50% is log10(2)/5 of the way: 0.0602 of 500 px.
  EXPECT_NEAR(x_of_percentile(area, 50), 100 + 500 * std::log10(2.0) / 5, 1e-9);
}

TEST(SvgChartGeometry, LinearXAndY) {
  const PlotArea area{10, 10, 200, 200};
  EXPECT_DOUBLE_EQ(x_of_value(area, {0, 10}, 5), 110);
  EXPECT_DOUBLE_EQ(y_of_value(area, {0, 100}, YAxisKind::linear, 25), 160);
  EXPECT_DOUBLE_EQ(y_of_value(area, {0, 100}, YAxisKind::linear, 100), 10);
  EXPECT_DOUBLE_EQ(y_of_value(area, {0, 100}, YAxisKind::linear, 0), 210);
}

TEST(SvgChartGeometry, LogY) {
  const PlotArea area{0, 0, 100, 300};
  EXPECT_NEAR(y_of_value(area, {1, 1000}, YAxisKind::log, 10), 200, 1e-9);
  EXPECT_NEAR(y_of_value(area, {1, 1000}, YAxisKind::log, 1000), 0, 1e-9);
  // Zero has no logarithm: drawn on the floor, not lost.
  EXPECT_DOUBLE_EQ(y_of_value(area, {1, 1000}, YAxisKind::log, 0), 300);
}

TEST(SvgChartTicks, LinearStepsAreOneTwoFive) {
  const LinearAxis a = nice_linear_axis(0, 87);
  EXPECT_EQ(a.ticks, (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(a.range.lo, 0);
  EXPECT_EQ(a.range.hi, 100);
  const LinearAxis b = nice_linear_axis(0, 0.42);
  EXPECT_EQ(b.range.hi, 0.5);
  EXPECT_NEAR(b.ticks[3], 0.3, 1e-12);
  const LinearAxis c = nice_linear_axis(0, 23'456);
  EXPECT_EQ(c.range.hi, 25'000);
  EXPECT_EQ(c.ticks[1], 5'000);
}

TEST(SvgChartTicks, LinearEdgeCases) {
  // All zero: an axis of 0..1, not a division by zero.
  const LinearAxis zero = nice_linear_axis(0, 0);
  EXPECT_EQ(zero.range.lo, 0);
  EXPECT_EQ(zero.range.hi, 1);
  // Counts: whole steps only.
  const LinearAxis counts = nice_linear_axis(0, 2, 5, true);
  EXPECT_EQ(counts.ticks, (std::vector<double>{0, 1, 2}));
  // Negative values start below zero.
  const LinearAxis neg = nice_linear_axis(-3, 7);
  EXPECT_LE(neg.range.lo, -3);
  EXPECT_GE(neg.range.hi, 7);
}

TEST(SvgChartTicks, LogDecades) {
  const LogAxis wide = nice_log_axis(7, 380);
  EXPECT_EQ(wide.range.lo, 1);
  EXPECT_EQ(wide.range.hi, 1000);
  EXPECT_EQ(wide.ticks, (std::vector<double>{1, 10, 100, 1000}));
  // Two decades or less: 2 and 5 in between.
  const LogAxis narrow = nice_log_axis(20, 300);
  EXPECT_EQ(narrow.ticks, (std::vector<double>{10, 20, 50, 100, 200, 500, 1000}));
  // An exact power of ten is not pushed to the next decade; one value still gets a decade.
  const LogAxis one = nice_log_axis(1000, 1000);
  EXPECT_EQ(one.range.lo, 1000);
  EXPECT_EQ(one.range.hi, 10000);
}

TEST(SvgChartTicks, Labels) {
  EXPECT_EQ(format_tick(0), "0");
  EXPECT_EQ(format_tick(0.5), "0.5");
  EXPECT_EQ(format_tick(250), "250");
  EXPECT_EQ(format_tick(1500), "1.5k");
  EXPECT_EQ(format_tick(25'000), "25k");
  EXPECT_EQ(format_tick(2'000'000), "2M");
  EXPECT_EQ(format_tick(1e-17), "0");
  EXPECT_EQ(percentile_label(0), "0%");
  EXPECT_EQ(percentile_label(99.9), "99.9%");
  EXPECT_EQ(percentile_label(99.999), "99.999%");
  EXPECT_EQ(percentile_ticks(), (std::vector<double>{0, 90, 99, 99.9, 99.99, 99.999}));
}

TEST(SvgChartText, XmlEscaping) {
  EXPECT_EQ(xml_escaped("<a & 'b' \"c\">"), "&lt;a &amp; &#39;b&#39; &quot;c&quot;&gt;");
  EXPECT_EQ(xml_escaped("plain"), "plain");
}

TEST(SvgChartText, LabelsAreEscapedInTheSvg) {
  ChartSpec spec;
  spec.title = "t<i>tle";
  spec.lines.push_back({"<evil> & co", {{0, 1}, {1, 2}}});
  const std::string svg = render_svg(spec);
  EXPECT_EQ(svg.find("<evil>"), std::string::npos);
  EXPECT_EQ(svg.find("<i>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;evil&gt; &amp; co"), std::string::npos);
}

// The chart's layout: plot from x=76 (left margin) over 840 px (960 minus
// the margins 76 and 44), y from 40 over 300 px.
TEST(SvgChartRender, PercentileLineAtKnownPixels) {
  ChartSpec spec;
  spec.x_kind = XAxisKind::percentile;
  spec.lines.push_back({"a", {{0, 0}, {99, 100}}});
  const std::string svg = render_svg(spec);
  // 0% at the left edge, value 0 at the bottom; 99% two fifths across, 100 at the top.
  EXPECT_NE(svg.find("d=\"M76.0 340.0L412.0 40.0\""), std::string::npos) << svg;
}

TEST(SvgChartRender, IntervalLineAtKnownPixels) {
  ChartSpec spec;
  spec.lines.push_back({"a", {{0, 50}, {10, 100}}});
  const std::string svg = render_svg(spec);
  // x 0..10 and y 0..100: 50 is halfway up the 300 px plot.
  EXPECT_NE(svg.find("d=\"M76.0 190.0L916.0 40.0\""), std::string::npos) << svg;
}

TEST(SvgChartRender, NanLeavesAGapAndALonePointStillShows) {
  ChartSpec spec;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  spec.lines.push_back({"a", {{0, 1}, {1, nan}, {2, 1}, {3, 1}}});
  const std::string svg = render_svg(spec);
  const auto at = svg.find("class=\"line\"");
  ASSERT_NE(at, std::string::npos);
  const auto d = svg.substr(svg.find(" d=\"", at) + 4);
  const std::string path = d.substr(0, d.find('"'));
  EXPECT_EQ(count_of(path, "M"), 2u) << path;  // two pieces
  EXPECT_EQ(count_of(path, "L"), 2u) << path;  // a short tick for the lone point, one segment
}

TEST(SvgChartRender, OneLegendEntryAndOnePathPerLine) {
  ChartSpec spec;
  for (int i = 0; i < 9; ++i) {
    spec.lines.push_back({"line " + std::to_string(i), {{0, 1.0 * i}, {1, 2.0 * i}}, std::size_t(i), std::size_t(i)});
  }
  const std::string svg = render_svg(spec);
  EXPECT_EQ(count_of(svg, "<path class=\"line\""), 9u);
  EXPECT_EQ(count_of(svg, "<g class=\"entry\">"), 9u);
  EXPECT_EQ(count_of(svg, "<g class=\"axis x\">"), 1u);
  EXPECT_EQ(count_of(svg, "<g class=\"axis y\">"), 1u);
  // Nine entries wrap onto more than one legend row: the SVG grows to hold them.
  const auto h = svg.find("height=\"");
  EXPECT_GT(std::stod(svg.substr(h + 8)), 300 + 40 + 50 + 14 + 20);
}

TEST(SvgChartRender, DistinctStylesForOverlaidLines) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < palette_size(); ++i) seen.insert(std::string(palette_colour(i)));
  EXPECT_EQ(seen.size(), palette_size());
  EXPECT_GE(palette_size(), 6u);
  EXPECT_EQ(dash_pattern(0), "");
  EXPECT_NE(dash_pattern(1), dash_pattern(2));
}

TEST(SvgChartRender, NamespaceOnlyWhenStandalone) {
  ChartSpec spec;
  spec.lines.push_back({"a", {{0, 1}, {1, 2}}});
  EXPECT_EQ(render_svg(spec).find("xmlns"), std::string::npos);
  EXPECT_NE(render_svg(spec, true).find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
}

}  // namespace
}  // namespace ringsock::tool
