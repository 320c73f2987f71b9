#include "logic/svg_bar_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ringsock::tool {
namespace {

// Layout, in pixels.
constexpr double kBarWidth = 14;
constexpr double kGroupGap = 22;
constexpr double kMarginLeft = 64;
constexpr double kMarginRight = 24;
constexpr double kMarginTop = 58;       // the title and the subtitle
constexpr double kMinWidth = 520;       // room for the title
constexpr double kCharWidth = 7.2;      // 12px sans-serif, a generous average
constexpr double kSlant = 0.574;        // sin(35 degrees): slanted group labels
constexpr double kSlantRun = 0.819;     // cos(35 degrees): how far left they reach
constexpr double kLegendRow = 20;
constexpr double kSwatch = 12;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

double group_width(const BarChartSpec& spec) {
  return static_cast<double>(std::max<std::size_t>(1, spec.series.size())) * kBarWidth + kGroupGap;
}

// Wide enough for the y tick labels, and for the first group's slanted
// label, which reaches left of its group.
double margin_left(const BarChartSpec& spec) {
  if (spec.groups.empty()) return kMarginLeft;
  const double reach = kCharWidth * static_cast<double>(spec.groups.front().label.size()) * kSlantRun;
  return std::max(kMarginLeft, reach - group_width(spec) / 2 + 8);
}

double chart_width(const BarChartSpec& spec) {
  const double groups = static_cast<double>(std::max<std::size_t>(1, spec.groups.size()));
  return std::max(kMinWidth, margin_left(spec) + groups * group_width(spec) + kMarginRight);
}

// The band under the plot that the slanted group labels need.
double label_band(const BarChartSpec& spec) {
  std::size_t longest = 0;
  for (const BarGroup& g : spec.groups) longest = std::max(longest, g.label.size());
  return 24 + kCharWidth * static_cast<double>(longest) * kSlant;
}

double legend_entry_width(const std::string& name) {
  return kSwatch + 6 + kCharWidth * static_cast<double>(name.size()) + 20;
}

int legend_rows(const BarChartSpec& spec, double width) {
  int rows = spec.series.empty() ? 0 : 1;
  double x = 0;
  for (const std::string& name : spec.series) {
    const double w = legend_entry_width(name);
    if (x > 0 && x + w > width) {
      ++rows;
      x = 0;
    }
    x += w;
  }
  return rows;
}

PlotArea plot_area(const BarChartSpec& spec) {
  const double left = margin_left(spec);
  return {left, kMarginTop, chart_width(spec) - left - kMarginRight,
          static_cast<double>(spec.plot_height_px)};
}

void draw_header(std::string& out, const BarChartSpec& spec) {
  out += "<text class=\"title\" x=\"" + num(margin_left(spec)) +
         "\" y=\"22\" font-size=\"15\" font-weight=\"bold\">" + xml_escaped(spec.title) + "</text>\n";
  if (!spec.subtitle.empty()) {
    out += "<text class=\"subtitle\" x=\"" + num(margin_left(spec)) + "\" y=\"40\" fill=\"#444\">" +
           xml_escaped(spec.subtitle) + "</text>\n";
  }
}

void draw_axis(std::string& out, const BarChartSpec& spec, const PlotArea& area,
               const LinearAxis& axis) {
  out += "<g class=\"axis y\">\n";
  const double right = area.left_px + area.width_px;
  for (double t : axis.ticks) {
    const double y = y_of_value(area, axis.range, YAxisKind::linear, t);
    out += "<line x1=\"" + num(area.left_px) + "\" x2=\"" + num(right) + "\" y1=\"" + num(y) +
           "\" y2=\"" + num(y) + "\" stroke=\"#e3e3e3\"/>\n";
    out += "<text class=\"tick\" x=\"" + num(area.left_px - 6) + "\" y=\"" + num(y + 4) +
           "\" text-anchor=\"end\">" + xml_escaped(format_tick(t)) + "</text>\n";
  }
  const double bottom = area.top_px + area.height_px;
  out += "<line x1=\"" + num(area.left_px) + "\" x2=\"" + num(right) + "\" y1=\"" + num(bottom) +
         "\" y2=\"" + num(bottom) + "\" stroke=\"#333\"/>\n";
  out += "<text class=\"label\" transform=\"translate(16," + num(area.top_px + area.height_px / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + xml_escaped(spec.y_label) + "</text>\n";
  out += "</g>\n";
}

// Drawn over the bars, so that it stays visible where they reach it.
void draw_reference(std::string& out, const BarChartSpec& spec, const PlotArea& area,
                    const LinearAxis& axis) {
  if (!std::isfinite(spec.reference)) return;
  const double y = y_of_value(area, axis.range, YAxisKind::linear, spec.reference);
  out += "<line class=\"reference\" x1=\"" + num(area.left_px) + "\" x2=\"" +
         num(area.left_px + area.width_px) + "\" y1=\"" + num(y) + "\" y2=\"" + num(y) +
         "\" stroke=\"#000\" stroke-dasharray=\"5 3\"/>\n";
}

void draw_bar(std::string& out, const BarChartSpec& spec, std::size_t g, std::size_t s) {
  const double v = s < spec.groups[g].values.size() ? spec.groups[g].values[s] : NAN;
  if (!std::isfinite(v)) return;
  const BarBox box = bar_box(spec, g, s);
  const std::string& group = spec.groups[g].label;
  const std::string& series = spec.series[s];
  out += "<rect class=\"bar\" data-group=\"" + xml_escaped(group) + "\" data-series=\"" +
         xml_escaped(series) + "\" x=\"" + num(box.x_px) + "\" y=\"" + num(box.y_px) +
         "\" width=\"" + num(box.width_px) + "\" height=\"" + num(box.height_px) + "\" fill=\"";
  out += palette_colour(s);
  out += "\"><title>" + xml_escaped(group + " " + series + ": " + format_tick(v)) + "</title></rect>\n";
  if (box.cut) {  // the bar leaves the plot: say how tall it really is
    out += "<text class=\"cut\" x=\"" + num(box.x_px) + "\" y=\"" + num(box.y_px - 3) +
           "\" font-size=\"10\">" + xml_escaped(format_tick(v)) + "</text>\n";
  }
}

void draw_groups(std::string& out, const BarChartSpec& spec, const PlotArea& area) {
  const double bottom = area.top_px + area.height_px;
  for (std::size_t g = 0; g < spec.groups.size(); ++g) {
    for (std::size_t s = 0; s < spec.series.size(); ++s) draw_bar(out, spec, g, s);
    const double cx = area.left_px + (static_cast<double>(g) + 0.5) * group_width(spec);
    out += "<text class=\"group\" transform=\"translate(" + num(cx) + "," + num(bottom + 14) +
           ") rotate(-35)\" text-anchor=\"end\">" + xml_escaped(spec.groups[g].label) + "</text>\n";
  }
}

void draw_legend(std::string& out, const BarChartSpec& spec, double left, double top, double width) {
  out += "<g class=\"legend\">\n";
  double x = 0;
  double y = top;
  for (std::size_t s = 0; s < spec.series.size(); ++s) {
    const double w = legend_entry_width(spec.series[s]);
    if (x > 0 && x + w > width) {
      x = 0;
      y += kLegendRow;
    }
    out += "<g class=\"entry\"><rect x=\"" + num(left + x) + "\" y=\"" + num(y - kSwatch + 2) +
           "\" width=\"" + num(kSwatch) + "\" height=\"" + num(kSwatch) + "\" fill=\"";
    out += palette_colour(s);
    out += "\"/><text x=\"" + num(left + x + kSwatch + 6) + "\" y=\"" + num(y) + "\">" +
           xml_escaped(spec.series[s]) + "</text></g>\n";
    x += w;
  }
  out += "</g>\n";
}

}  // namespace

LinearAxis bar_axis(const BarChartSpec& spec) {
  double top = std::isfinite(spec.reference) ? spec.reference : 0;
  for (const BarGroup& g : spec.groups) {
    for (double v : g.values) {
      if (std::isfinite(v)) top = std::max(top, v);
    }
  }
  return nice_linear_axis(0, std::min(top, spec.y_cap));
}

BarBox bar_box(const BarChartSpec& spec, std::size_t group, std::size_t series) {
  const PlotArea area = plot_area(spec);
  const LinearAxis axis = bar_axis(spec);
  BarBox box;
  box.x_px = area.left_px + static_cast<double>(group) * group_width(spec) + kGroupGap / 2 +
             static_cast<double>(series) * kBarWidth;
  box.width_px = kBarWidth - 2;
  const double bottom = area.top_px + area.height_px;
  box.y_px = bottom;
  if (group >= spec.groups.size() || series >= spec.groups[group].values.size()) return box;
  const double v = spec.groups[group].values[series];
  if (!std::isfinite(v)) return box;
  box.cut = v > axis.range.hi;
  box.y_px = y_of_value(area, axis.range, YAxisKind::linear, std::clamp(v, 0.0, axis.range.hi));
  box.height_px = bottom - box.y_px;
  return box;
}

std::string render_bar_svg(const BarChartSpec& spec, bool standalone) {
  const PlotArea area = plot_area(spec);
  const double width = chart_width(spec);
  const double legend_top = area.top_px + area.height_px + label_band(spec) + 14;
  const double height = legend_top + legend_rows(spec, area.width_px) * kLegendRow + 6;
  std::string out = "<svg class=\"chart bars\"";
  if (standalone) out += " xmlns=\"http://www.w3.org/2000/svg\"";
  out += " width=\"" + num(width) + "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) +
         " " + num(height) + "\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"" +
         xml_escaped(spec.title) + "\">\n<title>" + xml_escaped(spec.title) + "</title>\n" +
         "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  draw_header(out, spec);
  const LinearAxis axis = bar_axis(spec);
  draw_axis(out, spec, area, axis);
  draw_groups(out, spec, area);
  draw_reference(out, spec, area, axis);
  draw_legend(out, spec, area.left_px, legend_top, area.width_px);
  out += "</svg>\n";
  return out;
}

}  // namespace ringsock::tool
