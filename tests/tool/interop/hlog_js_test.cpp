// An .hlog written by ringsock, read back by HdrHistogram's JavaScript port
// (hdr-histogram-js from the npm registry, installed into the build tree on
// first use): the same counts, and percentiles in the same bucket. Skips
// when node or npm is missing or the registry cannot be reached.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "logic/hlog.hpp"
#include "logic/pacing.hpp"
#ifdef RINGSOCK_BIN
#include "e2e_support.hpp"
#endif

#ifndef HLOG_JS_CHECK
#error "HLOG_JS_CHECK (the path of hlog_js_check.js) must be defined"
#endif
#ifndef NPM_CACHE_DIR
#error "NPM_CACHE_DIR must be defined"
#endif

namespace ringsock::tool {
namespace {

constexpr const char* kPackage = "hdr-histogram-js@3.0.1";

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Installs the package into NPM_CACHE_DIR once; "" or why it could not.
// The tests of this file run in parallel under ctest -j: the install holds a
// lock (flock on a file beside it) and ends by writing a marker, so a test
// never reads a half-installed package or races another npm into the same
// directory; the one that waits finds the marker and goes on.
std::string install_reader() {
  const std::string dir = NPM_CACHE_DIR;
  const std::string marker = dir + "/installed-" + kPackage;
  if (exists(marker)) return "";
  if (std::system("command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1") != 0)
    return "node or npm is not installed";
  const std::string log = dir + "/npm-install.log";
  const std::string command = "mkdir -p '" + dir + "' && flock -w 240 '" + dir +
                              ".lock' sh -c 'test -f \"$0\" || { timeout 180 npm install --prefix \"$1\""
                              " --no-audit --no-fund --no-save " + kPackage +
                              " >\"$2\" 2>&1 && touch \"$0\"; }' '" + marker + "' '" + dir + "' '" +
                              log + "'";
  if (std::system(command.c_str()) != 0 || !exists(marker)) {
    std::string text = read_all(log);
    if (text.size() > 400) text = text.substr(text.size() - 400);
    return std::string("npm could not install ") + kPackage +
           " (is the npm registry reachable?): " + text;
  }
  return "";
}

struct JsTotals {
  std::uint64_t intervals = 0, count = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0,
                min = 0, max = 0;
};

std::map<std::string, JsTotals> read_with_js(const std::string& hlog_path) {
  const std::string out = hlog_path + ".js.txt";
  const std::string command = "NODE_PATH='" + std::string(NPM_CACHE_DIR) +
                              "/node_modules' node '" HLOG_JS_CHECK "' '" + hlog_path + "' >'" +
                              out + "' 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << read_all(out);
  std::map<std::string, JsTotals> totals;
  std::istringstream lines(read_all(out));
  std::string tag;
  JsTotals t;
  while (lines >> tag >> t.intervals >> t.count >> t.p50 >> t.p90 >> t.p99 >> t.p999 >> t.p9999 >>
         t.min >> t.max)
    totals[tag] = t;
  return totals;
}

// Seconds of simulated latencies: a body, a slow tail and rare stalls.
std::uint64_t sample_ns(Rng& rng, std::uint64_t scale) {
  const std::uint64_t r = rng.next();
  if (r % 1000 == 0) return scale * 1000 + r % (scale * 500);
  if (r % 50 == 0) return scale * 20 + r % (scale * 30);
  return scale + r % scale;
}

TEST(HlogInterop, HdrHistogramJsReadsOurLog) {
  const std::string why = install_reader();
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string path = std::string(NPM_CACHE_DIR) + "/ringsock-test.hlog";
  const std::pair<const char*, std::uint64_t> tags[] = {
      {"latency", 40'000}, {"latency_uncorrected", 25'000}, {"connect", 900'000}};
  // 5 intervals of 20,000 samples per tag: 100,000 in all, so p50 .. p99.99
  // fall on whole ranks and both readers pick the same sample.
  std::map<std::string, Histogram> whole;
  std::string log = hlog_header({.start_unix_s = 1796407200, .comment = "ringsock interop test"});
  Rng rng(17);
  for (int second = 0; second < 5; ++second) {
    for (const auto& [tag, scale] : tags) {
      Histogram interval;
      for (int i = 0; i < 20'000; ++i) interval.record(sample_ns(rng, scale));
      log += hlog_interval(tag, second, 1, interval);
      whole.try_emplace(tag).first->second.merge(interval);
    }
  }
  std::ofstream(path) << log;
  const auto js = read_with_js(path);
  ASSERT_EQ(js.size(), 3u);
  for (const auto& [tag, ours] : whole) {
    ASSERT_TRUE(js.count(tag)) << tag;
    const JsTotals& t = js.at(tag);
    EXPECT_EQ(t.intervals, 5u) << tag;
    EXPECT_EQ(t.count, ours.count()) << tag;
    // Same sample, so the same bucket: HdrHistogram reports a bucket's
    // highest equivalent value, ours is clamped to the exact max.
    const std::pair<double, std::uint64_t> percentiles[] = {
        {50, t.p50}, {90, t.p90}, {99, t.p99}, {99.9, t.p999}, {99.99, t.p9999}};
    for (const auto& [p, value] : percentiles) {
      EXPECT_EQ(Histogram::index_of(value), Histogram::index_of(ours.value_at_percentile(p)))
          << tag << " p" << p << ": js " << value << ", ours " << ours.value_at_percentile(p);
      EXPECT_EQ(value, Histogram::highest_in(Histogram::index_of(value))) << tag << " p" << p;
    }
    EXPECT_EQ(Histogram::index_of(t.min), Histogram::index_of(ours.min())) << tag;
    EXPECT_EQ(Histogram::index_of(t.max), Histogram::index_of(ours.max())) << tag;
  }
}

#ifdef RINGSOCK_BIN
// A log from a real `ringsock load --hlog` against `ringsock serve`, on both
// backends: hdr-histogram-js finds the same intervals and samples per tag as
// our reader, and the same percentiles within one bucket (both pick a rank
// from the count, each rounding its own way).
class HlogInteropLoad : public ::testing::TestWithParam<std::string> {};

TEST_P(HlogInteropLoad, HdrHistogramJsReadsARealLoadsLog) {
  const std::string why = install_reader();
  if (!why.empty()) GTEST_SKIP() << why;
  cli_test::TempDir dir;
  const std::string backend = GetParam();
  if (!cli_test::backend_starts(backend)) GTEST_SKIP() << "backend cannot start here";
  cli_test::Server server("tcp://127.0.0.1:0", "echo", backend);
  ASSERT_FALSE(server.url().empty());
  const std::string path = dir.path + "/load.hlog";
  std::string out, err;
  ASSERT_EQ(cli_test::run_load({server.url(), "--mode", "rate", "--rate", "4000", "--count", "6000",
                                "--connections", "4", "--backend", backend, "--hlog", path},
                               &out, &err),
            0)
      << out << err;
  auto parsed = read_hlog(read_all(path));
  ASSERT_TRUE(std::holds_alternative<HlogFile>(parsed)) << std::get<std::string>(parsed);
  std::map<std::string, std::pair<std::uint64_t, Histogram>> ours;  // intervals, samples
  for (const auto& interval : std::get<HlogFile>(parsed).intervals) {
    auto& [intervals, sum] = ours[interval.tag];
    ++intervals;
    sum.merge(std::get<Histogram>(interval.histogram()));
  }
  ASSERT_EQ(ours.size(), 3u);
  EXPECT_EQ(ours["latency"].second.count(), 6000u);
  const auto js = read_with_js(path);
  for (const auto& [tag, entry] : ours) {
    const auto& [intervals, sum] = entry;
    if (sum.count() == 0) continue;  // an empty sum has no percentiles to compare
    ASSERT_TRUE(js.count(tag)) << tag;
    const JsTotals& t = js.at(tag);
    EXPECT_EQ(t.intervals, intervals) << tag;
    EXPECT_EQ(t.count, sum.count()) << tag;
    const std::pair<double, std::uint64_t> percentiles[] = {{50, t.p50}, {90, t.p90}, {99, t.p99}};
    for (const auto& [p, value] : percentiles) {
      const auto a = Histogram::index_of(value), b = Histogram::index_of(sum.value_at_percentile(p));
      EXPECT_LE(a > b ? a - b : b - a, 1u) << tag << " p" << p << ": js " << value << ", ours "
                                           << sum.value_at_percentile(p);
    }
    EXPECT_EQ(Histogram::index_of(t.max), Histogram::index_of(sum.max())) << tag;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HlogInteropLoad, ::testing::Values("uring", "epoll"),
                         [](const auto& p) { return std::string(p.param); });
#endif

}  // namespace
}  // namespace ringsock::tool
