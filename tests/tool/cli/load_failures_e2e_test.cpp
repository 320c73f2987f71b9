// `ringsock load` never reports success for a run that measured nothing:
// tiny servers written here with plain sockets (one that never answers, one
// that resets, one that closes, a UDP black hole, one whose accept queue
// holds connects back), results that cannot be written, limits checked
// before any work. Each exit code is the one docs/command-errors.md gives.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "child.hpp"
#include "e2e_support.hpp"

namespace {

using cli_test::backend_starts;
using cli_test::run_load;

enum class Policy { never_answer, reset, close, echo };

// A TCP server on 127.0.0.1 that treats every connection by `policy`.
// `accept_after_ms`: it first holds its accept queue (backlog 0) full with a
// connection of its own, so that clients' connects wait (their SYNs are
// dropped and sent again a second or more later) until it begins accepting.
class TinyTcpServer {
 public:
  explicit TinyTcpServer(Policy policy, int accept_after_ms = 0) : policy_(policy) {
    listen_fd_ = cli_test::bind_loopback_tcp(port_);
    listen(listen_fd_, accept_after_ms > 0 ? 0 : 64);
    if (accept_after_ms > 0) filler_ = connect_to_self();
    thread_ = std::thread([this, accept_after_ms] { run(accept_after_ms); });
  }
  ~TinyTcpServer() {
    stop_ = true;
    thread_.join();
    if (filler_ >= 0) close(filler_);  // its echo thread then ends
    for (auto& t : echoes_) t.join();
    for (int fd : held_) close(fd);
    close(listen_fd_);
  }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  int connect_to_self() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port_);
    connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    return fd;
  }
  void run(int accept_after_ms) {
    for (int waited = 0; waited < accept_after_ms && !stop_; waited += 10) usleep(10000);
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) treat(fd);
    }
  }
  void treat(int fd) {
    switch (policy_) {
      case Policy::never_answer: held_.push_back(fd); return;
      case Policy::reset: {
        linger reset{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        close(fd);
        return;
      }
      case Policy::close: close(fd); return;
      case Policy::echo: echoes_.emplace_back([fd] { echo(fd); }); return;
    }
  }
  static void echo(int fd) {
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buffer[65536];
    for (;;) {
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0 || send(fd, buffer, size_t(n), MSG_NOSIGNAL) != n) break;
    }
    close(fd);
  }

  Policy policy_;
  int listen_fd_ = -1;
  int filler_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<int> held_;                // only the server thread adds, joined before use
  std::vector<std::thread> echoes_;
};

// A UDP socket on 127.0.0.1 that reads nothing and answers nothing.
struct UdpBlackHole {
  UdpBlackHole() {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) return;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    url = "udp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  }
  ~UdpBlackHole() { close(fd); }
  int fd = -1;
  std::string url;  // empty when it could not bind
};

class LoadFailures : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " cannot start here";
  }
  int load(std::vector<std::string> args) {
    args.insert(args.end(), {"--backend", GetParam()});
    out_.clear();
    err_.clear();
    return run_load(args, &out_, &err_);
  }
  std::string out_, err_;
  cli_test::TempDir dir_;
};

TEST_P(LoadFailures, AServerThatNeverAnswersExitsSix) {
  TinyTcpServer server(Policy::never_answer);
  EXPECT_EQ(load({server.url(), "--connections", "2", "--duration", "300ms"}), 6) << out_ << err_;
  EXPECT_NE(err_.find("measured nothing"), std::string::npos) << err_;
  EXPECT_NE(err_.find("never answered"), std::string::npos) << err_;
  EXPECT_NE(out_.find("timeout"), std::string::npos) << out_;  // the table still says what happened
}

// The reset may reach a client before its connect has been reported (then
// it could not connect: 3) or after (every connection failed: 7); never 0.
TEST_P(LoadFailures, AServerThatResetsEveryConnectionFails) {
  TinyTcpServer server(Policy::reset);
  int code = load({server.url(), "--connections", "3", "--duration", "300ms"});
  EXPECT_TRUE(code == 7 || code == 3) << code << out_ << err_;
  if (code == 7) EXPECT_NE(err_.find("every connection failed (3 of 3)"), std::string::npos) << err_;
  else EXPECT_NE(err_.find("could not connect: reset"), std::string::npos) << err_;
  EXPECT_NE(out_.find("reset"), std::string::npos) << out_;
}

TEST_P(LoadFailures, AServerThatClosesEveryConnectionExitsSeven) {
  TinyTcpServer server(Policy::close);
  EXPECT_EQ(load({server.url(), "--connections", "3", "--duration", "300ms"}), 7) << out_ << err_;
  EXPECT_NE(err_.find("every connection failed"), std::string::npos) << err_;
}

// Churn shorter than the connect timeout against a server whose SYNs are
// dropped: the run ends with its connects on their way, and says it could
// not connect (it said "errors none" and measured nothing, exit 6).
TEST_P(LoadFailures, ChurnThatNeverConnectedExitsThree) {
  TinyTcpServer server(Policy::echo, 5000);
  EXPECT_EQ(load({server.url(), "--mode", "churn", "--connections", "2", "--duration", "500ms"}), 3)
      << out_ << err_;
  EXPECT_NE(err_.find("could not connect: timeout"), std::string::npos) << err_;
  EXPECT_NE(out_.find("timeout 2"), std::string::npos) << out_;
}

