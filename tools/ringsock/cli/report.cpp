#include "report.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <variant>

#include "args.hpp"
#include "bar_input.hpp"
#include "value_options.hpp"
#include "result_input.hpp"
#include "output_file.hpp"
#include "report_series.hpp"
#include "usage.hpp"

namespace ringsock_cli {

namespace tool = ringsock::tool;

namespace {

bool is_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// "uring=a.json" is labelled uring; "results/a.json" is labelled a. A path
// that exists is a path even when it has a '=' in it.
std::pair<std::string, std::string> labelled(std::string_view arg) {
  const size_t equals = arg.find('=');
  if (equals != std::string_view::npos && equals > 0 && !is_file(std::string(arg)) &&
      arg.substr(0, equals).find('/') == std::string_view::npos) {
    return {std::string(arg.substr(0, equals)), std::string(arg.substr(equals + 1))};
  }
  std::string label(arg);
  if (const size_t slash = label.rfind('/'); slash != std::string::npos) label.erase(0, slash + 1);
  if (label.size() > 5 && label.compare(label.size() - 5, 5, ".json") == 0) label.resize(label.size() - 5);
  return {label, std::string(arg)};
}

int fail(const std::string& message, int code = kExitUsage) {
  fprintf(stderr, "ringsock report: %s\n", message.c_str());
  return code;
}

int run_bars(const ReportArgs& args) {
  std::string text, error;
  if (!read_result_file(args.bars_file, text, error)) return fail(error);
  auto spec = bar_chart_from_json(text);
  if (auto* e = std::get_if<std::string>(&spec)) return fail(args.bars_file + ": " + *e);
  const std::string out = tool::render_bar_svg(std::get<tool::BarChartSpec>(spec), true);
  if (int failed = write_output_file(args.output, out))
    return fail("cannot write " + args.output + ": " + strerror(failed), 1);
  return 0;
}

}  // namespace

int parse_report_args(int argc, const char* const* argv, ReportArgs& out, std::string& error) {
  out = ReportArgs{};
  for (int i = 2; i < argc; ++i) {
    ValueArg arg;
    if (int rc = next_value_arg(Command::report, "report", argc, argv, i, arg, error, "-o",
                                "--output"))
      return rc;
    if (arg.kind == ValueArg::Kind::help) {
      out.help = true;
      return 0;
    }
    if (arg.kind == ValueArg::Kind::positional) out.inputs.push_back(labelled(arg.name));
    else if (arg.name == "--output") out.output = arg.value;
    else if (arg.name == "--bars") out.bars_file = arg.value;
  }
  if (out.output.empty()) {
    error = "report needs -o FILE, the page to write";
    return kExitUsage;
  }
  if (!out.bars_file.empty() && !out.inputs.empty()) {
    error = "--bars draws one bar chart from its own file: give no results with it";
    return kExitUsage;
  }
  if (out.bars_file.empty() && out.inputs.empty()) {
    error = "report needs the JSON results to draw, e.g. ringsock report run.json -o report.html";
    return kExitUsage;
  }
  return 0;
}

int run_report(int argc, const char* const* argv) {
  ReportArgs args;
  std::string error;
  if (parse_report_args(argc, argv, args, error) != 0) return fail(error);
  if (args.help) {
    print_usage(Command::report, stdout);
    return 0;
  }
  for (const auto& input : args.inputs)
    if (same_file(args.output, input.second))
      return fail(args.output + " is one of the inputs: the page would replace it");
  if (!args.bars_file.empty() && same_file(args.output, args.bars_file))
    return fail(args.output + " is the --bars file: the page would replace it");
  if (!args.bars_file.empty()) return run_bars(args);
  std::vector<tool::ReportSeries> results;
  for (const auto& [label, path] : args.inputs) {
    std::string text;
    if (!read_result_file(path, text, error)) return fail(error);
    auto series = series_from_result(label, text);
    if (auto* e = std::get_if<std::string>(&series)) return fail(path + ": " + *e);
    results.push_back(std::move(std::get<tool::ReportSeries>(series)));
  }
  bool write_failed = false;
  error = write_report_page(results, args.output, &write_failed);
  if (!error.empty()) return fail(error, write_failed ? 1 : kExitUsage);
  printf("ringsock report: %zu result(s) drawn in %s\n", results.size(), args.output.c_str());
  return 0;
}

}  // namespace ringsock_cli
