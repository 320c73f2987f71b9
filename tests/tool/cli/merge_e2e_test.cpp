// `ringsock merge` end to end on result files the test writes with the
// record writer: the merged table and outputs, --assert on the whole, and
// every kind of bad input refused with exit 2 and a reason, never a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../logic/run_record_fixture.hpp"
#include "child.hpp"
#include "e2e_support.hpp"
#include "logic/hlog.hpp"
#include "logic/result_file.hpp"

namespace cli_test {
namespace {

namespace tool = ringsock::tool;

Outcome merge(const std::vector<std::string>& args) { return run_subcommand("merge", args); }

// Shards 0..n-1 of 4, written as files; their paths.
std::vector<std::string> write_shards(const TempDir& dir, int n = 4) {
  std::vector<std::string> paths;
  for (int k = 0; k < n; ++k)
    paths.push_back(write_file(dir, "shard" + std::to_string(k) + ".json",
                               tool::run_record_document(tool::testing::shard_record(
                                   {static_cast<std::uint32_t>(k), 4}))));
  return paths;
}

#if !RINGSOCK_HAVE_ZLIB
#define SKIP_WITHOUT_ZLIB() GTEST_SKIP() << "built without zlib"
#else
#define SKIP_WITHOUT_ZLIB() (void)0
#endif

TEST(MergeE2e, MergesFourShardsIntoOneTable) {
  SKIP_WITHOUT_ZLIB();
  TempDir dir;
  auto args = write_shards(dir);
  const std::string json = dir.path + "/merged.json", hlog = dir.path + "/merged.hlog";
  args.insert(args.end(), {"--json", json, "--hlog", hlog, "--assert", "p50<1s"});
  const Outcome o = merge(args);
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("ringsock merge: 4 shard(s) of one run"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("messages       sent 20000, replies verified 20000"), std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("rate, 8 connection(s)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("refused 6"), std::string::npos) << o.out;
  for (const char* shard : {" 0/4 ", " 1/4 ", " 2/4 ", " 3/4 "})
    EXPECT_NE(o.out.find(shard), std::string::npos) << shard << "\n" << o.out;
  EXPECT_NE(o.out.find("+4.0 us"), std::string::npos) << o.out;  // shard 3's start skew
  EXPECT_NE(o.out.find("assert         p50 = "), std::string::npos) << o.out;
  // The merged JSON: load's fields for today's consumers, and a record that merges again.
  const std::string text = read_file(json);
  EXPECT_NE(text.find("\"results\""), std::string::npos);
  EXPECT_NE(text.find("\"shards\""), std::string::npos);
  auto whole = tool::read_run_record(text);
  ASSERT_TRUE(std::holds_alternative<tool::RunRecord>(whole)) << std::get<std::string>(whole);
  EXPECT_EQ(std::get<tool::RunRecord>(whole).counter("sent"), 20000u);
  EXPECT_EQ(std::get<tool::RunRecord>(whole).histogram("latency")->count(), 20000u);
  auto log = tool::read_hlog(read_file(hlog));
  ASSERT_TRUE(std::holds_alternative<tool::HlogFile>(log)) << std::get<std::string>(log);
  EXPECT_EQ(std::get<tool::HlogFile>(log).intervals.size(), 3u);
  EXPECT_EQ(std::get<tool::HlogFile>(log).intervals[0].count, 20000u);
}

// A merged run that cannot be trusted does not exit 0, as load would not:
// a reply that failed verification in any shard is exit 4, and a shard whose
// every connection failed (the run lacks its share) is exit 7.
// Shards of a --request run carry their requests: shards of different
// requests are not one run, and the merged table and JSON say what was sent.
TEST(MergeE2e, CustomRequestsAreOneRunsOrRefused) {
  TempDir dir;
  auto shards = [&](const std::string& tag, const std::string& odd_request) {
    std::vector<std::string> paths;
    for (std::uint32_t k = 0; k < 4; ++k) {
      tool::RunRecord r = tool::testing::shard_record({k, 4});
      r.config.framing = "custom";
      r.config.custom = {{k == 3 ? odd_request : "'GET / HTTP/1.1\\r\\n\\r\\n'"}, "http",
                         {"--expect-status 200"}};
      paths.push_back(write_file(dir, tag + std::to_string(k) + ".json", tool::run_record_document(r)));
    }
    return paths;
  };
  auto same = shards("same", "'GET / HTTP/1.1\\r\\n\\r\\n'");
  const std::string json = dir.path + "/merged.json";
  same.insert(same.end(), {"--json", json});
  Outcome o = merge(same);
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("1 request(s)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("  request        'GET / HTTP/1.1\\r\\n\\r\\n'"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("  reply          http"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("  check          --expect-status 200"), std::string::npos) << o.out;
  const std::string text = read_file(json);
  EXPECT_NE(text.find("\"framing\": \"http\""), std::string::npos) << text;
  auto again = tool::read_run_record(text);
  ASSERT_TRUE(std::holds_alternative<tool::RunRecord>(again)) << std::get<std::string>(again);
  EXPECT_EQ(std::get<tool::RunRecord>(again).config.custom.requests.size(), 1u);
  o = merge(shards("odd", "'PING\\r\\n'"));
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("custom requests differs"), std::string::npos) << o.err;
}

TEST(MergeE2e, RefusesOutputsOverItsInputsOrEachOther) {
  TempDir dir;
  auto args = write_shards(dir);
  const std::string before = read_file(args[0]);
  auto over = args;
  over.insert(over.end(), {"--json", dir.path + "/./shard0.json"});
  Outcome o = merge(over);
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("is one of the inputs"), std::string::npos) << o.err;
  EXPECT_EQ(read_file(args[0]), before);
  auto both = args;
  both.insert(both.end(), {"--json", dir.path + "/out", "--hlog", dir.path + "/out"});
  o = merge(both);
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("--json and --hlog name one file"), std::string::npos) << o.err;
}

TEST(MergeE2e, ExitsAsLoadWouldForTheWholeRun) {
  TempDir dir;
  auto shards_with = [&](const std::string& name, std::uint64_t value, const char* tag) {
    std::vector<std::string> paths;
    for (std::uint32_t k = 0; k < 4; ++k) {
      tool::RunRecord r = tool::testing::shard_record({k, 4});
      for (auto& [counter, v] : r.counters) {
        if (counter == name && k == 1) v = value == 0 ? r.connections : value;
      }
      paths.push_back(write_file(dir, std::string(tag) + std::to_string(k) + ".json",
                                 tool::run_record_document(r)));
    }
    return paths;
  };
  Outcome o = merge(shards_with("verify_failures", 10, "bad"));
  EXPECT_EQ(o.code, 4) << o.out << o.err;
  EXPECT_NE(o.err.find("ringsock merge: 10 repl(ies) failed verification"), std::string::npos) << o.err;
  o = merge(shards_with("failed_connections", 0, "lost"));
  EXPECT_EQ(o.code, 7) << o.out << o.err;
  EXPECT_NE(o.err.find("every connection of shard 1/4 (" + dir.path + "/lost1.json) failed"),
            std::string::npos) << o.err;
  o = merge(shards_with("failed_connections", 1, "one"));  // one of two: the run goes on
  EXPECT_EQ(o.code, 0) << o.out << o.err;
}

// Churn's ports line judges each host by its own rate and port range:
// four shards at 10 connections/s each, every host with 64 ports (the line
// needs a quarter of the range per second: 16/s).
TEST(MergeE2e, ThePortsLineJudgesEachHostByItsOwnRate) {
  TempDir dir;
  auto churn_shards = [&](bool one_host) {
    std::vector<std::string> paths;
    for (std::uint32_t k = 0; k < 4; ++k) {
      tool::RunRecord r = tool::testing::shard_record({k, 4});
      r.config.mode = "churn";
      r.config.rate = 0;
      r.counters.emplace_back("cycles", 20);  // over 2 s
      r.local_ports = 64;
      if (one_host) r.host = "loadgen";
      paths.push_back(write_file(dir, std::string(one_host ? "one" : "four") + std::to_string(k) +
                                          ".json", tool::run_record_document(r)));
    }
    return paths;
  };
  const std::string json = dir.path + "/merged.json";
  for (bool one_host : {false, true}) {
    auto args = churn_shards(one_host);
    args.insert(args.end(), {"--json", json});
    const Outcome o = merge(args);
    ASSERT_EQ(o.code, 0) << o.out << o.err;
    const bool line = o.out.find("ephemeral ports") != std::string::npos;
    EXPECT_EQ(line, one_host) << o.out;
    if (one_host) {
      EXPECT_NE(o.out.find("ports          40/s from one local address, and the kernel has 64 "
                           "ephemeral ports"), std::string::npos) << o.out;
    }
    EXPECT_NE(read_file(json).find(one_host ? "\"ports_may_limit\": 64" : "\"ports_may_limit\": 0"),
              std::string::npos) << read_file(json);
  }
}

// Shard k's --hlog: its result's latency samples (run_record_fixture.hpp),
// `extra` more, in 2 one-second intervals from base_s.
std::string write_shard_log(const TempDir& dir, std::uint32_t k, double base_s, int extra = 0,
                            const std::string& name = "") {
  std::string text = tool::hlog_header({.start_unix_s = base_s});
  const auto samples = tool::testing::shard_samples(k, 5000 + extra);
  for (int second = 0; second < 2; ++second) {
    tool::Histogram h;
    for (size_t i = second == 0 ? 0 : 2500; i < (second == 0 ? 2500 : samples.size()); ++i)
      h.record(samples[i] + 500);
    text += tool::hlog_interval("latency", second, 1, h);
  }
  return write_file(dir, name.empty() ? "shard" + std::to_string(k) + ".hlog" : name, text);
}

TEST(MergeE2e, AddsTheShardsLogsSecondBySecond) {
  SKIP_WITHOUT_ZLIB();
  TempDir dir;
  auto args = write_shards(dir);
  for (std::uint32_t k = 0; k < 4; ++k) args.push_back(write_shard_log(dir, k, 1000.0 + 0.001 * k));
  Outcome o = merge(args);
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("give it"), std::string::npos) << o.err;
  const std::string out = dir.path + "/merged.hlog";
  args.insert(args.end(), {"--hlog", out});
  o = merge(args);
  ASSERT_EQ(o.code, 0) << o.err;
  auto log = tool::read_hlog(read_file(out));
  ASSERT_TRUE(std::holds_alternative<tool::HlogFile>(log)) << std::get<std::string>(log);
  const auto& intervals = std::get<tool::HlogFile>(log).intervals;
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_EQ(intervals[0].count, 10000u);
  EXPECT_DOUBLE_EQ(intervals[1].start_s, 1.0);
  // A shard that started half a second late cannot be added second by second.
  args = write_shards(dir);
  for (std::uint32_t k = 0; k < 4; ++k) args.push_back(write_shard_log(dir, k, 1000.0 + 0.5 * (k == 2)));
  args.insert(args.end(), {"--hlog", out});
  o = merge(args);
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("shard2.hlog: an interval starts 0.500 s"), std::string::npos) << o.err;
  EXPECT_EQ(o.out, "");  // refused before the table
}

