// Sharded load end to end, on both backends: one run bounded by --count
// against `ringsock serve`, made once as a single instance and once as four
// `--shard k/4` processes that start together (--start-at). The shards add
// up to the same message count, `ringsock merge` gives exactly the sum of the
// shards' histograms (so its percentiles are those of all samples pooled),
// each result's per-second intervals add up to its whole, and the .hlog
// holds the same samples as the JSON result.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "child.hpp"
#include "e2e_support.hpp"
#include "logic/hlog.hpp"
#include "logic/result_file.hpp"

namespace cli_test {
namespace {

namespace tool = ringsock::tool;

constexpr int kConnections = 8;
constexpr int kCount = 4000;
constexpr int kRate = 8000;  // messages/s in total: half a second of sending

tool::RunRecord read_record(const std::string& path) {
  auto parsed = tool::read_run_record(read_file(path));
  if (auto* error = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << path << ": " << *error;
    return {};
  }
  return std::get<tool::RunRecord>(parsed);
}

// Bucket by bucket: equal counts everywhere, and the same exact min and max.
void expect_same_histogram(const tool::Histogram& a, const tool::Histogram& b,
                           const std::string& what) {
  ASSERT_EQ(a.bucket_count(), b.bucket_count()) << what;
  EXPECT_EQ(a.count(), b.count()) << what;
  EXPECT_EQ(a.min(), b.min()) << what;
  EXPECT_EQ(a.max(), b.max()) << what;
  for (size_t i = 0; i < a.bucket_count(); ++i) {
    if (a.count_at(i) != b.count_at(i)) {
      ADD_FAILURE() << what << ": bucket " << i << " holds " << a.count_at(i) << " and "
                    << b.count_at(i);
      return;
    }
  }
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(a.value_at_percentile(p), b.value_at_percentile(p)) << what << " p" << p;
  }
}

// The intervals add up to the whole run: messages and every histogram.
void expect_intervals_add_up(const tool::RunRecord& r, const std::string& what) {
  ASSERT_FALSE(r.intervals.empty()) << what;
  uint64_t sent = 0, received = 0;
  for (const auto& interval : r.intervals) {
    sent += interval.counter("sent");
    received += interval.counter("received");
  }
  EXPECT_EQ(sent, r.counter("sent")) << what;
  EXPECT_EQ(received, r.counter("received")) << what;
  // Whole seconds, then what is left of the run, with its own length.
  for (size_t i = 0; i + 1 < r.intervals.size(); ++i) EXPECT_EQ(r.intervals[i].length_s, 1.0) << what;
  EXPECT_GT(r.intervals.back().length_s, 0.0) << what;
  EXPECT_LT(r.intervals.back().length_s, 1.0) << what;
  for (const char* name : {"latency", "latency_uncorrected", "connect"}) {
    tool::Histogram sum;
    for (const auto& interval : r.intervals) {
      const tool::Histogram* h = interval.histogram(name);
      ASSERT_NE(h, nullptr) << what << " interval lacks " << name;
      sum.merge(*h);
    }
    const tool::Histogram* whole = r.histogram(name);
    ASSERT_NE(whole, nullptr) << what << " lacks " << name;
    EXPECT_EQ(sum.count(), whole->count()) << what << " " << name;
  }
}

// The .hlog: per tag, as many samples as the JSON result's histogram.
void expect_hlog_matches(const std::string& path, const tool::RunRecord& r) {
  auto parsed = tool::read_hlog(read_file(path));
  if (auto* error = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << path << ": " << *error;
    return;
  }
  const auto& log = std::get<tool::HlogFile>(parsed);
  EXPECT_EQ(log.major, 1);
  EXPECT_EQ(log.minor, 3);
  for (const char* name : {"latency", "latency_uncorrected", "connect"}) {
    tool::Histogram sum;
    for (const auto& interval : log.intervals) {
      if (interval.tag != name) continue;
      auto h = interval.histogram();
      ASSERT_TRUE(std::holds_alternative<tool::Histogram>(h)) << path;
      sum.merge(std::get<tool::Histogram>(h));
    }
    ASSERT_NE(r.histogram(name), nullptr) << name;
    EXPECT_EQ(sum.count(), r.histogram(name)->count()) << path << " " << name;
  }
}

std::vector<std::string> load_words(const std::string& url, const std::string& backend,
                                    const std::string& json, const std::string& hlog) {
  return {"load", url, "--mode", "rate", "--connections", std::to_string(kConnections),
          "--count", std::to_string(kCount), "--rate", std::to_string(kRate), "--backend",
          backend, "--json", json, "--hlog", hlog};
}

int exit_code(int status) { return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

class ShardE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(ShardE2E, FourShardsAddUpToOneRun) {
  const std::string backend = GetParam();
  if (!backend_starts(backend)) GTEST_SKIP() << "backend cannot start here";
#if !RINGSOCK_HAVE_ZLIB
  GTEST_SKIP() << "built without zlib: no .hlog";
#endif
  TempDir dir;
  Server server("tcp://127.0.0.1:0", "echo", backend);
  ASSERT_FALSE(server.url().empty());

  Child single(load_words(server.url(), backend, dir.path + "/one.json", dir.path + "/one.hlog"));
  ASSERT_EQ(exit_code(single.wait(kLoadMs)), 0) << single.out() << single.err();
  const tool::RunRecord one = read_record(dir.path + "/one.json");
  EXPECT_EQ(one.counter("sent"), uint64_t(kCount));
  EXPECT_EQ(one.counter("received"), uint64_t(kCount));
  expect_intervals_add_up(one, "one instance");
  expect_hlog_matches(dir.path + "/one.hlog", one);

  // Two seconds ahead: every shard is connected by then.
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const std::string start_at = std::to_string(now.tv_sec + 2);
  std::vector<std::unique_ptr<Child>> shards;
  std::vector<std::string> paths;
  for (int k = 0; k < 4; ++k) {
    const std::string base = dir.path + "/shard" + std::to_string(k);
    auto words = load_words(server.url(), backend, base + ".json", base + ".hlog");
    for (const char* word : {"--shard", "", "--start-at", ""}) words.push_back(word);
    words[words.size() - 3] = std::to_string(k) + "/4";
    words.back() = start_at;
    shards.push_back(std::make_unique<Child>(words));
    paths.push_back(base + ".json");
  }
  tool::Histogram pooled;
  uint64_t sent = 0;
  for (int k = 0; k < 4; ++k) {
    ASSERT_EQ(exit_code(shards[k]->wait(kLoadMs)), 0) << shards[k]->out() << shards[k]->err();
    const tool::RunRecord r = read_record(paths[k]);
    EXPECT_EQ(r.shard.index, uint32_t(k));
    EXPECT_EQ(r.shard.count, 4u);
    EXPECT_EQ(r.connections, uint64_t(kConnections / 4));
    EXPECT_EQ(r.config.connections, uint64_t(kConnections));
    EXPECT_EQ(r.config.count, uint64_t(kCount));
    EXPECT_NE(r.start_at_unix_ns, 0);
    EXPECT_GE(r.start_skew_ns, 0);
    EXPECT_FALSE(r.clock_source.empty());
    expect_intervals_add_up(r, "shard " + std::to_string(k));
    expect_hlog_matches(dir.path + "/shard" + std::to_string(k) + ".hlog", r);
    sent += r.counter("sent");
    ASSERT_NE(r.histogram("latency"), nullptr);
    pooled.merge(*r.histogram("latency"));
  }
  EXPECT_EQ(sent, one.counter("sent"));

  std::vector<std::string> words = {"merge"};
  words.insert(words.end(), paths.begin(), paths.end());
  words.push_back("--json");
  words.push_back(dir.path + "/merged.json");
  Child merge(words);
  ASSERT_EQ(exit_code(merge.wait(kLoadMs)), 0) << merge.out() << merge.err();
  const tool::RunRecord merged = read_record(dir.path + "/merged.json");
  EXPECT_EQ(merged.counter("sent"), one.counter("sent"));
  EXPECT_EQ(merged.counter("received"), uint64_t(kCount));
  ASSERT_NE(merged.histogram("latency"), nullptr);
  expect_same_histogram(*merged.histogram("latency"), pooled, "merged latency vs pooled shards");
  EXPECT_EQ(merged.histogram("latency")->count(), one.histogram("latency")->count());
}

// A shard whose connect ends after --start-at keeps the run's schedule:
// what was due while it connected goes out late, and its corrected latency
// counts from when it was due. The connect is made late by a listener whose
// accept queue is full (backlog 0, one connection waiting): the kernel drops
// the SYN, and the client sends it again a second later, when this test's
// echo thread has taken the first connection off the queue.
TEST_P(ShardE2E, ALateShardKeepsTheRunsSchedule) {
  const std::string backend = GetParam();
  if (!backend_starts(backend)) GTEST_SKIP() << "backend cannot start here";
  uint16_t port = 0;
  const int listener = bind_loopback_tcp(port);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(listen(listener, 0), 0);
  timeval accept_timeout{10, 0};
  setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &accept_timeout, sizeof accept_timeout);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int filler = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(filler, reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);
  std::thread echo([listener] {
    usleep(600'000);
    const int first = accept(listener, nullptr, nullptr);  // the filler
    const int fd = accept(listener, nullptr, nullptr);     // the load's, sent again
    char buf[4096];
    for (ssize_t n; fd >= 0 && (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
      if (send(fd, buf, size_t(n), MSG_NOSIGNAL) != n) break;
    }
    if (fd >= 0) close(fd);
    if (first >= 0) close(first);
  });
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const int64_t start_ns = int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec + 300'000'000;
  char start_at[40];
  snprintf(start_at, sizeof start_at, "%lld.%09lld", (long long)(start_ns / 1'000'000'000),
           (long long)(start_ns % 1'000'000'000));
  TempDir dir;
  const std::string json = dir.path + "/late.json";
  Child load({"load", "tcp://127.0.0.1:" + std::to_string(port), "--mode", "rate", "--rate", "200",
              "--connections", "2", "--duration", "2s", "--warmup", "0", "--start-at", start_at,
              "--shard", "1/2", "--backend", backend, "--json", json});
  const int code = exit_code(load.wait(kLoadMs));
  echo.join();
  close(filler);
  close(listener);
  ASSERT_EQ(code, 0) << load.out() << load.err();
  const tool::RunRecord r = read_record(json);
  // The setup made the shard late: its SYN was sent again after a second.
  ASSERT_GT(r.start_skew_ns, 400'000'000) << load.out();
  ASSERT_NE(r.histogram("latency"), nullptr);
  // Its first message was due 5 ms after --start-at (global arrival 1 of
  // 200/s) and left after the shard woke.
  EXPECT_GE(r.histogram("latency")->max() + 5'000'000, uint64_t(r.start_skew_ns)) << load.out();
  // Its share of the schedule, 100/s for 2 s: sent, or due and not sent by the end.
  EXPECT_EQ(r.counter("sent") + r.counter("unsent"), 200u) << load.out();
}

INSTANTIATE_TEST_SUITE_P(Backends, ShardE2E, ::testing::Values("uring", "epoll"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace cli_test
