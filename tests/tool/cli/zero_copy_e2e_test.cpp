// Zero-copy sends end to end, on both backends: `serve --zero-copy` echoes
// and `load --zero-copy` sends 16 KiB messages over TCP and a UNIX stream
// (which refuses zero-copy and copies), pipelined and in throughput mode;
// every reply must come back verified. Over loopback the kernel copies
// after the first send of each connection; epoll ignores the option. The
// JSON result records the setting.
#include <gtest/gtest.h>

#include <string>

#include "e2e_support.hpp"

namespace cli_test {
namespace {

class ZeroCopyE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(ZeroCopyE2E, EveryReplyComesBackVerified) {
  if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " does not start here";
  TempDir dir;
  for (const std::string& endpoint : {std::string("tcp://127.0.0.1:0"), "unix://" + dir.path + "/zc.sock"}) {
    SCOPED_TRACE(endpoint);
    Server server(endpoint, "echo", GetParam(), {"--zero-copy", "1024"});
    ASSERT_FALSE(server.url().empty());
    const std::string json = dir.path + "/zc.json";
    std::string out, err;
    EXPECT_EQ(run_load({server.url(), "--zero-copy", "1024", "--size", "16384", "--connections",
                        "4", "--inflight", "2", "--count", "400", "--backend", GetParam(),
                        "--json", json, "--assert", "errors=0"},
                       &out, &err),
              0)
        << out << err;
    const std::string text = read_file(json);
    EXPECT_NE(text.find("\"zero_copy_bytes\": 1024"), std::string::npos) << text;
    EXPECT_NE(text.find("\"received\": 400"), std::string::npos) << text;
    EXPECT_NE(text.find("\"verification_failures\": 0"), std::string::npos) << text;
  }
  Server sink("tcp://127.0.0.1:0", "sink", GetParam(), {"--zero-copy", "1024"});
  ASSERT_FALSE(sink.url().empty());
  std::string out, err;
  EXPECT_EQ(run_load({sink.url(), "--mode", "throughput", "--zero-copy", "4096", "--size",
                      "65536", "--count", "200", "--backend", GetParam(), "--assert", "errors=0"},
                     &out, &err),
            0)
      << out << err;
}

INSTANTIATE_TEST_SUITE_P(Backends, ZeroCopyE2E, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace cli_test
