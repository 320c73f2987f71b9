#include "logic/report_charts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace ringsock::tool {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Above this ratio of highest to lowest value a latency axis turns log, so a
// tail 1000x the median does not flatten everything else onto the floor.
constexpr double kLogAxisRatio = 50;

bool has_spectrum(const ReportSeries& s) { return !s.latency.empty() || !s.corrected.empty(); }

bool has_interval_latency(const ReportSeries& s) {
  return std::any_of(s.intervals.begin(), s.intervals.end(),
                     [](const IntervalPoint& i) { return i.latency_samples > 0; });
}

bool has_errors(const ReportSeries& s) {
  for (const IntervalPoint& i : s.intervals) {
    for (const auto& [kind, count] : i.errors) {
      if (count > 0) return true;
    }
  }
  return false;
}

bool has_activity(const ReportSeries& s) {
  return std::any_of(s.intervals.begin(), s.intervals.end(), [](const IntervalPoint& i) {
    return i.latency_samples > 0 || i.rate_per_s > 0 || i.connections_open > 0;
  });
}

// An empty run: nothing was measured, so every chart would be blank.
bool is_empty_run(const ReportSeries& s) {
  return !has_spectrum(s) && !has_activity(s) && !has_errors(s);
}

// The charts a result has data for, by kind.
std::set<ChartKind> kinds_of(const ReportSeries& s) {
  std::set<ChartKind> kinds;
  if (has_spectrum(s)) kinds.insert(ChartKind::spectrum);
  if (has_interval_latency(s)) kinds.insert(ChartKind::latency_over_time);
  if (!s.intervals.empty()) {
    kinds.insert(ChartKind::throughput);
    kinds.insert(ChartKind::errors);
  }
  if (s.tracks_connections && !s.intervals.empty()) kinds.insert(ChartKind::connections);
  return kinds;
}

std::string quoted(const std::string& label) { return "'" + label + "'"; }

std::string check_labels(const std::vector<ReportSeries>& results) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::string& label = results[i].label;
    if (label.empty()) return "result " + std::to_string(i + 1) + " has no label";
    if (!seen.insert(label).second) {
      return "two results are both labelled " + quoted(label) + "; a legend could not tell them apart";
    }
  }
  return {};
}

std::string check_rate_units(const std::vector<ReportSeries>& results) {
  const ReportSeries* first = nullptr;
  for (const ReportSeries& s : results) {
    if (s.intervals.empty()) continue;
    if (first == nullptr) {
      first = &s;
    } else if (s.rate_unit != first->rate_unit) {
      return "cannot overlay " + quoted(first->label) + " (throughput in " + first->rate_unit +
             ", mode " + first->facts.mode + ") and " + quoted(s.label) + " (throughput in " +
             s.rate_unit + ", mode " + s.facts.mode + "): their axes differ";
    }
  }
  return {};
}

std::string check_common_chart(const std::vector<ReportSeries>& results) {
  std::set<ChartKind> common = kinds_of(results.front());
  for (const ReportSeries& s : results) {
    std::set<ChartKind> both;
    const std::set<ChartKind> mine = kinds_of(s);
    std::set_intersection(common.begin(), common.end(), mine.begin(), mine.end(),
                          std::inserter(both, both.begin()));
    if (both.empty()) {
      return "cannot overlay " + quoted(results.front().label) + " (mode " +
             results.front().facts.mode + ") and " + quoted(s.label) + " (mode " + s.facts.mode +
             "): they have no chart in common";
    }
    common = std::move(both);
  }
  return {};
}

std::string check_results(const std::vector<ReportSeries>& results) {
  if (results.empty()) return "no results to draw";
  std::string why = check_labels(results);
  if (!why.empty()) return why;
  for (const ReportSeries& s : results) {
    if (is_empty_run(s)) {
      return "result " + quoted(s.label) + " has no samples (an empty run): there is nothing to draw";
    }
  }
  why = check_rate_units(results);
  if (!why.empty()) return why;
  return check_common_chart(results);
}

