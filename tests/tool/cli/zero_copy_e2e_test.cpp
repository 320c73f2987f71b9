// Zero-copy sends end to end, on both backends: `serve --zero-copy` echoes
// and `load --zero-copy` sends 16 KiB messages over TCP and a UNIX stream
// (which refuses zero-copy and copies), pipelined and in throughput mode;
// every reply must come back verified. Over loopback the kernel copies
// after the first send of each connection; epoll ignores the option. The
// JSON result records the setting.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ringsock/endpoint.hpp"

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

// Clients that stop reading with zero-copy replies out, and a server told
// to stop meanwhile: its closes must not give back buffers the kernel still
// sends from (they did once, and serve crashed when the late replies ended).
// The clients reset after the stop; serve must exit cleanly.
TEST_P(ZeroCopyE2E, StoppingWithRepliesHeldByClientsThatDoNotRead) {
  if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " does not start here";
  Server server("tcp://127.0.0.1:0", "echo", GetParam(), {"--zero-copy", "1024"});
  ASSERT_FALSE(server.url().empty());
  ringsock::Endpoint end;
  ASSERT_EQ(ringsock::parse_endpoint(server.url(), end).error, 0);
  std::vector<int> clients;
  std::string junk(65536, 'x');
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    int one = 1;  // the kernel's smallest receive buffer: the replies stay queued at serve
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof one);
    ASSERT_EQ(::connect(fd, end.address(), end.length), 0) << strerror(errno);
    (void)::send(fd, junk.data(), junk.size(), MSG_DONTWAIT);
    clients.push_back(fd);
  }
  ::usleep(300'000);  // serve echoes what it can and waits on the clients' windows
  std::thread resetter([&] {
    ::usleep(300'000);  // after the stop has begun: the clients go away with a reset
    for (int fd : clients) {
      linger reset{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      ::close(fd);
    }
  });
  server.stop();
  resetter.join();
  ASSERT_TRUE(WIFEXITED(server.status())) << "serve ended by signal " << WTERMSIG(server.status());
  EXPECT_EQ(WEXITSTATUS(server.status()), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, ZeroCopyE2E, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace cli_test
