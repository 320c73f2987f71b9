#include "logic/svg_chart.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ringsock::tool {
namespace {

// Okabe and Ito's palette without its yellow, which is unreadable on white.
constexpr std::array<std::string_view, 7> kPalette = {
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
constexpr std::array<std::string_view, 5> kDashes = {"", "8 4", "2 3", "10 3 2 3", "5 5"};

// Layout, in pixels.
constexpr double kMarginLeft = 76;    // y tick labels and the y axis' title
constexpr double kMarginRight = 44;   // the last x tick label's right half ("99.999%")
constexpr double kMarginTop = 40;     // the title
constexpr double kBelowPlot = 50;     // x tick labels and the x axis' title
constexpr double kLegendRow = 20;
constexpr double kLegendSample = 30;  // the line drawn before each entry
constexpr double kCharWidth = 7.2;    // 12px sans-serif, a generous average

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Appends the text element; text is escaped here.
void text(std::string& out, double x, double y, std::string_view anchor, std::string_view s,
          std::string_view extra = {}) {
  out += "<text x=\"" + fixed1(x) + "\" y=\"" + fixed1(y) + "\" text-anchor=\"";
  out += anchor;
  out += "\"";
  if (!extra.empty()) {
    out += ' ';
    out += extra;
  }
  out += '>' + xml_escaped(s) + "</text>\n";
}

void hline(std::string& out, double x1, double x2, double y, std::string_view stroke) {
  out += "<line x1=\"" + fixed1(x1) + "\" x2=\"" + fixed1(x2) + "\" y1=\"" + fixed1(y) +
         "\" y2=\"" + fixed1(y) + "\" stroke=\"";
  out += stroke;
  out += "\"/>\n";
}

void vline(std::string& out, double x, double y1, double y2, std::string_view stroke) {
  out += "<line x1=\"" + fixed1(x) + "\" x2=\"" + fixed1(x) + "\" y1=\"" + fixed1(y1) +
         "\" y2=\"" + fixed1(y2) + "\" stroke=\"";
  out += stroke;
  out += "\"/>\n";
}

// The y axis of a chart: its range and ticks, from the data.
struct YAxis {
  AxisRange range;
  std::vector<double> ticks;
};

YAxis y_axis_of(const ChartSpec& spec) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  double lowest_positive = lo;
  for (const ChartLine& line : spec.lines) {
    for (const ChartPoint& p : line.points) {
      if (!std::isfinite(p.y)) continue;
      lo = std::min(lo, p.y);
      hi = std::max(hi, p.y);
      if (p.y > 0) lowest_positive = std::min(lowest_positive, p.y);
    }
  }
  if (!std::isfinite(lo)) lo = hi = 0;  // no finite value: an empty axis
  if (spec.y_kind == YAxisKind::log) {
    if (!std::isfinite(lowest_positive)) lowest_positive = hi = 1;
    LogAxis a = nice_log_axis(lowest_positive, hi);
    return {a.range, std::move(a.ticks)};
  }
  LinearAxis a = nice_linear_axis(lo, hi, 5, spec.y_integer);
  return {a.range, std::move(a.ticks)};
}

AxisRange x_range_of(const ChartSpec& spec) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (const ChartLine& line : spec.lines) {
    for (const ChartPoint& p : line.points) {
      if (!std::isfinite(p.x)) continue;
      lo = std::min(lo, p.x);
      hi = std::max(hi, p.x);
    }
  }
  if (!std::isfinite(lo)) lo = hi = 0;
  return {lo, hi};
}

double x_pixel(const ChartSpec& spec, const PlotArea& area, AxisRange x_range, double x) {
  return spec.x_kind == XAxisKind::percentile ? x_of_percentile(area, x)
                                              : x_of_value(area, x_range, x);
}

void draw_y_axis(std::string& out, const PlotArea& area, const YAxis& y, YAxisKind kind,
                 std::string_view label) {
  out += "<g class=\"axis y\">\n";
  for (double t : y.ticks) {
    const double py = y_of_value(area, y.range, kind, t);
    hline(out, area.left_px, area.left_px + area.width_px, py, "#e3e3e3");
    text(out, area.left_px - 6, py + 4, "end", format_tick(t), "class=\"tick\"");
  }
  vline(out, area.left_px, area.top_px, area.top_px + area.height_px, "#333");
  const double cy = area.top_px + area.height_px / 2;
  out += "<text class=\"label\" transform=\"translate(16," + fixed1(cy) +
         ") rotate(-90)\" text-anchor=\"middle\">" + xml_escaped(label) + "</text>\n";
  out += "</g>\n";
}

// The x ticks: fixed percentiles, or nice values over the data's range.
struct XTicks {
  AxisRange range;
  std::vector<double> values;
};

XTicks x_ticks_of(const ChartSpec& spec) {
  if (spec.x_kind == XAxisKind::percentile) return {{0, 100}, percentile_ticks()};
  const AxisRange data = x_range_of(spec);
  LinearAxis a = nice_linear_axis(data.lo, data.hi, 8);
  return {a.range, std::move(a.ticks)};
}

