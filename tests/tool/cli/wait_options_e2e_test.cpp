// How loops wait, end to end on both backends: `serve` and `load` with
// --batch-wait (sleep until a batch of completions, or the time) and
// --busy-poll (spin a while before sleeping), alone and together. Every
// reply must still come, verified, in every mode that waits on something
// else as well: pipelined pingpong (the batch is every reply in flight),
// open-loop rate (pacing timers end the waits) and churn. The JSON result
// records the settings.
#include <gtest/gtest.h>

#include <string>

#include "e2e_support.hpp"

namespace cli_test {
namespace {

class WaitOptionsE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(WaitOptionsE2E, EveryReplyComesInEveryMode) {
  if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " does not start here";
  TempDir dir;
  Server server("tcp://127.0.0.1:0", "echo", GetParam(),
                {"--batch-wait", "50", "--busy-poll", "5"});
  ASSERT_FALSE(server.url().empty());
  const std::string json = dir.path + "/pingpong.json";
  std::string out, err;
  EXPECT_EQ(run_load({server.url(), "--batch-wait", "50", "--busy-poll", "5", "--connections", "4",
                      "--inflight", "2",
                      "--count", "2000", "--backend", GetParam(), "--json", json, "--assert",
                      "errors=0"},
                     &out, &err),
            0)
      << out << err;
  const std::string text = read_file(json);
  EXPECT_NE(text.find("\"batch_wait_us\": 50"), std::string::npos) << text;
  EXPECT_NE(text.find("\"busy_poll_us\": 5"), std::string::npos) << text;
  EXPECT_NE(text.find("\"received\": 2000"), std::string::npos) << text;
  EXPECT_NE(text.find("\"verification_failures\": 0"), std::string::npos) << text;

  EXPECT_EQ(run_load({server.url(), "--batch-wait", "1000", "--mode", "rate", "--rate", "2000",
                      "--connections", "2", "--count", "400", "--backend", GetParam(), "--assert",
                      "errors=0"},
                     &out, &err),
            0)
      << out << err;
  EXPECT_NE(out.find("replies verified 400"), std::string::npos) << out;

  EXPECT_EQ(run_load({server.url(), "--busy-poll", "20", "--mode", "churn", "--connections", "4",
                      "--count", "100", "--backend", GetParam(), "--assert", "errors=0"},
                     &out, &err),
            0)
      << out << err;
}

INSTANTIATE_TEST_SUITE_P(Backends, WaitOptionsE2E, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace cli_test
