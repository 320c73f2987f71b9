// `ringsock load` end to end: serve and load as child processes against each
// other on every socket type and both backends, plus a corrupting echo written
// here with plain sockets. Every load is small and bounded.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "args.hpp"
#include "child.hpp"
#include "e2e_support.hpp"
#include "logic/message.hpp"

namespace {

using cli_test::Child;

using cli_test::backend_starts;
using cli_test::json_balanced;
using cli_test::read_file;
using cli_test::run_load;
using cli_test::Server;
using cli_test::TempDir;
using cli_test::unused_tcp_url;

using cli_test::Case;
using cli_test::case_name;

class LoadE2E : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!backend_starts(GetParam().backend)) GTEST_SKIP() << "backend cannot start here";
  }
  std::string endpoint() const {
    const std::string& t = GetParam().transport;
    if (t == "tcp" || t == "udp") return t + "://127.0.0.1:0";
    if (t == "tcp6") return "tcp://[::1]:0";
    if (t == "udp6") return "udp://[::1]:0";
    return t + "://" + dir_.path + "/" + t + ".sock";
  }
  TempDir dir_;
};

TEST_P(LoadE2E, PingPongAgainstEchoVerifiesEveryReply) {
  Server server(endpoint(), "echo", GetParam().backend);
  bool ipv6 = GetParam().transport.back() == '6';
  if (server.url().empty() && ipv6) GTEST_SKIP() << "no IPv6 here";
  ASSERT_FALSE(server.url().empty());
  std::string json = dir_.path + "/out.json";
  std::string out, err;
  int code = run_load({server.url(), "--count", "2000", "--connections", "2", "--inflight", "2",
                       "--size", "40-600", "--backend", GetParam().backend, "--json", json},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("replies verified 2000"), std::string::npos) << out;
  EXPECT_NE(out.find("0 failure(s)"), std::string::npos) << out;
  std::string text = read_file(json);
  EXPECT_TRUE(json_balanced(text)) << text;
  for (const char* field : {"\"kernel\"", "\"backend\"", "\"reason\"", "\"version\"", "\"seed\"",
                            "\"config\"", "\"results\"", "\"latency_ns\"", "\"p99.99\"",
                            "\"received\": 2000", "\"verification_failures\": 0"}) {
    EXPECT_NE(text.find(field), std::string::npos) << field << " in " << text;
  }
}

TEST_P(LoadE2E, ThroughputAgainstSink) {
  if (GetParam().transport.back() == '6') GTEST_SKIP() << "IPv6: ping-pong only";
  Server server(endpoint(), "sink", GetParam().backend);
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  int code = run_load({server.url(), "--mode", "throughput", "--duration", "300ms", "--size", "512",
                       "--backend", GetParam().backend},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("throughput"), std::string::npos) << out;
  EXPECT_EQ(out.find("sent 0,"), std::string::npos) << out;
  EXPECT_NE(out.find("errors         none"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Transports, LoadE2E,
    ::testing::Values(Case{"tcp", "uring"}, Case{"tcp", "epoll"}, Case{"udp", "uring"},
                      Case{"udp", "epoll"}, Case{"unix", "uring"}, Case{"unix", "epoll"},
                      Case{"unix-dgram", "uring"}, Case{"unix-dgram", "epoll"},
                      Case{"tcp6", "epoll"}, Case{"udp6", "uring"}),
    case_name);

class LoadTcp : public ::testing::Test {
 protected:
  Server server_{"tcp://127.0.0.1:0", "echo", "auto"};
};

TEST_F(LoadTcp, RateModeCompletesItsCount) {
  ASSERT_FALSE(server_.url().empty());
  std::string out, err;
  int code = run_load({server_.url(), "--mode", "rate", "--rate", "1000", "--count", "300",
                       "--connections", "2", "--percentiles", "95,99.5"},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("replies verified 300"), std::string::npos) << out;
  EXPECT_NE(out.find("asked 1000/s"), std::string::npos) << out;
  EXPECT_NE(out.find("uncorrected"), std::string::npos) << out;
  EXPECT_NE(out.find("p99.5"), std::string::npos) << out;
  EXPECT_NE(out.find("errors         none"), std::string::npos) << out;
}

TEST_F(LoadTcp, PassingAssertionExitsZero) {
  ASSERT_FALSE(server_.url().empty());
  std::string out, err;
  EXPECT_EQ(run_load({server_.url(), "--count", "200", "--assert", "errors=0"}, &out, &err), 0)
      << out << err;
  EXPECT_NE(out.find(": ok"), std::string::npos) << out;
}

TEST_F(LoadTcp, FailingAssertionExitsFive) {
  ASSERT_FALSE(server_.url().empty());
  std::string out, err;
  EXPECT_EQ(run_load({server_.url(), "--count", "200", "--assert", "p50<1ns"}, &out, &err), 5)
      << out << err;
  EXPECT_NE(out.find("FAILED"), std::string::npos) << out;
}

// A plain TCP server on loopback for one connection, served by `serve` on a
// thread of its own (reads time out after 10 s, so a test cannot hang).
class OneConnectionServer {
 public:
  explicit OneConnectionServer(std::function<void(int fd)> serve) : serve_(std::move(serve)) {
    listen_fd_ = cli_test::bind_loopback_tcp(port_);
    listen(listen_fd_, 16);
    thread_ = std::thread([this] { run(); });
  }
  ~OneConnectionServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    join();
    close(listen_fd_);
  }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  /// Waits until the connection has been served.
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    serve_(fd);
    close(fd);
  }
  std::function<void(int fd)> serve_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// A TCP echo that flips the last byte of everything it sends back.
void corrupting_echo(int fd) {
  char buffer[65536];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    buffer[n - 1] = char(buffer[n - 1] ^ 0x5a);
    if (send(fd, buffer, size_t(n), MSG_NOSIGNAL) != n) break;
  }
}

