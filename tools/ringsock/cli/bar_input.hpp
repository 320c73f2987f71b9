// The input of `ringsock report --bars`: a grouped bar chart described in
// JSON, so that bench/compare draws its summary with the report's own code
// (logic/svg_bar_chart.hpp) instead of a second drawing code of its own.
//
//   {"title": "...", "subtitle": "...", "y_label": "...",
//    "series": ["ringsock", "epoll-echo"],
//    "groups": [{"label": "W1", "values": [1.0, 0.8]}, ...],   values: number or null (no bar)
//    "reference": 1.0, "y_cap": 3.0}                           both optional
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "logic/svg_bar_chart.hpp"

namespace ringsock_cli {

/// The chart, or one sentence on what is wrong with the description.
std::variant<ringsock::tool::BarChartSpec, std::string> bar_chart_from_json(std::string_view text);

}  // namespace ringsock_cli