TEST_P(LoadFailures, AUdpBlackHoleExitsSix) {
  UdpBlackHole hole;
  ASSERT_FALSE(hole.url.empty());
  const std::string& url = hole.url;
  EXPECT_EQ(load({url, "--connections", "2", "--duration", "300ms"}), 6) << out_ << err_;
  EXPECT_NE(err_.find("every datagram went unanswered"), std::string::npos) << err_;
}

// A count-bounded datagram run whose every send is lost: the sends are no
// progress, so it ends at the 10 s stall (one connection would take 50 s
// to send --count 100 at one per 500 ms loss), and with --duration too at
// the duration.
TEST_P(LoadFailures, ACountOverAUdpBlackHoleEndsAtTheStallOrTheDuration) {
  UdpBlackHole hole;
  ASSERT_FALSE(hole.url.empty());
  const std::string& url = hole.url;
  EXPECT_EQ(load({url, "--count", "100"}), 6) << out_ << err_;
  EXPECT_NE(err_.find("every datagram went unanswered"), std::string::npos) << err_;
  EXPECT_EQ(load({url, "--count", "100", "--duration", "300ms"}), 6) << out_ << err_;
  EXPECT_NE(out_.find("messages       sent 1, "), std::string::npos) << out_;  // not 100
}

// Connects that take longer than --duration (dropped SYNs are sent again
// after 1 s, then 3 s): the measured window opens once they are up.
TEST_P(LoadFailures, TheDurationCountsFromWhenTheConnectionsAreUp) {
  TinyTcpServer server(Policy::echo, 1500);
  EXPECT_EQ(load({server.url(), "--connections", "3", "--duration", "500ms"}), 0) << out_ << err_;
  EXPECT_EQ(out_.find("replies verified 0"), std::string::npos) << out_;
  EXPECT_EQ(out_.find("sent 0"), std::string::npos) << out_;
}

// A server whose accept queue stays full: every connect waits for a SYN-ACK
// that never comes, and gives up after 5 s as a timeout.
TEST_P(LoadFailures, ConnectsThatNeverCompleteTimeOut) {
  TinyTcpServer server(Policy::echo, 60000);
  EXPECT_EQ(load({server.url(), "--connections", "2", "--duration", "300ms"}), 3) << out_ << err_;
  EXPECT_NE(err_.find("could not connect: timeout"), std::string::npos) << err_;
  EXPECT_NE(out_.find("timeout 2"), std::string::npos) << out_;
}

// Results that cannot be written: refused before the load when the file
// cannot be created; a write that fails at the end is an exit of its own.
TEST_P(LoadFailures, ResultsThatCannotBeWrittenAreNotASuccess) {
  cli_test::Server server("tcp://127.0.0.1:0", "echo", GetParam());
  ASSERT_FALSE(server.url().empty());
  EXPECT_EQ(load({server.url(), "--count", "10", "--json", "/proc/x.json"}), 2) << out_ << err_;
  EXPECT_NE(err_.find("cannot write --json /proc/x.json"), std::string::npos) << err_;
  EXPECT_EQ(out_.find("messages"), std::string::npos) << out_;  // no load ran
  EXPECT_EQ(load({server.url(), "--count", "10", "--json", dir_.path + "/no/such/dir.json"}), 2);
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full here";
  EXPECT_EQ(load({server.url(), "--count", "10", "--json", "/dev/full"}), 8) << out_ << err_;
  EXPECT_NE(err_.find("cannot write the results to /dev/full"), std::string::npos) << err_;
  EXPECT_NE(out_.find("replies verified 10"), std::string::npos) << out_;
}

// The datagram limit load enforces is the real one: the largest UDP/IPv4
// datagram goes through and back; one byte more is refused before any work.
TEST_P(LoadFailures, TheLargestDatagramGoesThroughOneMoreIsRefused) {
  cli_test::Server server("udp://127.0.0.1:0", "echo", GetParam(), {"--buffer-size", "131072"});
  ASSERT_FALSE(server.url().empty());
  EXPECT_EQ(load({server.url(), "--size", "65507", "--count", "5"}), 0) << out_ << err_;
  EXPECT_NE(out_.find("replies verified 5"), std::string::npos) << out_;
  EXPECT_EQ(load({server.url(), "--size", "65508", "--count", "5"}), 2) << out_ << err_;
  EXPECT_NE(err_.find("at most 65507 bytes"), std::string::npos) << err_;
}

INSTANTIATE_TEST_SUITE_P(Backends, LoadFailures, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

#ifndef RINGSOCK_EMULATOR
// More connections than the fd limit allows: refused before any socket is
// made, with a sentence, instead of hanging while it allocates.
TEST(LoadLimits, MoreConnectionsThanTheFdLimitExitTwo) {
  cli_test::Child shell(cli_test::Child::Program{"/bin/sh"},
                        {"-c", std::string("ulimit -n 256 && exec ") + RINGSOCK_BIN +
                                   " load tcp://127.0.0.1:9 --connections 1000"});
  int status = shell.wait(10000);
  ASSERT_TRUE(status >= 0 && WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 2) << shell.err();
  EXPECT_NE(shell.err().find("--connections 1000 needs about"), std::string::npos) << shell.err();
  EXPECT_NE(shell.err().find("may open 256"), std::string::npos) << shell.err();
}

TEST(LoadLimits, AMillionConnectionsAreRefusedUnderThisFdLimit) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= (1u << 20) + 64) {
    GTEST_SKIP() << "the hard fd limit here allows a million connections";
  }
  std::string out, err;
  EXPECT_EQ(run_load({"tcp://127.0.0.1:9", "--connections", "1048576"}, &out, &err), 2) << err;
  EXPECT_NE(err.find("file descriptors"), std::string::npos) << err;
}
#endif

}  // namespace