TEST(LoadVerification, CorruptingEchoExitsFour) {
  OneConnectionServer echo(corrupting_echo);
  std::string out, err;
  EXPECT_EQ(run_load({echo.url(), "--count", "100", "--size", "100"}, &out, &err), 4)
      << out << err;
  EXPECT_EQ(out.find(" 0 failure(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("checksum mismatch"), std::string::npos) << out;
  EXPECT_NE(err.find("failed verification"), std::string::npos) << err;
}

// A TCP sink that checks what it is sent: every message whole and valid
// (sequence numbers are not checked: throughput sends its batch again).
struct CheckedStream {
  uint64_t messages = 0, bytes = 0, invalid = 0, left_over = 0;
  void read_all(int fd) {
    ringsock::tool::StreamAssembler assembler(65536);
    std::vector<uint8_t> buffer(65536);
    auto check = [this](std::span<const uint8_t> m) {
      ++messages;
      bytes += m.size();
      if (!ringsock::tool::verify(m.data(), m.size(), 0, std::nullopt, 1).ok()) ++invalid;
    };
    for (;;) {
      ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      if (assembler.feed(std::span<const uint8_t>(buffer.data(), size_t(n)), check) !=
          ringsock::tool::StreamAssembler::Status::ok) {
        ++invalid;
        break;
      }
    }
    left_over = assembler.buffered();
  }
};

// Throughput sends its first batch again as it is; the sink must still get
// exactly --count whole, valid messages, the last (shorter) batch included.
TEST(LoadThroughput, RepeatedBatchesAreWholeValidMessages) {
  for (const char* size : {"1000", "40-3000"}) {
    SCOPED_TRACE(size);
    CheckedStream stream;
    OneConnectionServer sink([&stream](int fd) { stream.read_all(fd); });
    std::string out, err;
    EXPECT_EQ(run_load({sink.url(), "--mode", "throughput", "--count", "200", "--size", size},
                       &out, &err),
              0)
        << out << err;
    sink.join();
    EXPECT_EQ(stream.messages, 200u) << out;
    EXPECT_EQ(stream.invalid, 0u);
    EXPECT_EQ(stream.left_over, 0u);
    if (std::string(size) == "1000") {
      EXPECT_EQ(stream.bytes, 200'000u);
    }
  }
}

TEST(LoadConnect, NobodyListeningExitsThreeWithHint) {
  std::string out, err;
  EXPECT_EQ(run_load({unused_tcp_url(), "--count", "10"}, &out, &err), 3) << out << err;
  EXPECT_NE((out + err).find("is the server running?"), std::string::npos) << out << err;
}

TEST(LoadArgs, BadArgumentsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"tcp://127.0.0.1:9"},  // plus a bad option below
      {"tcp://127.0.0.1:9", "--mode", "bogus"},
      {"tcp://127.0.0.1:9", "--size", "10"},
      {"tcp://127.0.0.1:9", "--size", "500-100"},
      {"tcp://127.0.0.1:9", "--duration", "ten"},
      {"tcp://127.0.0.1:9", "--rate", "100"},
      {"tcp://127.0.0.1:9", "--mode", "rate"},
      {"tcp://127.0.0.1:9", "--assert", "p99<<3"},
      {"tcp://127.0.0.1:9", "--percentiles", "50,101"},
      {"nonsense://x"},
  };
  for (auto args : cases) {
    if (args.size() == 1 && args[0] == "tcp://127.0.0.1:9") args.push_back("--bogus=1");
    std::string out, err;
    EXPECT_EQ(run_load(args, &out, &err), 2) << (args.empty() ? "" : args.back()) << err;
    EXPECT_NE(err.find("ringsock"), std::string::npos) << err;
  }
}

TEST(LoadArgs, ParsesEveryOption) {
  const char* argv[] = {"ringsock", "load", "udp://127.0.0.1:9", "--mode", "rate", "--rate",
                        "5000", "--connections", "4", "--inflight", "8", "--size", "64-1024",
                        "--duration", "250ms", "--warmup", "1s", "--seed", "42", "--backend",
                        "epoll", "--nodelay", "--batch-wait", "30", "--busy-poll", "7", "--zero-copy", "4096", "--json", "x.json", "--assert", "errors=0",
                        "--percentiles", "50,99.9"};
  static ringsock_cli::Args args;
  char error[320];
  ASSERT_EQ(ringsock_cli::parse_args(int(std::size(argv)), argv, args, error, sizeof error), 0)
      << error;
  const auto& load = args.load;
  EXPECT_EQ(args.command, ringsock_cli::Command::load);
  EXPECT_EQ(load.mode, ringsock_cli::LoadMode::rate);
  EXPECT_EQ(load.rate, 5000u);
  EXPECT_EQ(load.connections, 4u);
  EXPECT_EQ(load.inflight, 8u);
  EXPECT_EQ(load.size_min, 64u);
  EXPECT_EQ(load.size_max, 1024u);
  EXPECT_EQ(load.duration_ns, 250000000u);
  EXPECT_EQ(load.warmup_ns, 1000000000u);
  EXPECT_EQ(load.seed, 42u);
  EXPECT_EQ(load.backend, ringsock::BackendChoice::epoll);
  EXPECT_TRUE(load.nodelay);
  EXPECT_EQ(load.batch_wait_us, 30u);
  EXPECT_EQ(load.busy_poll_us, 7u);
  EXPECT_EQ(load.zero_copy_bytes, 4096u);
  EXPECT_STREQ(load.json_file, "x.json");
  EXPECT_STREQ(load.assertions, "errors=0");
  ASSERT_EQ(load.percentile_count, 2u);
  EXPECT_DOUBLE_EQ(load.percentiles[1], 99.9);
}

// Ctrl-C mid-run: the run stops as if its duration had ended, the table
// and the JSON hold the part that ran, and the exit is 128 + SIGINT (what
// ran is not the run asked for). Signalled once this test's echo server
// has echoed: by then the load has caught the signal.
TEST(LoadInterrupt, CtrlCReportsThePartThatRan) {
  for (const char* backend : {"uring", "epoll"}) {
    if (!backend_starts(backend)) continue;
    uint16_t port = 0;
    const int listener = cli_test::bind_loopback_tcp(port);
    ASSERT_GE(listener, 0);
    ASSERT_EQ(listen(listener, 4), 0);
    timeval accept_timeout{20, 0};  // a load that never connects does not hang the test
    setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &accept_timeout, sizeof accept_timeout);
    std::atomic<bool> echoed{false};
    std::thread echo([listener, &echoed] {
      const int fd = accept(listener, nullptr, nullptr);
      char buf[4096];
      for (ssize_t n; fd >= 0 && (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
        if (send(fd, buf, size_t(n), MSG_NOSIGNAL) != n) break;
        echoed = true;
      }
      if (fd >= 0) close(fd);
    });
    TempDir dir;
    const std::string json = dir.path + "/out.json";
    Child load({"load", "tcp://127.0.0.1:" + std::to_string(port), "--duration", "60s",
                "--backend", backend, "--json", json});
    for (int i = 0; i < 3000 && !echoed; ++i) usleep(10'000);
    EXPECT_TRUE(echoed.load()) << backend;
    const int status = load.stop(SIGINT, 20'000);
    echo.join();
    close(listener);
    ASSERT_TRUE(WIFEXITED(status)) << backend << " " << status << load.err();
    EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT) << backend << load.out() << load.err();
    EXPECT_NE(load.out().find("replies verified"), std::string::npos) << load.out();
    EXPECT_NE(load.err().find("interrupted by"), std::string::npos) << load.err();
    EXPECT_TRUE(json_balanced(read_file(json))) << backend;
  }
}

// Ctrl-C while the run waits for --start-at (a minute ahead): the wait
// ends, nothing was measured, and the exit is 128 + SIGINT at once.
TEST(LoadInterrupt, CtrlCEndsTheWaitForTheStart) {
  uint16_t port = 0;
  const int listener = cli_test::bind_loopback_tcp(port);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(listen(listener, 4), 0);
  timeval accept_timeout{20, 0};
  setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &accept_timeout, sizeof accept_timeout);
  std::atomic<bool> accepted{false};
  std::thread server([listener, &accepted] {
    const int fd = accept(listener, nullptr, nullptr);
    accepted = fd >= 0;
    char buf[256];
    while (fd >= 0 && recv(fd, buf, sizeof buf, 0) > 0) {
    }
    if (fd >= 0) close(fd);
  });
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  Child load({"load", "tcp://127.0.0.1:" + std::to_string(port), "--start-at",
              std::to_string(now.tv_sec + 60)});
  // Connected: it waits for the start now, with the signal caught.
  for (int i = 0; i < 3000 && !accepted; ++i) usleep(10'000);
  EXPECT_TRUE(accepted.load());
  usleep(100'000);
  const int status = load.stop(SIGINT, 10'000);
  server.join();
  close(listener);
  ASSERT_TRUE(WIFEXITED(status)) << status << load.err();
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT) << load.out() << load.err();
  EXPECT_NE(load.err().find("interrupted by"), std::string::npos) << load.err();
}

}  // namespace
