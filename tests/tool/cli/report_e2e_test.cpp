// `ringsock report` and `ringsock load --report` end to end: pages drawn from
// real `ringsock load --json` runs on both backends (pingpong and open-loop
// rate), an overlay of results with one-second intervals, --bars, and every
// kind of bad input refused with exit 2, a sentence and no file written.
#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "../logic/run_record_fixture.hpp"
#include "child.hpp"
#include "e2e_support.hpp"
#include "logic/result_file.hpp"

namespace cli_test {
namespace {

namespace tool = ringsock::tool;

Outcome report(const std::vector<std::string>& args) { return run_subcommand("report", args); }

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A record with `seconds` one-second intervals carrying the counters and
// histograms load records per interval.
tool::RunRecord with_intervals(tool::RunRecord r, int seconds, std::uint64_t per_s) {
  for (int s = 0; s < seconds; ++s) {
    tool::RunInterval in;
    in.start_s = s;
    in.length_s = 1;
    in.counters = {{"sent", per_s},         {"received", per_s},       {"errors.timeout", s == 1 ? 3u : 0u},
                   {"errors.reset", 0},     {"verify_failures", 0},    {"connections_open", 8}};
    tool::NamedHistogram latency{"latency", tool::Histogram()};
    for (std::uint64_t i = 0; i < per_s; ++i) latency.histogram.record(20'000 + 1000 * (i % 50) + 5000 * s);
    in.histograms = {latency};
    r.intervals.push_back(in);
  }
  return r;
}

class ReportFromLoad : public ::testing::TestWithParam<std::string> {};

// Two real runs (pingpong with --report, open-loop rate) drawn as one page.
TEST_P(ReportFromLoad, DrawsRealRuns) {
  if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " does not start here";
  TempDir dir;
  Server server("tcp://127.0.0.1:0", "echo", GetParam());
  ASSERT_FALSE(server.url().empty());
  const std::string a = dir.path + "/pingpong.json", b = dir.path + "/rate.json";
  const std::string page_of_load = dir.path + "/load.html";
  std::string out, err;
  ASSERT_EQ(run_load({server.url(), "--count", "2000", "--connections", "2", "--backend", GetParam(),
                      "--json", a, "--report", page_of_load, "--assert", "errors=0"},
                     &out, &err),
            0)
      << err;
  ASSERT_EQ(run_load({server.url(), "--mode", "rate", "--rate", "2000", "--count", "600",
                      "--backend", GetParam(), "--json", b},
                     &out, &err),
            0)
      << err;
  // load --report: the page of the run, with its command line and verdict.
  const std::string load_page = read_file(page_of_load);
  EXPECT_NE(load_page.find("<svg"), std::string::npos);
  EXPECT_NE(load_page.find("Latency by percentile"), std::string::npos);
  EXPECT_NE(load_page.find("--report"), std::string::npos) << "no command line in the header";
  EXPECT_NE(load_page.find("errors = 0"), std::string::npos) << "no --assert verdict";
  EXPECT_NE(read_file(a).find("\"command_line\""), std::string::npos);

  const std::string page = dir.path + "/report.html";
  const Outcome o = report({"pingpong=" + a, b, "-o", page});
  ASSERT_EQ(o.code, 0) << o.err;
  const std::string html = read_file(page);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("data-label=\"pingpong\""), std::string::npos);
  // The open-loop run draws its corrected and uncorrected spectra.
  EXPECT_NE(html.find("data-label=\"rate corrected\""), std::string::npos) << html.substr(0, 400);
  EXPECT_NE(html.find("data-label=\"rate uncorrected\""), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReportFromLoad, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return std::string(param_info.param); });

// Two results with one-second intervals overlay on every chart.
TEST(Report, OverlaysResultsWithIntervals) {
  TempDir dir;
  const std::string a = write_file(dir, "a.json", tool::run_record_document(with_intervals(
                                                      tool::testing::shard_record({0, 1}), 3, 200)));
  const std::string b = write_file(dir, "b.json", tool::run_record_document(with_intervals(
                                                      tool::testing::shard_record({0, 1}), 3, 150)));
  const std::string page = dir.path + "/overlay.html";
  const Outcome o = report({"uring=" + a, "epoll=" + b, "-o", page});
  ASSERT_EQ(o.code, 0) << o.err;
  const std::string html = read_file(page);
  for (const char* title : {"Latency by percentile", "Latency per one-second interval",
                            "Throughput per one-second interval",
                            "Errors and timeouts per one-second interval"}) {
    EXPECT_NE(html.find(title), std::string::npos) << title;
  }
  EXPECT_GE(count_of(html, "data-label=\"uring"), 4u);
  EXPECT_GE(count_of(html, "data-label=\"epoll"), 4u);
}

// A result without intervals (a ringsock that records none) is drawn with
// what it has, and the page says what is missing.
TEST(Report, SaysWhatIsMissingWithoutIntervals) {
  TempDir dir;
  const std::string a =
      write_file(dir, "a.json", tool::run_record_document(tool::testing::shard_record({0, 1})));
  const std::string page = dir.path + "/r.html";
  const Outcome o = report({a, "-o", page});
  ASSERT_EQ(o.code, 0) << o.err;
  const std::string html = read_file(page);
  EXPECT_NE(html.find("Latency by percentile"), std::string::npos);
  EXPECT_NE(html.find("No throughput chart"), std::string::npos);
}

TEST(Report, DrawsBarsAsSvg) {
  TempDir dir;
  const std::string bars = write_file(dir, "bars.json", R"({"title": "t", "y_label": "ratio",
      "series": ["ringsock", "other"], "groups": [{"label": "W1", "values": [1.0, 0.5]},
      {"label": "W2", "values": [null, 2.5]}], "reference": 1.0})");
  const std::string svg = dir.path + "/bars.svg";
  const Outcome o = report({"--bars", bars, "-o", svg});
  ASSERT_EQ(o.code, 0) << o.err;
  const std::string text = read_file(svg);
  EXPECT_NE(text.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(count_of(text, "class=\"bar\""), 3u) << "a null value draws no bar";
}

// Each bad input: exit 2, one line naming the problem, and no page.
TEST(Report, RefusesBadInputAndWritesNothing) {
  TempDir dir;
  const std::string good = write_file(dir, "good.json", tool::run_record_document(with_intervals(
                                                            tool::testing::shard_record({0, 1}), 2, 100)));
  tool::RunRecord empty = tool::testing::shard_record({0, 1}, 0);
  for (auto& [name, value] : empty.counters) value = 0;
  tool::RunRecord churn = with_intervals(tool::testing::shard_record({0, 1}), 2, 100);
  churn.config.mode = "churn";
  churn.histograms.clear();
  for (auto& in : churn.intervals) in.histograms.clear();
  const struct {
    const char* what;
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {"missing file", {dir.path + "/none.json"}, "cannot read"},
      {"corrupt JSON", {write_file(dir, "corrupt.json", "{\"run\": {")}, "corrupt.json"},
      {"foreign JSON", {write_file(dir, "foreign.json", "{\"hello\": 1}")}, "foreign.json"},
      {"empty run", {write_file(dir, "empty.json", tool::run_record_document(empty))}, "no samples"},
      {"no common axes",
       {good, write_file(dir, "churn.json", tool::run_record_document(churn))},
       "cannot overlay"},
      {"same label twice", {good, good}, "labelled"},
      {"no output", {}, "-o FILE"},
  };
  for (const auto& c : cases) {
    const std::string page = dir.path + "/page.html";
    std::vector<std::string> args = c.args;
    if (std::string(c.what) != "no output") {
      args.push_back("-o");
      args.push_back(page);
    } else {
      args.push_back(good);
    }
    const Outcome o = report(args);
    EXPECT_EQ(o.code, 2) << c.what << ": " << o.err;
    EXPECT_NE(o.err.find("ringsock report: "), std::string::npos) << c.what << ": " << o.err;
    EXPECT_NE(o.err.find(c.says), std::string::npos) << c.what << ": " << o.err;
    EXPECT_EQ(count_of(o.err, "\n"), 1u) << c.what << ": " << o.err;
    EXPECT_FALSE(exists(page)) << c.what << ": a page was written";
  }
}

// A page that cannot be written is exit 1, and the path is left as it was:
// an existing page stays whole, and a device (a private /dev/full) is not
// removed.
TEST(Report, APageThatCannotBeWrittenIsExitOneAndChangesNothing) {
  TempDir dir;
  const std::string good = write_file(dir, "good.json", tool::run_record_document(with_intervals(
                                                            tool::testing::shard_record({0, 1}), 2, 100)));
  Outcome o = report({good, "-o", dir.path + "/no-such-dir/page.html"});
  EXPECT_EQ(o.code, 1) << o.err;
  EXPECT_NE(o.err.find("cannot write"), std::string::npos) << o.err;
  const std::string full = dir.path + "/full";
  if (mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) return;  // not root: done
  o = report({good, "-o", full});
  EXPECT_EQ(o.code, 1) << o.err;
  EXPECT_NE(o.err.find("No space left on device"), std::string::npos) << o.err;
  struct stat s {};
  EXPECT_EQ(lstat(full.c_str(), &s), 0) << "the device was removed";
}

// load --report to a place that cannot be written is refused before the run.
TEST(Report, LoadChecksTheReportPathFirst) {
  std::string out, err;
  EXPECT_EQ(run_load({unused_tcp_url(), "--count", "10", "--report", "/nonexistent-dir/r.html"}, &out, &err), 2);
  EXPECT_NE(err.find("--report"), std::string::npos) << err;
}

}  // namespace
}  // namespace cli_test
