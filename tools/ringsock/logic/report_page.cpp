#include "logic/report_page.hpp"

#include <string_view>
#include <utility>

#include "logic/svg_chart.hpp"

namespace ringsock::tool {
namespace {

// Inline, so the page needs nothing else; system fonts only.
constexpr std::string_view kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
       background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 1000px; margin: 0 auto; padding: 16px 20px 48px; }
h1 { font-size: 1.6em; margin: 0.4em 0 0.2em; }
h2 { font-size: 1.25em; margin: 1.6em 0 0.5em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
table { border-collapse: collapse; margin: 0.4em 0; }
th, td { border: 1px solid #ddd; padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em;
       overflow-wrap: anywhere; }
ul.checks { list-style: none; padding: 0; margin: 0.3em 0; }
ul.checks li { margin: 2px 0; }
.verdict { display: inline-block; min-width: 3.2em; text-align: center; font-weight: 700;
           border-radius: 3px; padding: 0 4px; margin-right: 8px; color: #fff; }
.pass .verdict { background: #1a7f37; }
.fail .verdict { background: #b42318; }
figure { margin: 1.2em 0 2em; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #444; max-width: 62em; margin-top: 4px; }
p.omitted, p.note { color: #555; font-style: italic; }
)";

std::string esc(std::string_view s) { return xml_escaped(s); }

std::string join_labels(const std::vector<ReportSeries>& results) {
  std::string out;
  for (const ReportSeries& s : results) {
    if (!out.empty()) out += ", ";
    out += s.label;
  }
  return out;
}

void header_row(std::string& out, const std::vector<ReportSeries>& results, std::string_view first) {
  out += "<tr><th>";
  out += first;
  out += "</th>";
  for (const ReportSeries& s : results) out += "<th>" + esc(s.label) + "</th>";
  out += "</tr>\n";
}

// What was run: one column per result, rows left out when every result
// leaves them empty.
void write_facts(std::string& out, const std::vector<ReportSeries>& results) {
  using Field = std::string RunFacts::*;
  static constexpr std::pair<std::string_view, Field> kFields[] = {
      {"command line", &RunFacts::command_line}, {"endpoint", &RunFacts::endpoint},
      {"mode", &RunFacts::mode}, {"sizes", &RunFacts::sizes}, {"backend", &RunFacts::backend},
      {"kernel", &RunFacts::kernel}, {"version", &RunFacts::version}, {"seed", &RunFacts::seed}};
  out += "<section id=\"run\"><h2>What was run</h2>\n<table class=\"facts\">\n";
  header_row(out, results, "");
  for (const auto& [name, field] : kFields) {
    bool any = false;
    for (const ReportSeries& s : results) any = any || !(s.facts.*field).empty();
    if (!any) continue;
    out += "<tr><th>";
    out += name;
    out += "</th>";
    for (const ReportSeries& s : results) {
      const std::string& v = s.facts.*field;
      out += name == "command line" ? "<td><code>" + esc(v) + "</code></td>" : "<td>" + esc(v) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</table></section>\n";
}

const SummaryRow* find_row(const ReportSeries& s, const std::string& name) {
  for (const SummaryRow& r : s.summary) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// The summary: rows by name in the order they first appear, one column per
// result ("-" where a result has no such row).
void write_summary(std::string& out, const std::vector<ReportSeries>& results) {
  std::vector<std::string> names;
  for (const ReportSeries& s : results) {
    for (const SummaryRow& r : s.summary) {
      bool known = false;
      for (const std::string& n : names) known = known || n == r.name;
      if (!known) names.push_back(r.name);
    }
  }
  out += "<section id=\"summary\"><h2>Summary</h2>\n";
  if (names.empty()) {
    out += "<p class=\"note\">These results carry no summary.</p></section>\n";
    return;
  }
  out += "<table class=\"summary\">\n";
  header_row(out, results, "");
  for (const std::string& name : names) {
    out += "<tr><th>" + esc(name) + "</th>";
    for (const ReportSeries& s : results) {
      const SummaryRow* r = find_row(s, name);
      out += "<td class=\"num\">" + (r ? esc(r->value) : std::string("-")) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</table></section>\n";
}

void write_checks(std::string& out, const std::vector<ReportSeries>& results) {
  out += "<section id=\"checks\"><h2>Checks (--assert)</h2>\n";
  for (const ReportSeries& s : results) {
    if (results.size() > 1) out += "<h3>" + esc(s.label) + "</h3>\n";
    if (s.checks.empty()) {
      out += "<p class=\"note\">No --assert checks were given.</p>\n";
      continue;
    }
    out += "<ul class=\"checks\">\n";
    for (const CheckVerdict& c : s.checks) {
      out += c.passed ? "<li class=\"pass\"><span class=\"verdict\">PASS</span>"
                      : "<li class=\"fail\"><span class=\"verdict\">FAIL</span>";
      out += "<code>" + esc(c.line) + "</code></li>\n";
    }
    out += "</ul>\n";
  }
  out += "</section>\n";
}

std::string missing_sentence(const ReportChart& c) {
  std::string labels;
  for (const std::string& l : c.missing) labels += (labels.empty() ? "" : ", ") + l;
  if (c.kind == ChartKind::errors) return "No errors or timeouts in: " + labels + ".";
  return "Not in this chart (no data of this kind): " + labels + ".";
}

// A drawn chart carries its title inside the SVG; one left out keeps its
// heading, so the reader sees what is missing and why.
void write_chart(std::string& out, const ReportChart& c) {
  out += "<section id=\"" + c.id + "\">\n";
  if (!c.drawn) {
    out += "<h3>" + esc(c.heading) + "</h3>\n<p class=\"omitted\">" + esc(c.omitted) +
           "</p></section>\n";
    return;
  }
  out += "<figure>\n" + render_svg(c.spec) + "<figcaption>" + esc(c.caption) + "</figcaption>\n";
  if (!c.missing.empty()) out += "<p class=\"note\">" + esc(missing_sentence(c)) + "</p>\n";
  out += "</figure></section>\n";
}

}  // namespace

std::variant<std::string, ReportError> render_report_page(const std::vector<ReportSeries>& results) {
  auto built = build_report_charts(results);
  if (auto* e = std::get_if<ReportError>(&built)) return *e;
  const auto& charts = std::get<std::vector<ReportChart>>(built);
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>ringsock report: " + esc(join_labels(results)) + "</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<main>\n<h1>ringsock report</h1>\n";
  out += "<p class=\"lede\">" + std::to_string(results.size()) +
         (results.size() == 1 ? " result: " : " results, overlaid on the same axes: ") +
         esc(join_labels(results)) + "</p>\n";
  write_facts(out, results);
  write_summary(out, results);
  write_checks(out, results);
  out += "<section id=\"charts\"><h2>Charts</h2>\n";
  for (const ReportChart& c : charts) write_chart(out, c);
  out += "</section>\n</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace ringsock::tool
