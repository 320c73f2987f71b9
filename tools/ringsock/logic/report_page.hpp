// The report as one self-contained HTML page: a header with what was run,
// the summary table, every --assert check with its verdict, and the charts
// as inline SVG. Inline CSS only; no script, no font, no image and nothing
// else fetched from anywhere, so it opens offline, from a mail attachment or
// a CI artifact, and reads the same without JavaScript.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "logic/report_charts.hpp"
#include "logic/report_model.hpp"

namespace ringsock::tool {

// The page, or why the results cannot be drawn (see build_report_charts);
// never a page with a broken chart.
std::variant<std::string, ReportError> render_report_page(const std::vector<ReportSeries>& results);

}  // namespace ringsock::tool
