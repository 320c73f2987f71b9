// `ringsock load` with the user's requests, end to end against `ringsock
// serve` and small servers of the test's own, on both backends: requests
// from several files in turn with a length-prefixed reply and an exact check,
// --timeout on datagrams, loss with a warmup, a datagram reply larger than
// the tool holds, and a host name whose addresses the connections are spread
// over (--ipv4, --ipv6).
// Every run is bounded by --count or a --duration of at most 1 s.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "child.hpp"
#include "e2e_support.hpp"

namespace {

constexpr int kNotResolved = 3;

class LoadCustom : public cli_test::LoadOnBackend {};

// Two binary requests that carry their own length (2 bytes, big-endian),
// sent in turn to an echo: `--reply-length 2be` frames each echoed reply,
// `--expect-file` holds them to the first file's bytes.
TEST_P(LoadCustom, LengthPrefixedRequestsFromFilesInTurn) {
  cli_test::TempDir dir;
  const std::string a = cli_test::write_file(dir, "a.bin", std::string("\x00\x05hello", 7));
  const std::string b = cli_test::write_file(dir, "b.bin", std::string("\x00\x03" "abc", 5));
  cli_test::Server echo("tcp://127.0.0.1:0", "echo", GetParam());
  ASSERT_FALSE(echo.url().empty());

  EXPECT_EQ(load(echo.url(), {"--request-file", a, "--request-file", b, "--reply-length", "2be",
                              "--expect-prefix", "\\x00", "--count", "20"}),
            0)
      << out << err;
  EXPECT_EQ(cli_test::replies_verified(out), 20u) << out;

  EXPECT_EQ(load(echo.url(), {"--request-file", a, "--reply-length", "2be", "--expect-file", a,
                              "--count", "10", "--inflight", "4"}),
            0)
      << out << err;
  EXPECT_EQ(cli_test::replies_verified(out), 10u) << out;

  // Every second reply is b's: the first of them is shown, escaped.
  EXPECT_EQ(load(echo.url(), {"--request-file", a, "--request-file", b, "--reply-length", "2be",
                              "--expect-file", a, "--count", "10"}),
            cli_test::kExitVerifyFailure)
      << out << err;
  EXPECT_NE(err.find("\\0\\x03abc"), std::string::npos) << err;
  EXPECT_EQ(cli_test::replies_verified(out), 5u) << out;
}

// A request file of several KiB is shown in the table cut to its first 200
// characters, as the failure report shows a reply; the run itself is whole.
TEST_P(LoadCustom, ALongRequestIsShownCut) {
  cli_test::TempDir dir;
  const std::string a = cli_test::write_file(dir, "long.bin", std::string(5000, 'a'));
  cli_test::Server echo("tcp://127.0.0.1:0", "echo", GetParam());
  ASSERT_FALSE(echo.url().empty());
  EXPECT_EQ(load(echo.url(), {"--request-file", a, "--reply-bytes", "5000", "--expect-file", a,
                              "--count", "3"}),
            0)
      << out << err;
  EXPECT_EQ(cli_test::replies_verified(out), 3u) << out;
  EXPECT_NE(out.find("  request        " + std::string(200, 'a') +
                     "... (5000 characters, first 200 shown)\n"),
            std::string::npos)
      << out;
  EXPECT_LT(out.size(), 2500u) << out;
}

// A datagram request never answered: each one is given up after --timeout
// (lost) and the next is sent, so a 1 s run sends several, where the
// default wait (500 ms) would allow two.
TEST_P(LoadCustom, TimeoutOnDatagramsCountsEachRequestLost) {
  cli_test::Server sink("udp://127.0.0.1:0", "sink", GetParam());
  ASSERT_FALSE(sink.url().empty());
  EXPECT_EQ(load(sink.url(), {"--request", "x", "--timeout", "100ms", "--duration", "1s"}), 6)
      << out << err;
  auto at = out.find("unanswered");
  ASSERT_NE(at, std::string::npos) << out;
  auto open = out.rfind('(', at);
  ASSERT_NE(open, std::string::npos) << out;
  EXPECT_GE(std::stoull(out.substr(open + 1)), 4u) << out;
}

// Datagram loss is over every request sent, the warmup's included, where
// `sent` counts the measured ones: the line says so.
TEST_P(LoadCustom, DatagramLossSaysItIncludesTheWarmup) {
  cli_test::Server echo("udp://127.0.0.1:0", "echo", GetParam());
  ASSERT_FALSE(echo.url().empty());
  EXPECT_EQ(load(echo.url(), {"--request", "x{seq}", "--count", "200", "--warmup", "100ms"}), 0)
      << out << err;
  EXPECT_NE(out.find("sent 200, replies verified 200"), std::string::npos) << out;
  EXPECT_NE(out.find(" unanswered, warmup included), "), std::string::npos) << out;
  EXPECT_EQ(load(echo.url(), {"--request", "x{seq}", "--count", "200"}), 0) << out << err;
  EXPECT_NE(out.find("(0 of 200 unanswered), "), std::string::npos) << out;
}

// The user's requests are in the per-second histograms too: the --hlog of a
// run merges with its result (merge holds the log's samples to the result's).
TEST_P(LoadCustom, RequestsAreInTheHistogramLog) {
  cli_test::TempDir dir;
  cli_test::Server echo("tcp://127.0.0.1:0", "echo", GetParam());
  ASSERT_FALSE(echo.url().empty());
  const std::string json = dir.path + "/r.json", hlog = dir.path + "/r.hlog";
  ASSERT_EQ(load(echo.url(), {"--request", "x{seq}\\n", "--reply-until", "\\n", "--count", "200",
                              "--json", json, "--hlog", hlog}),
            0)
      << out << err;
  const cli_test::Outcome merged =
      cli_test::run_subcommand("merge", {json, hlog, "--hlog", dir.path + "/m.hlog"});
  EXPECT_EQ(merged.code, 0) << merged.out << merged.err;
}

// A UNIX datagram server of the test's own answers every request with
// 70000 bytes, more than the 65536 the tool holds for a reply: a
// verification failure that says so, never a reply cut and checked.
TEST_P(LoadCustom, ADatagramReplyLargerThanTheToolHoldsIsAFailure) {
  cli_test::TempDir dir;
  const std::string path = dir.path + "/big.sock";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  int size = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  std::atomic<bool> done{false};
  std::thread server([&] {
    const std::string big(70000, 'z');
    char request[256];
    while (!done.load()) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      sockaddr_un peer{};
      socklen_t length = sizeof peer;
      ssize_t n = recvfrom(fd, request, sizeof request, 0, reinterpret_cast<sockaddr*>(&peer),
                           &length);
      if (n >= 0 && length > sizeof(sa_family_t)) {
        sendto(fd, big.data(), big.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&peer),
               length);
      }
    }
  });
  const int code = load("unix-dgram://" + path, {"--request", "x", "--count", "3"});
  done = true;
  server.join();
  close(fd);
  EXPECT_EQ(code, cli_test::kExitVerifyFailure) << out << err;
  EXPECT_NE(err.find("larger than the largest the tool holds (65536 bytes)"), std::string::npos)
      << err;
  ASSERT_NE(out.find("replies verified "), std::string::npos) << out;
  EXPECT_EQ(cli_test::replies_verified(out), 0u) << out;
}