// Line styles. Metrics (p50, p99, max; achieved, asked) always differ in
// dash pattern, which survives grey print and colour blindness. One result
// colours its lines by metric; several results colour by result, and past
// the palette's six colours the dash moves on too, so no two results share
// both. A highlighted result (the merged whole among its shards) is black
// and wider. With two or three results the earlier ones are drawn wider (and
// first), so a later result with the same values lies on top of them without
// hiding them; with more, that would only make a thicket.
class LineStyler {
 public:
  explicit LineStyler(const std::vector<ReportSeries>& results) : count_(results.size()) {
    for (const ReportSeries& s : results) highlight_.push_back(s.highlight);
  }

  ChartLine line(std::size_t result, const std::string& label, std::size_t metric,
                 const std::string& metric_name, bool only_metric) const {
    const bool many = count_ > 1;
    ChartLine l;
    l.colour = many ? result % kResultColours : metric;
    l.dash = metric + (many ? result / kResultColours : 0);
    l.width_px = count_ <= 3 ? 2 + 1.2 * static_cast<double>(count_ - 1 - result) : 2;
    if (highlight_[result]) {
      l.colour = kBlack;
      l.width_px = std::max(l.width_px, 3.5);
    }
    if (only_metric) l.label = label;
    else if (many) l.label = label + " " + metric_name;
    else l.label = metric_name;
    return l;
  }

 private:
  static constexpr std::size_t kResultColours = 6;  // the palette but its black
  static constexpr std::size_t kBlack = 6;
  std::size_t count_;
  std::vector<bool> highlight_;
};

// Log when the highest value is far above the bulk of them (the lowest
// quarter, so that one tiny minimum at 0% does not decide it alone).
YAxisKind latency_axis_kind(const std::vector<ChartLine>& lines) {
  std::vector<double> values;
  for (const ChartLine& l : lines) {
    for (const ChartPoint& p : l.points) {
      if (p.y > 0 && std::isfinite(p.y)) values.push_back(p.y);
    }
  }
  if (values.empty()) return YAxisKind::linear;
  std::sort(values.begin(), values.end());
  const double bulk = values[values.size() / 4];
  return values.back() / bulk > kLogAxisRatio ? YAxisKind::log : YAxisKind::linear;
}

std::vector<ChartPoint> spectrum_points(const std::vector<SpectrumPoint>& spectrum) {
  std::vector<ChartPoint> points;
  points.reserve(spectrum.size());
  for (const SpectrumPoint& p : spectrum) points.push_back({p.percentile, p.value_us});
  return points;
}

template <class ValueOf>
std::vector<ChartPoint> interval_points(const ReportSeries& s, ValueOf value_of) {
  std::vector<ChartPoint> points;
  points.reserve(s.intervals.size());
  for (const IntervalPoint& i : s.intervals) points.push_back({i.start_s, value_of(i)});
  return points;
}

ReportChart spectrum_chart(const std::vector<ReportSeries>& results, const LineStyler& styler) {
  ReportChart c{ChartKind::spectrum, "spectrum", "Latency by percentile", {}, false, {}, {}, {}};
  c.spec = {"Latency by percentile", "percentile", "latency (us)", XAxisKind::percentile,
            YAxisKind::linear, false, {}, 960, 300};
  bool any_corrected = false;
  for (std::size_t r = 0; r < results.size(); ++r) {
    const ReportSeries& s = results[r];
    if (!has_spectrum(s)) c.missing.push_back(s.label);
    const bool two = !s.corrected.empty() && !s.latency.empty();
    any_corrected = any_corrected || !s.corrected.empty();
    if (!s.corrected.empty()) {
      c.spec.lines.push_back(styler.line(r, s.label, 0, "corrected", !two));
      c.spec.lines.back().points = spectrum_points(s.corrected);
    }
    if (!s.latency.empty()) {
      c.spec.lines.push_back(styler.line(r, s.label, two ? 1 : 0, "uncorrected", !two));
      c.spec.lines.back().points = spectrum_points(s.latency);
    }
  }
  c.caption =
      "A point at (99%, 120 us) means 99% of the replies came within 120 us and 1 in 100 took "
      "longer. The x axis stretches the tail: each step right is ten times rarer.";
  if (any_corrected) {
    c.caption +=
        " Corrected latency counts from when each message was due to be sent, so a stall "
        "delays every message queued behind it (coordinated omission); uncorrected counts "
        "from when it was really sent.";
  }
  c.spec.y_kind = latency_axis_kind(c.spec.lines);
  c.drawn = !c.spec.lines.empty();
  c.omitted = "No latency percentile chart: none of these results recorded latency samples.";
  return c;
}