// The logs are added as they are: one per shard, none twice, and together
// they hold the results' samples, else they are refused (before the table,
// and nothing is written).
TEST(MergeE2e, RefusesLogsThatAreNotTheShards) {
  SKIP_WITHOUT_ZLIB();
  TempDir dir;
  const auto shards = write_shards(dir);
  std::vector<std::string> logs;
  for (std::uint32_t k = 0; k < 4; ++k) logs.push_back(write_shard_log(dir, k, 1000.0));
  const std::string out = dir.path + "/merged.hlog";
  auto refused = [&](std::vector<std::string> given, const std::string& reason) {
    std::vector<std::string> args = shards;
    args.insert(args.end(), given.begin(), given.end());
    args.insert(args.end(), {"--hlog", out});
    const Outcome o = merge(args);
    EXPECT_EQ(o.code, 2) << reason << "\n" << o.out << o.err;
    EXPECT_NE(o.err.find(reason), std::string::npos) << o.err;
    EXPECT_EQ(o.out, "");
    EXPECT_NE(access(out.c_str(), F_OK), 0) << reason;
  };
  refused({logs[0], logs[1], logs[2]}, "3 log(s) for 4 shard(s)");
  refused({logs[0], logs[1], logs[2], logs[2]}, logs[2] + " and " + logs[2] + " are the same log");
  // A copy of shard 2's log in place of shard 3's: told by its samples.
  const std::string copy = write_shard_log(dir, 2, 1000.0, 0, "copy-of-2.hlog");
  refused({logs[0], logs[1], logs[2], copy}, "hold the same samples: one log twice");
  refused({logs[0], logs[1], logs[2], dir.path + "/./shard2.hlog"}, "are the same log");
  // Shard 3's log of another run: 7 samples more than its result.
  const std::string other = write_shard_log(dir, 3, 1000.0, 7, "other-run-3.hlog");
  refused({logs[0], logs[1], logs[2], other},
          "the logs hold 20007 'latency' sample(s), the results 20000");
}

