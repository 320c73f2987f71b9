// `ringsock report [LABEL=]RESULT.json... -o report.html`: one self-contained
// HTML page drawing one or several results of `ringsock load --json` (or
// `ringsock merge --json`) on the same axes (logic/report_page.hpp).
// `ringsock report --bars BARS.json -o chart.svg`: a grouped bar chart
// (logic/svg_bar_chart.hpp) from a small JSON description, for
// bench/compare's summary. It parses its own arguments, as merge does.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ringsock_cli {

struct ReportArgs {
  std::vector<std::pair<std::string, std::string>> inputs;  ///< (label, path)
  std::string output;     ///< -o / --output
  std::string bars_file;  ///< --bars
  bool help = false;
};

/// Parses argv[2..]; 0, or kExitUsage with one sentence in `error`.
int parse_report_args(int argc, const char* const* argv, ReportArgs& out, std::string& error);

/// The whole subcommand; returns the exit code.
int run_report(int argc, const char* const* argv);

}  // namespace ringsock_cli
