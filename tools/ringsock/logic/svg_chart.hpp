// A line chart as hand-written SVG: a title, axes with ticks and labels, a
// legend under the plot, and several lines overlaid, each with a colour from
// a colour-blind-safe palette (Okabe and Ito) and a dash pattern, so lines
// stay apart in grey print too.
//
// x is time in seconds (linear) or the percentile axis HdrHistogram's plots
// use: log10(1/(1-p)), so 0%, 90%, 99%, 99.9%, 99.99%, 99.999% are equally
// spaced. y is linear (from 0) or log. The geometry functions are exposed so
// that a test can check where a known value lands.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ringsock::tool {

enum class XAxisKind { linear, percentile };
enum class YAxisKind { linear, log };

// x: seconds (linear axis) or percent in [0, 100) (percentile axis).
// y: the value; NaN leaves a gap in the line.
struct ChartPoint {
  double x = 0;
  double y = 0;
};

struct ChartLine {
  std::string label;  // the legend entry
  std::vector<ChartPoint> points;
  std::size_t colour = 0;  // index into the palette (wraps)
  std::size_t dash = 0;    // index into the dash patterns (wraps); 0 = solid
  double width_px = 2;     // wider lines drawn first stay visible under equal ones
};

struct ChartSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  XAxisKind x_kind = XAxisKind::linear;
  YAxisKind y_kind = YAxisKind::linear;
  bool y_integer = false;  // counts: no fractional ticks
  std::vector<ChartLine> lines;
  int width_px = 960;
  int plot_height_px = 300;
};

// The plot's rectangle inside the SVG, in pixels (y grows downwards).
struct PlotArea {
  double left_px = 0;
  double top_px = 0;
  double width_px = 0;
  double height_px = 0;
};

// An axis' value range; for a log axis both ends are > 0.
struct AxisRange {
  double lo = 0;
  double hi = 1;
};

// The percentile axis spans this many decades of 1/(1-p): 0% to 99.999%.
inline constexpr double kPercentileDecades = 5;

// log10(1/(1-p/100)), p clamped to [0, 99.999]: 0 at 0%, 1 at 90%, 2 at 99%.
double percentile_decades(double percentile);
// The pixel x of a percentile on the percentile axis.
double x_of_percentile(const PlotArea& area, double percentile);
// The pixel x of a value on a linear axis.
double x_of_value(const PlotArea& area, AxisRange range, double x);
// The pixel y of a value; on a log axis values <= lo are drawn at lo.
double y_of_value(const PlotArea& area, AxisRange range, YAxisKind kind, double y);

// A linear axis from lo (0 when every value is >= 0) to a round hi that
// covers max_value, with about target_count ticks at 1, 2 or 5 x 10^k
// steps (whole steps when integer_steps). The ticks are returned in order,
// the first at range.lo and the last at range.hi.
struct LinearAxis {
  AxisRange range;
  std::vector<double> ticks;
};
LinearAxis nice_linear_axis(double min_value, double max_value, int target_count = 5,
                            bool integer_steps = false);

// A log axis from the power of ten at or below min_value to the one at or
// above max_value (both > 0; at least one decade), ticks at each power of
// ten, and at 2 and 5 of each decade when it spans two decades or less.
struct LogAxis {
  AxisRange range;
  std::vector<double> ticks;
};
LogAxis nice_log_axis(double min_value, double max_value);

// The percentile axis' ticks: 0, 90, 99, 99.9, 99.99, 99.999, and their labels.
std::vector<double> percentile_ticks();
std::string percentile_label(double percentile);  // "99.9%"

// A tick label: up to four significant digits, k and M for thousands and
// millions ("0.5", "250", "1.5k", "2M").
std::string format_tick(double value);

// s with &, <, >, " and ' escaped for XML text and attribute values.
std::string xml_escaped(std::string_view s);

// The palette: seven colours that stay apart for the common colour-vision
// deficiencies (Okabe and Ito), black the last, and the dash patterns.
std::size_t palette_size() noexcept;
std::string_view palette_colour(std::size_t index) noexcept;
std::size_t dash_count() noexcept;
std::string_view dash_pattern(std::size_t index) noexcept;  // "" = solid

// The chart as one <svg> element. standalone adds the XML namespace a .svg
// file needs; inside an HTML page it is left out (HTML knows <svg>). The
// elements carry classes a test can find: svg.chart, g.axis.x, g.axis.y,
// path.line (one per line, with data-label), g.legend > g.entry.
std::string render_svg(const ChartSpec& spec, bool standalone = false);

}  // namespace ringsock::tool