ReportChart latency_over_time_chart(const std::vector<ReportSeries>& results,
                                    const LineStyler& styler) {
  ReportChart c{ChartKind::latency_over_time, "latency", "Latency over time", {}, false, {}, {}, {}};
  c.spec = {"Latency per one-second interval", "time (s)", "latency (us)", XAxisKind::linear,
            YAxisKind::linear, false, {}, 960, 300};
  for (std::size_t r = 0; r < results.size(); ++r) {
    const ReportSeries& s = results[r];
    if (!has_interval_latency(s)) {
      c.missing.push_back(s.label);
      continue;
    }
    auto gap = [](const IntervalPoint& i, double v) { return i.latency_samples > 0 ? v : kNaN; };
    c.spec.lines.push_back(styler.line(r, s.label, 0, "p50", false));
    c.spec.lines.back().points = interval_points(s, [&](const IntervalPoint& i) { return gap(i, i.p50_us); });
    c.spec.lines.push_back(styler.line(r, s.label, 1, "p99", false));
    c.spec.lines.back().points = interval_points(s, [&](const IntervalPoint& i) { return gap(i, i.p99_us); });
    c.spec.lines.push_back(styler.line(r, s.label, 2, "max", false));
    c.spec.lines.back().points = interval_points(s, [&](const IntervalPoint& i) { return gap(i, i.max_us); });
  }
  c.caption =
      "The median (p50), p99 and slowest (max) reply of each one-second interval, plotted at "
      "the interval's start. A gap is an interval with no replies.";
  c.spec.y_kind = latency_axis_kind(c.spec.lines);
  c.drawn = !c.spec.lines.empty();
  c.omitted = "No latency-over-time chart: no interval of these results recorded latency samples.";
  return c;
}

ReportChart throughput_chart(const std::vector<ReportSeries>& results, const LineStyler& styler) {
  ReportChart c{ChartKind::throughput, "throughput", "Throughput over time", {}, false, {}, {}, {}};
  std::string unit = "messages/s";
  for (std::size_t r = 0; r < results.size(); ++r) {
    const ReportSeries& s = results[r];
    if (s.intervals.empty()) {
      c.missing.push_back(s.label);
      continue;
    }
    unit = s.rate_unit;
    const bool asked = std::any_of(s.intervals.begin(), s.intervals.end(),
                                   [](const IntervalPoint& i) { return i.asked_rate_per_s > 0; });
    c.spec.lines.push_back(styler.line(r, s.label, 0, "achieved", false));
    c.spec.lines.back().points = interval_points(s, [](const IntervalPoint& i) { return i.rate_per_s; });
    if (asked) {
      c.spec.lines.push_back(styler.line(r, s.label, 1, "asked", false));
      c.spec.lines.back().points = interval_points(s, [](const IntervalPoint& i) {
        return i.asked_rate_per_s > 0 ? i.asked_rate_per_s : kNaN;
      });
    }
  }
  c.spec = {"Throughput per one-second interval", "time (s)", unit, XAxisKind::linear,
            YAxisKind::linear, false, std::move(c.spec.lines), 960, 300};
  c.caption = "What each one-second interval achieved, in " + unit +
              ". For open-loop runs the asked rate is drawn too: achieved below asked means "
              "the client or the server could not keep up.";
  c.drawn = !c.spec.lines.empty();
  c.omitted = "No throughput chart: these results carry no per-interval counters.";
  return c;
}

// Every error kind any interval of s counted, in name order.
std::set<std::string> error_kinds(const ReportSeries& s) {
  std::set<std::string> kinds;
  for (const IntervalPoint& i : s.intervals) {
    for (const auto& [kind, count] : i.errors) {
      if (count > 0) kinds.insert(kind);
    }
  }
  return kinds;
}