// An output that cannot be written is exit 1, and leaves neither output:
// --json is put in place only with --hlog.
TEST(MergeE2e, AnOutputThatCannotBeWrittenLeavesNeither) {
  SKIP_WITHOUT_ZLIB();
  TempDir dir;
  auto args = write_shards(dir);
  const std::string json = dir.path + "/merged.json";
  args.insert(args.end(), {"--json", json, "--hlog", dir.path + "/no-such-dir/merged.hlog"});
  const Outcome o = merge(args);
  EXPECT_EQ(o.code, 1) << o.out << o.err;
  EXPECT_NE(o.err.find("cannot write " + dir.path + "/no-such-dir/merged.hlog: No such file"),
            std::string::npos) << o.err;
  EXPECT_NE(access(json.c_str(), F_OK), 0) << "--json was written without --hlog";
}

TEST(MergeE2e, AssertionsAreJudgedOnTheWhole) {
  SKIP_WITHOUT_ZLIB();
  TempDir dir;
  auto args = write_shards(dir);
  args.insert(args.end(), {"--assert", "errors=0"});  // 0 + 1 + 2 + 3 refused
  const Outcome o = merge(args);
  EXPECT_EQ(o.code, 5) << o.out << o.err;
  EXPECT_NE(o.out.find("errors = 6"), std::string::npos) << o.out;
}

