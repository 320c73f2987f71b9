// `ringsock load` against real services with the user's requests, reply
// framing and checks: redis-server (RESP, pipelined), memcached (text
// protocol), nginx (HTTP/1.1 keep-alive, three modes) and dnsmasq (DNS over
// UDP), each on both backends; for each a run whose checks fail (exit 4).
// Then the bad input of those options (exit 2) and host names (exit 3).
// A missing server or backend skips. Every run is bounded by --count or a
// --duration of at most 1 s.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "e2e_support.hpp"
#include "real_servers.hpp"

namespace {

using cli_test::RealServer;
using cli_test::ServerKind;
using cli_test::run_load;

class LoadRealServers : public cli_test::LoadOnBackend {
 protected:
  // Starts `kind`, or skips the test when it is not installed.
  std::unique_ptr<RealServer> start(ServerKind kind) {
    auto server = RealServer::start(kind);
    if (server->missing()) return nullptr;
    EXPECT_TRUE(server->running()) << server->why();
    return server;
  }
};

#define START_OR_SKIP(var, kind)                                         \
  auto var = start(kind);                                                \
  if (!var) GTEST_SKIP() << "not installed: the server of this test";    \
  if (!var->running()) return

TEST_P(LoadRealServers, RedisPingPipelined) {
  START_OR_SKIP(redis, ServerKind::redis);
  ASSERT_EQ(load(redis->url(), {"--request", "PING\\r\\n", "--reply", "resp", "--expect",
                                "+PONG\\r\\n", "--inflight", "16", "--count", "2000"}),
            0)
      << out << err;
  EXPECT_EQ(cli_test::replies_verified(out), 2000u) << out;
  // The JSON result records the request, its framing and its checks, as typed.
  cli_test::TempDir dir;
  const std::string json = dir.path + "/r.json";
  ASSERT_EQ(load(redis->url(), {"--request", "PING\\r\\n", "--reply", "resp", "--expect",
                                "+PONG\\r\\n", "--count", "10", "--json", json}),
            0)
      << err;
  const std::string text = cli_test::read_file(json);
  EXPECT_NE(text.find(R"("PING\\r\\n")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("framing": "resp")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("--expect \"+PONG\\r\\n\"")"), std::string::npos) << text;
  EXPECT_EQ(load(redis->url(), {"--request", "PING\\r\\n", "--reply", "resp", "--expect",
                                "+PANG\\r\\n", "--inflight", "16", "--count", "100"}),
            cli_test::kExitVerifyFailure)
      << out << err;
  EXPECT_NE(err.find("got:      \"+PONG\\r\\n\""), std::string::npos) << err;
}

// SET then GET of the same key ({round}): the GET returns what the SET stored.
TEST_P(LoadRealServers, RedisSetThenGet) {
  START_OR_SKIP(redis, ServerKind::redis);
  ASSERT_EQ(load(redis->url(), {"--request", "SET k:{round} v{round}\\r\\n", "--request",
                                "GET k:{round}\\r\\n", "--reply", "resp", "--expect-regex",
                                "^(\\+OK|\\$[0-9]+\r\nv[0-9]+)\r\n$", "--count", "1000",
                                "--connections", "2", "--inflight", "4"}),
            0)
      << out << err;
  EXPECT_EQ(cli_test::replies_verified(out), 1000u) << out;
  // A GET of a key never set is the null bulk string: not "v...".
  EXPECT_EQ(load(redis->url(), {"--request", "GET nothing:{seq}\\r\\n", "--reply", "resp",
                                "--expect-prefix", "$2", "--count", "10"}),
            cli_test::kExitVerifyFailure)
      << out << err;
  EXPECT_NE(err.find("$-1"), std::string::npos) << err;
}

TEST_P(LoadRealServers, MemcachedSetGet) {
  START_OR_SKIP(memcached, ServerKind::memcached);
  ASSERT_EQ(load(memcached->url(), {"--request", "set k{conn} 0 0 5\\r\\nhello\\r\\n",
                                    "--reply-until", "\\r\\n", "--expect", "STORED\\r\\n",
                                    "--count", "500", "--connections", "2"}),
            0)
      << out << err;
  EXPECT_EQ(cli_test::replies_verified(out), 500u) << out;
  // "get" answers VALUE ... END: framed by its last line.
  ASSERT_EQ(load(memcached->url(), {"--request", "get k0\\r\\n", "--reply-until", "END\\r\\n",
                                    "--expect", "VALUE k0 0 5\\r\\nhello\\r\\nEND\\r\\n",
                                    "--count", "500", "--inflight", "8"}),
            0)
      << out << err;
  EXPECT_EQ(load(memcached->url(), {"--request", "get k0\\r\\n", "--reply-until", "END\\r\\n",
                                    "--expect-prefix", "VALUE k0 0 6", "--count", "20"}),
            cli_test::kExitVerifyFailure)
      << out << err;
}

TEST_P(LoadRealServers, NginxKeepAliveInEveryMode) {
  START_OR_SKIP(nginx, ServerKind::nginx);
  const std::string get = "GET /index.html HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n";
  const std::vector<std::vector<std::string>> modes = {
      {"--count", "500", "--connections", "2", "--inflight", "4"},
      {"--mode", "rate", "--rate", "2000", "--duration", "500ms", "--connections", "2"},
      {"--mode", "churn", "--count", "100", "--connections", "2"},
      // nginx ends a kept-alive connection after 1000 requests: load opens another.
      {"--count", "1200"},
  };
  for (const auto& mode : modes) {
    std::vector<std::string> args{"--request", get, "--reply", "http", "--expect-status", "200",
                                  "--expect-regex", "ringsock test page"};
    args.insert(args.end(), mode.begin(), mode.end());
    EXPECT_EQ(load(nginx->url(), args), 0) << mode[1] << "\n" << out << err;
    EXPECT_GT(cli_test::replies_verified(out), 0u) << out;
  }
  EXPECT_EQ(load(nginx->url(), {"--request", "GET /missing HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n",
                                "--reply", "http", "--expect-status", "2xx", "--count", "20"}),
            cli_test::kExitVerifyFailure)
      << out << err;
  EXPECT_NE(err.find("404"), std::string::npos) << err;
}

// A DNS query for a.example.test (which dnsmasq answers with 127.0.0.1),
// id 0x1234, sent from a file as it is; the reply starts with the id.
std::string write_dns_query(const std::string& dir) {
  std::string q("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  q += std::string("\x01" "a" "\x07" "example" "\x04" "test" "\x00", 16);
  q += std::string("\x00\x01\x00\x01", 4);
  std::string path = dir + "/query.bin";
  std::ofstream(path, std::ios::binary) << q;
  return path;
}

TEST_P(LoadRealServers, DnsmasqQueryFromAFile) {
  START_OR_SKIP(dnsmasq, ServerKind::dnsmasq);
  cli_test::TempDir dir;
  const std::string query = write_dns_query(dir.path);
  ASSERT_EQ(load(dnsmasq->url(), {"--request-file", query, "--expect-prefix", "\\x12\\x34",
                                  "--count", "300"}),
            0)
      << out << err;
  EXPECT_EQ(cli_test::replies_verified(out), 300u) << out;
  EXPECT_EQ(load(dnsmasq->url(), {"--request-file", query, "--expect-prefix", "\\x12\\x35",
                                  "--count", "10"}),
            cli_test::kExitVerifyFailure)
      << out << err;
  EXPECT_NE(err.find("\\x124"), std::string::npos) << err;  // 0x34 is '4'
}

// --timeout against a server that never answers: each request times out, its
// connection is opened again, and the run goes on to its end (several
// timeouts in 1 s, where without --timeout there would be one wait).
TEST_P(LoadRealServers, TimeoutEndsTheConnectionAndTheRunGoesOn) {
  cli_test::Server sink("tcp://127.0.0.1:0", "sink", GetParam());
  ASSERT_FALSE(sink.url().empty());
  EXPECT_EQ(load(sink.url(), {"--request", "x", "--reply-bytes", "1", "--timeout", "200ms",
                              "--duration", "1s"}),
            6)
      << out << err;
  auto at = out.find("timeout ");
  ASSERT_NE(at, std::string::npos) << out;
  EXPECT_GE(std::stoi(out.substr(at + 8)), 2) << out;
}

INSTANTIATE_TEST_SUITE_P(Backends, LoadRealServers, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

// Bad input: a sentence and exit 2, before anything is sent.
TEST(LoadRequestsBadInput, ExitTwoWithASentence) {
  const std::string url = cli_test::unused_tcp_url();
  struct Case {
    std::vector<std::string> args;
    const char* words;
  };
  const std::vector<Case> cases = {
      {{"--request", "PING\\q", "--reply", "resp"}, "escape"},
      {{"--request", "", "--reply", "resp"}, "empty"},
      {{"--request", "x", "--reply", "resp", "--expect-regex", "("}, "regex"},
      {{"--request", "x", "--reply", "resp", "--expect-regex", "^(a*)\\1$"}, "back-reference"},
      {{"--request", "x", "--reply-length", "3xx"}, "length"},
      {{"--request", "x{nope}", "--reply", "resp"}, "{nope}"},
      {{"--request", "x"}, "where a reply ends"},
      {{"--request", "x", "--reply-bytes", "5000000"}, "larger than the largest reply"},
      {{"--reply", "resp"}, "--request"},
      {{"--request", "x", "--reply", "resp", "--sockperf"}, "--sockperf"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{url, "--count", "1"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    std::string out, err;
    EXPECT_EQ(run_load(args, &out, &err), 2) << c.words << "\n" << err;
    EXPECT_NE(err.find(c.words), std::string::npos) << err;
  }
  std::string out, err;
  EXPECT_EQ(run_load({"udp://127.0.0.1:9", "--request", "x", "--reply", "http", "--count", "1"},
                     &out, &err),
            2)
      << err;
  EXPECT_NE(err.find("datagram"), std::string::npos) << err;
}

TEST(LoadHostNames, LocalhostWorksAndAnUnknownNameIsExitThree) {
  auto redis = RealServer::start(ServerKind::redis);
  std::string out, err;
  if (!redis->missing() && redis->running()) {
    const std::string url = "tcp://localhost:" + std::to_string(redis->port());
    EXPECT_EQ(run_load({url, "--request", "PING\\r\\n", "--reply", "resp", "--expect",
                        "+PONG\\r\\n", "--count", "10"},
                       &out, &err),
              0)
        << out << err;
  }
  // .invalid never resolves (RFC 6761).
  EXPECT_EQ(run_load({"tcp://no-such-host.invalid:6379", "--count", "1"}, &out, &err), 3) << err;
  EXPECT_NE(err.find("no-such-host.invalid"), std::string::npos) << err;
}

}  // namespace