ReportChart errors_chart(const std::vector<ReportSeries>& results, const LineStyler& styler) {
  ReportChart c{ChartKind::errors, "errors", "Errors and timeouts over time", {}, false, {}, {}, {}};
  c.spec = {"Errors and timeouts per one-second interval", "time (s)", "count", XAxisKind::linear,
            YAxisKind::linear, true, {}, 960, 240};
  bool any_intervals = false;
  for (std::size_t r = 0; r < results.size(); ++r) {
    const ReportSeries& s = results[r];
    any_intervals = any_intervals || !s.intervals.empty();
    std::size_t metric = 0;
    for (const std::string& kind : error_kinds(s)) {
      c.spec.lines.push_back(styler.line(r, s.label, metric++, kind, false));
      c.spec.lines.back().points = interval_points(s, [&](const IntervalPoint& i) {
        const auto it = i.errors.find(kind);
        return it == i.errors.end() ? 0.0 : static_cast<double>(it->second);
      });
    }
    if (metric == 0) c.missing.push_back(s.label);
  }
  c.caption = "How many errors and timeouts of each kind each one-second interval counted.";
  c.drawn = !c.spec.lines.empty();
  c.omitted = any_intervals ? "No errors or timeouts in any interval."
                            : "No errors chart: these results carry no per-interval counters.";
  return c;
}

ReportChart connections_chart(const std::vector<ReportSeries>& results, const LineStyler& styler) {
  ReportChart c{ChartKind::connections, "connections", "Connections open over time", {}, false, {}, {}, {}};
  c.spec = {"Connections open at the end of each interval", "time (s)", "connections",
            XAxisKind::linear, YAxisKind::linear, true, {}, 960, 240};
  for (std::size_t r = 0; r < results.size(); ++r) {
    const ReportSeries& s = results[r];
    if (!s.tracks_connections || s.intervals.empty()) {
      c.missing.push_back(s.label);
      continue;
    }
    c.spec.lines.push_back(styler.line(r, s.label, 0, "open", true));
    c.spec.lines.back().points = interval_points(s, [](const IntervalPoint& i) {
      return static_cast<double>(i.connections_open);
    });
  }
  c.caption =
      "Connections open at the end of each one-second interval: churn runs open and close "
      "them continuously; idle runs hold them open.";
  c.drawn = !c.spec.lines.empty();
  c.omitted = "No connections chart: only churn and idle runs record open connections over time.";
  return c;
}

// Runs longer than this are drawn in minutes: "1.5k" seconds reads badly.
constexpr double kMinutesAfter_s = 600;

void use_minutes_when_long(std::vector<ReportChart>& charts) {
  double last_s = 0;
  for (const ReportChart& c : charts) {
    if (c.spec.x_kind != XAxisKind::linear) continue;
    for (const ChartLine& l : c.spec.lines) {
      for (const ChartPoint& p : l.points) {
        if (std::isfinite(p.x)) last_s = std::max(last_s, p.x);
      }
    }
  }
  if (last_s <= kMinutesAfter_s) return;
  for (ReportChart& c : charts) {
    if (c.spec.x_kind != XAxisKind::linear) continue;
    c.spec.x_label = "time (min)";
    for (ChartLine& l : c.spec.lines) {
      for (ChartPoint& p : l.points) p.x /= 60;
    }
  }
}

}  // namespace

std::variant<std::vector<ReportChart>, ReportError> build_report_charts(
    const std::vector<ReportSeries>& results) {
  const std::string why = check_results(results);
  if (!why.empty()) return ReportError{why};
  const LineStyler styler(results);
  std::vector<ReportChart> charts;
  charts.push_back(spectrum_chart(results, styler));
  charts.push_back(latency_over_time_chart(results, styler));
  charts.push_back(throughput_chart(results, styler));
  charts.push_back(errors_chart(results, styler));
  charts.push_back(connections_chart(results, styler));
  use_minutes_when_long(charts);
  return charts;
}

}  // namespace ringsock::tool