TEST(MergeE2e, RefusesResultsThatAreNotOneRun) {
  SKIP_WITHOUT_ZLIB();
  TempDir dir;
  auto paths = write_shards(dir);
  Outcome o = merge({paths[0], paths[1], paths[2]});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("shard 3 of 4 is missing"), std::string::npos) << o.err;
  o = merge({paths[0], paths[1], paths[2], paths[2]});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("shard 2 is given twice"), std::string::npos) << o.err;
  auto other = tool::testing::shard_record({3, 4});
  other.config.framing = "sockperf";
  const std::string sockperf = write_file(dir, "sockperf.json", tool::run_record_document(other));
  o = merge({paths[0], paths[1], paths[2], sockperf});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("framing differs: 'ringsock' in"), std::string::npos) << o.err;
  other = tool::testing::shard_record({3, 4});
  other.ringsock_version = "1.0.0";
  const std::string newer = write_file(dir, "newer.json", tool::run_record_document(other));
  o = merge({paths[0], paths[1], paths[2], newer});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("ringsock versions differ"), std::string::npos) << o.err;
}

TEST(MergeE2e, RefusesBrokenFilesWithAReason) {
  SKIP_WITHOUT_ZLIB();
  TempDir dir;
  const auto paths = write_shards(dir, 1);
  const std::string good = read_file(paths[0]);
  std::string corrupted = good;
  corrupted[corrupted.find("\"hdr\": \"HISTF") + 30] ^= 0x01;
  std::string impossible = good;
  impossible.replace(impossible.find("\"count\": 5000"), 13, "\"count\": 5001");
  const std::pair<std::string, std::string> cases[] = {
      {good.substr(0, good.size() / 3), "JSON error"},
      {good.substr(0, good.size() - 2), "JSON error"},
      {corrupted, "histogram"},
      {impossible, "impossible counts"},
      {"{\"name\": \"a k6 summary\", \"metrics\": {}}", "no \"run\" object"},
      {"", "JSON error"},
      {std::string("\x1f\x8b\x08\x00\xff\xfe", 6), "JSON error"},
      {std::string(200, '['), "JSON error"},
  };
  int i = 0;
  for (const auto& [text, why] : cases) {
    const std::string path = write_file(dir, "bad" + std::to_string(i++) + ".json", text);
    const Outcome o = merge({path});
    EXPECT_EQ(o.code, 2) << why << ": " << o.err;
    EXPECT_NE(o.err.find(why), std::string::npos) << o.err;
    EXPECT_NE(o.err.find(path), std::string::npos) << o.err;
  }
  const Outcome o = merge({dir.path + "/no-such-file.json"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("cannot read"), std::string::npos) << o.err;
}

TEST(MergeE2e, UsageErrors) {
  EXPECT_EQ(merge({}).code, 2);
  EXPECT_NE(merge({}).err.find("merge needs the JSON results"), std::string::npos);
  EXPECT_EQ(merge({"a.json", "--frobnicate", "1"}).code, 2);
  const Outcome bad_assert = merge({"a.json", "--assert", "p99<"});
  EXPECT_EQ(bad_assert.code, 2);
  EXPECT_NE(bad_assert.err.find("bad value for --assert"), std::string::npos) << bad_assert.err;
  EXPECT_EQ(merge({"a.json", "--json"}).code, 2);
  const Outcome help = merge({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("usage: ringsock merge RESULT..."), std::string::npos);
}

}  // namespace
}  // namespace cli_test