void draw_x_axis(std::string& out, const ChartSpec& spec, const PlotArea& area,
                 const XTicks& x) {
  out += "<g class=\"axis x\">\n";
  const double bottom = area.top_px + area.height_px;
  for (double t : x.values) {
    const double px = x_pixel(spec, area, x.range, t);
    vline(out, px, area.top_px, bottom, "#efefef");
    vline(out, px, bottom, bottom + 5, "#333");
    const std::string label =
        spec.x_kind == XAxisKind::percentile ? percentile_label(t) : format_tick(t);
    text(out, px, bottom + 18, "middle", label, "class=\"tick\"");
  }
  hline(out, area.left_px, area.left_px + area.width_px, bottom, "#333");
  text(out, area.left_px + area.width_px / 2, bottom + 40, "middle", spec.x_label,
       "class=\"label\"");
  out += "</g>\n";
}

void stroke_attributes(std::string& out, const ChartLine& line) {
  out += " fill=\"none\" stroke=\"";
  out += palette_colour(line.colour);
  out += "\" stroke-width=\"" + fixed1(line.width_px) + "\" stroke-linejoin=\"round\"";
  const std::string_view dash = dash_pattern(line.dash);
  if (!dash.empty()) {
    out += " stroke-dasharray=\"";
    out += dash;
    out += '"';
  }
}

// The path's d attribute; a NaN y starts a new piece, a piece of one point
// becomes a short tick so that it still shows.
std::string path_data(const ChartSpec& spec, const PlotArea& area, AxisRange x_range,
                      AxisRange y_range, const ChartLine& line) {
  std::string d;
  bool pen_down = false;
  for (std::size_t i = 0; i < line.points.size(); ++i) {
    const ChartPoint& p = line.points[i];
    if (!std::isfinite(p.y) || !std::isfinite(p.x)) {
      pen_down = false;
      continue;
    }
    const double px = x_pixel(spec, area, x_range, p.x);
    const double py = y_of_value(area, y_range, spec.y_kind, p.y);
    const bool alone = !pen_down && (i + 1 == line.points.size() ||
                                     !std::isfinite(line.points[i + 1].y));
    if (alone) {
      d += "M" + fixed1(px - 3) + " " + fixed1(py) + "L" + fixed1(px + 3) + " " + fixed1(py);
      continue;
    }
    d += (pen_down ? "L" : "M") + fixed1(px) + " " + fixed1(py);
    pen_down = true;
  }
  return d;
}

void draw_lines(std::string& out, const ChartSpec& spec, const PlotArea& area, AxisRange x_range,
                AxisRange y_range) {
  out += "<g class=\"lines\">\n";
  for (const ChartLine& line : spec.lines) {
    out += "<path class=\"line\" data-label=\"" + xml_escaped(line.label) + "\" d=\"" +
           path_data(spec, area, x_range, y_range, line) + "\"";
    stroke_attributes(out, line);
    out += "><title>" + xml_escaped(line.label) + "</title></path>\n";
  }
  out += "</g>\n";
}

double legend_entry_width(const ChartLine& line) {
  return kLegendSample + 8 + kCharWidth * static_cast<double>(line.label.size()) + 22;
}

// Entries flow left to right under the plot, wrapping at the chart's width;
// returns the number of rows (so the SVG can be made tall enough).
int legend_rows(const ChartSpec& spec, double width) {
  int rows = spec.lines.empty() ? 0 : 1;
  double x = 0;
  for (const ChartLine& line : spec.lines) {
    const double w = legend_entry_width(line);
    if (x > 0 && x + w > width) {
      ++rows;
      x = 0;
    }
    x += w;
  }
  return rows;
}

void draw_legend(std::string& out, const ChartSpec& spec, double left, double top, double width) {
  out += "<g class=\"legend\">\n";
  double x = 0;
  double y = top;
  for (const ChartLine& line : spec.lines) {
    const double w = legend_entry_width(line);
    if (x > 0 && x + w > width) {
      x = 0;
      y += kLegendRow;
    }
    out += "<g class=\"entry\">";
    out += "<path d=\"M" + fixed1(left + x) + " " + fixed1(y) + "h" + fixed1(kLegendSample) + "\"";
    stroke_attributes(out, line);
    out += "/>";
    text(out, left + x + kLegendSample + 8, y + 4, "start", line.label);
    out += "</g>\n";
    x += w;
  }
  out += "</g>\n";
}

}  // namespace

double percentile_decades(double percentile) {
  const double p = std::clamp(std::isfinite(percentile) ? percentile : 0.0, 0.0, 99.999);
  return std::log10(100.0 / (100.0 - p));
}

double x_of_percentile(const PlotArea& area, double percentile) {
  return area.left_px + area.width_px * percentile_decades(percentile) / kPercentileDecades;
}

double x_of_value(const PlotArea& area, AxisRange range, double x) {
  const double span = range.hi - range.lo;
  const double f = span > 0 ? (x - range.lo) / span : 0;
  return area.left_px + area.width_px * f;
}