// A name with two addresses, given by an /etc/hosts of the test's own in a
// private mount namespace (root, unshare(1) and mount(2) needed, else
// skipped), with an nsswitch.conf that asks no one but that file and a
// host.conf that gives every line of it: the connections are spread over
// both addresses, each served by its own listener.
TEST_P(LoadCustom, ConnectionsAreSpreadOverEveryAddressOfAName) {
#ifdef RINGSOCK_EMULATOR
  GTEST_SKIP() << "the child runs through unshare, not the emulator";
#endif
  cli_test::TempDir dir;
  const cli_test::HostsNamespace names(dir, "127.0.0.1 twohomes.test\n127.0.0.2 twohomes.test\n");
  if (std::string why = names.unusable(); !why.empty()) GTEST_SKIP() << why;
  std::string output;

  std::string p;
  const auto echo = cli_test::echo_on_one_port({"127.0.0.1", "127.0.0.2"}, GetParam(), &p);
  ASSERT_NE(echo, nullptr) << "no port was free on 127.0.0.1 and 127.0.0.2";

  const std::string load = "exec '" RINGSOCK_BIN "' load tcp://twohomes.test:" + p +
                           " --connections 4 --count 40 --backend " + GetParam();
  const int status = names.run(load + " --ipv4", &output);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << output;
  EXPECT_EQ(cli_test::replies_verified(output), 40u) << output;
  // --ipv6: the name has no IPv6 address, which is the resolver's answer.
  const int v6 = names.run(load + " --ipv6", &output);
  EXPECT_TRUE(WIFEXITED(v6) && WEXITSTATUS(v6) == kNotResolved) << v6 << "\n" << output;
  EXPECT_NE(output.find("cannot resolve \"twohomes.test\" (--ipv6)"), std::string::npos)
      << output;

  const std::string counters = echo->stop();
  EXPECT_NE(counters.find("tcp://127.0.0.1:" + p + ": connections 2,"), std::string::npos)
      << counters;
  EXPECT_NE(counters.find("tcp://127.0.0.2:" + p + ": connections 2,"), std::string::npos)
      << counters;
}

INSTANTIATE_TEST_SUITE_P(Backends, LoadCustom, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
