// The charts of a report, built from its results: which charts there are,
// which lines each one draws, and - for a chart no result has data for - the
// sentence that replaces it. Results are checked here first: an empty run, or
// results that share no axis, are refused with a message that says why.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "logic/report_model.hpp"
#include "logic/svg_chart.hpp"

namespace ringsock::tool {

enum class ChartKind { spectrum, latency_over_time, throughput, errors, connections };

struct ReportChart {
  ChartKind kind = ChartKind::spectrum;
  std::string id;       // an HTML id: "spectrum", "latency", ...
  std::string heading;  // "Latency by percentile"
  std::string caption;  // how to read it
  bool drawn = false;
  ChartSpec spec;             // the chart, when drawn
  std::string omitted;        // why it is left out, when not drawn
  std::vector<std::string> missing;  // labels of results with no data in a drawn chart
};

struct ReportError {
  std::string message;  // one sentence for the user: what is wrong and with which result
};

// Every chart of the report in page order, or why the results cannot be
// drawn: no results, a result without a label or with a label used twice, an
// empty run (no samples and no intervals), throughput in different units,
// or results that have no chart in common.
std::variant<std::vector<ReportChart>, ReportError> build_report_charts(
    const std::vector<ReportSeries>& results);

}  // namespace ringsock::tool