double y_of_value(const PlotArea& area, AxisRange range, YAxisKind kind, double y) {
  double f = 0;
  if (kind == YAxisKind::log) {
    const double v = std::max(y, range.lo);
    const double span = std::log10(range.hi) - std::log10(range.lo);
    f = span > 0 ? (std::log10(v) - std::log10(range.lo)) / span : 0;
  } else {
    const double span = range.hi - range.lo;
    f = span > 0 ? (y - range.lo) / span : 0;
  }
  return area.top_px + area.height_px * (1 - f);
}

LinearAxis nice_linear_axis(double min_value, double max_value, int target_count,
                            bool integer_steps) {
  const double lo = min_value >= 0 ? 0 : min_value;
  double hi = std::max(max_value, lo);
  if (hi == lo) hi = lo + (integer_steps ? 1 : (lo == 0 ? 1 : std::abs(lo)));
  const double raw = (hi - lo) / std::max(1, target_count);
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  if (integer_steps) step = std::max(1.0, std::round(step));
  const double first = std::floor(lo / step) * step;
  const auto steps = static_cast<long>(std::ceil((hi - first) / step - 1e-9));
  LinearAxis axis;
  for (long i = 0; i <= std::max(1L, steps); ++i) {
    // Multiplying (not adding) keeps ticks like 0.3 free of drift.
    axis.ticks.push_back(first + step * static_cast<double>(i));
  }
  axis.range = {axis.ticks.front(), axis.ticks.back()};
  return axis;
}

LogAxis nice_log_axis(double min_value, double max_value) {
  const double lo_in = min_value > 0 ? min_value : 1;
  const double hi_in = std::max(max_value, lo_in);
  // A hair of slack so that 1000 is not pushed to the decade above.
  const int lo_exp = static_cast<int>(std::floor(std::log10(lo_in) + 1e-9));
  int hi_exp = static_cast<int>(std::ceil(std::log10(hi_in) - 1e-9));
  if (hi_exp <= lo_exp) hi_exp = lo_exp + 1;
  LogAxis axis;
  axis.range = {std::pow(10, lo_exp), std::pow(10, hi_exp)};
  const bool fine = hi_exp - lo_exp <= 2;
  for (int e = lo_exp; e <= hi_exp; ++e) {
    const double decade = std::pow(10, e);
    axis.ticks.push_back(decade);
    if (fine && e < hi_exp) {
      axis.ticks.push_back(2 * decade);
      axis.ticks.push_back(5 * decade);
    }
  }
  return axis;
}

std::vector<double> percentile_ticks() { return {0, 90, 99, 99.9, 99.99, 99.999}; }

std::string percentile_label(double percentile) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g%%", percentile);
  return buf;
}

std::string format_tick(double value) {
  const double a = std::abs(value);
  double shown = value;
  const char* suffix = "";
  if (a >= 1e6) {
    shown = value / 1e6;
    suffix = "M";
  } else if (a >= 1e3) {
    shown = value / 1e3;
    suffix = "k";
  }
  if (std::abs(shown) < 1e-9) shown = 0;  // no "-0" or "1e-17"
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%s", shown, suffix);
  return buf;
}

std::string xml_escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::size_t palette_size() noexcept { return kPalette.size(); }
std::string_view palette_colour(std::size_t index) noexcept {
  return kPalette[index % kPalette.size()];
}
std::size_t dash_count() noexcept { return kDashes.size(); }
std::string_view dash_pattern(std::size_t index) noexcept { return kDashes[index % kDashes.size()]; }

std::string render_svg(const ChartSpec& spec, bool standalone) {
  const double width = spec.width_px;
  const PlotArea area{kMarginLeft, kMarginTop, width - kMarginLeft - kMarginRight,
                      static_cast<double>(spec.plot_height_px)};
  const double legend_top = area.top_px + area.height_px + kBelowPlot + 14;
  const int rows = legend_rows(spec, area.width_px);
  const double height = legend_top + rows * kLegendRow + 6;
  const YAxis y = y_axis_of(spec);
  const XTicks x = x_ticks_of(spec);

  std::string out = "<svg class=\"chart\"";
  if (standalone) out += " xmlns=\"http://www.w3.org/2000/svg\"";
  out += " width=\"" + fixed1(width) + "\" height=\"" + fixed1(height) + "\" viewBox=\"0 0 " +
         fixed1(width) + " " + fixed1(height) +
         "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"" +
         xml_escaped(spec.title) + "\">\n";
  out += "<title>" + xml_escaped(spec.title) + "</title>\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  text(out, area.left_px, 24, "start", spec.title, "class=\"title\" font-size=\"15\" font-weight=\"bold\"");
  draw_y_axis(out, area, y, spec.y_kind, spec.y_label);
  draw_x_axis(out, spec, area, x);
  draw_lines(out, spec, area, x.range, y.range);
  draw_legend(out, spec, area.left_px, legend_top, area.width_px);
  out += "</svg>\n";
  return out;
}

}  // namespace ringsock::tool
