#include "logic/svg_bar_chart.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "count_of.hpp"

namespace ringsock::tool {
namespace {

BarChartSpec two_servers() {
  BarChartSpec spec;
  spec.title = "rate relative to the best peer";
  spec.y_label = "x best peer";
  spec.series = {"ringsock-uring", "epoll"};
  spec.groups = {{"W1-64B-c50", {0.5, 1.0}}, {"W3-unix-c50", {1.2, NAN}}};
  spec.reference = 1.0;
  return spec;
}

// Layout: the plot starts at x=64, y=58 and is 300 px tall; groups are two
// 14 px bars plus a 22 px gap wide, the first bar 11 px into its group.
TEST(SvgBarChart, ValueAtKnownPixels) {
  BarChartSpec spec = two_servers();
  spec.groups[1].values[0] = 0.9;  // the axis then ends at 1.0 (the reference)
  const LinearAxis axis = bar_axis(spec);
  EXPECT_EQ(axis.range.hi, 1.0);
  const BarBox half = bar_box(spec, 0, 0);
  EXPECT_DOUBLE_EQ(half.x_px, 75);
  EXPECT_DOUBLE_EQ(half.y_px, 208);  // 0.5 of 1.0: halfway up
  EXPECT_DOUBLE_EQ(half.height_px, 150);
  EXPECT_FALSE(half.cut);
  const BarBox full = bar_box(spec, 0, 1);
  EXPECT_DOUBLE_EQ(full.x_px, 89);
  EXPECT_DOUBLE_EQ(full.y_px, 58);
  EXPECT_DOUBLE_EQ(bar_box(spec, 1, 0).x_px, 75 + 50);
}

TEST(SvgBarChart, BarsAboveTheCapAreCutAndLabelled) {
  BarChartSpec spec = two_servers();
  spec.groups[1].values[0] = 7.5;
  spec.y_cap = 4;
  EXPECT_EQ(bar_axis(spec).range.hi, 4);
  const BarBox cut = bar_box(spec, 1, 0);
  EXPECT_TRUE(cut.cut);
  EXPECT_DOUBLE_EQ(cut.y_px, 58);
  const std::string svg = render_bar_svg(spec);
  EXPECT_NE(svg.find(">7.5</text>"), std::string::npos) << svg;
}

TEST(SvgBarChart, OneRectPerValueOneLegendEntryPerSeries) {
  const std::string svg = render_bar_svg(two_servers());
  EXPECT_EQ(count_of(svg, "<rect class=\"bar\""), 3u);  // the NaN has no bar
  EXPECT_EQ(count_of(svg, "<g class=\"entry\">"), 2u);
  EXPECT_EQ(count_of(svg, "class=\"reference\""), 1u);
  EXPECT_EQ(count_of(svg, "<g class=\"axis y\">"), 1u);
  EXPECT_EQ(svg.find("xmlns"), std::string::npos);
  EXPECT_NE(render_bar_svg(two_servers(), true).find("xmlns"), std::string::npos);
}

TEST(SvgBarChart, ALongFirstGroupLabelWidensTheLeftMargin) {
  BarChartSpec spec = two_servers();
  spec.groups[0].label = std::string(40, 'W');
  // 40 characters slanted at 35 degrees reach ~236 px left of the group's middle.
  EXPECT_GT(bar_box(spec, 0, 0).x_px, 200);
}

TEST(SvgBarChart, TextIsEscaped) {
  BarChartSpec spec = two_servers();
  spec.groups[0].label = "<W&1>";
  spec.series[0] = "a\"b";
  const std::string svg = render_bar_svg(spec);
  EXPECT_EQ(svg.find("<W&1>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;W&amp;1&gt;"), std::string::npos);
  EXPECT_NE(svg.find("a&quot;b"), std::string::npos);
}

TEST(SvgBarChart, NoGroupsStillAValidChart) {
  BarChartSpec spec;
  spec.title = "empty";
  const std::string svg = render_bar_svg(spec);
  EXPECT_EQ(count_of(svg, "<rect class=\"bar\""), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace ringsock::tool
