// A grouped bar chart as hand-written SVG: one group per category (a
// workload), one bar per series (a server), an optional dashed reference
// line (1.0 = the best peer) and a cap above which bars are cut and labelled
// with their value. It is the chart bench/compare draws, here so that the
// comparison and the report share one drawing code, palette and escaping.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "logic/svg_chart.hpp"

namespace ringsock::tool {

struct BarGroup {
  std::string label;           // under the group, slanted: "W1-64B-c50"
  std::vector<double> values;  // one per series, in series order; NaN: no bar
};

struct BarChartSpec {
  std::string title;
  std::string subtitle;  // one line under the title: what the bars measure
  std::string y_label;
  std::vector<std::string> series;  // the legend; series i has palette colour i
  std::vector<BarGroup> groups;
  double reference = std::numeric_limits<double>::quiet_NaN();  // a dashed line; NaN: none
  double y_cap = std::numeric_limits<double>::infinity();       // bars above are cut here
  int plot_height_px = 300;
};

// The pixel geometry of one bar, exposed so a test can check where a known
// value lands.
struct BarBox {
  double x_px = 0;
  double y_px = 0;  // the top of the bar
  double width_px = 0;
  double height_px = 0;
  bool cut = false;  // taller than the cap
};

// Where bar (group, series) is drawn; height 0 for a NaN value.
BarBox bar_box(const BarChartSpec& spec, std::size_t group, std::size_t series);

// The y axis the bars are drawn against: 0 up to the largest value (or the
// reference, or the cap when values pass it), rounded up to a nice tick.
LinearAxis bar_axis(const BarChartSpec& spec);

// The chart as one <svg> element; standalone adds the XML namespace a .svg
// file needs. Classes for tests: svg.chart.bars, rect.bar (data-group,
// data-series), g.axis.y, g.legend > g.entry.
std::string render_bar_svg(const BarChartSpec& spec, bool standalone = false);

}  // namespace ringsock::tool
