// Interoperability with the real sockperf (3.7, the Debian package): sockperf's
// clients against `ringsock serve --mode sockperf`, and `ringsock load
// --sockperf` against `sockperf server`, on both backends. Skipped when
// sockperf is not on PATH or when cross-compiled (sockperf is a host binary).
//
// sockperf 3.7 exits 0 even when it could not connect or got no reply, so a
// run is judged by its summary lines, never by its exit code alone:
//   sockperf: [Valid Duration] RunTime=0.550 sec; SentMessages=9959; ReceivedMessages=9959
//   sockperf: ====> avg-latency=9.971 (std-dev=62.132)
//   sockperf: Total 9959 observations; each percentile contains 99.59 observations
// (with ANSI colour escapes around some of them), and failures as
//   sockperf: ERROR: Can`t connect socket (errno=111 Connection refused)
//   sockperf: No messages were received from the server. Is the server down?
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "child.hpp"
#include "e2e_support.hpp"
#include "sockperf.hpp"

namespace {

using cli_test::backend_starts;
using cli_test::read_file;
using cli_test::TempDir;

using cli_test::Child;
namespace sp = ringsock_cli::sockperf;

using cli_test::kStartMs;
constexpr int kStopMs = 10000;
constexpr int kSockperfMs = 20000;  // a 1 s sockperf run takes about 1.5 s
using cli_test::kLoadMs;
constexpr int kReadyMs = 5000;

// sockperf's full path when it is on PATH, else empty.
std::string find_sockperf() {
  const char* path = getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  for (;;) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? colon : colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/sockperf";
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string::npos) return "";
    start = colon + 1;
  }
}

// Skips the current test unless sockperf can run here; `path` gets its path.
#define REQUIRE_SOCKPERF(path)                                                      \
  do {                                                                              \
    if (cross_compiled()) GTEST_SKIP() << "cross-compiled: sockperf is a host binary"; \
    (path) = find_sockperf();                                                       \
    if ((path).empty()) GTEST_SKIP() << "sockperf not found on PATH";               \
  } while (0)

bool cross_compiled() {
#ifdef RINGSOCK_EMULATOR
  return true;
#else
  return false;
#endif
}

long long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

std::string strip_ansi(const std::string& text) {
  std::string plain;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
      continue;
    }
    plain.push_back(text[i]);
  }
  return plain;
}

// The number after `key` on the first line containing `line_marker`, or -1.
long long number_after(const std::string& text, const std::string& line_marker,
                        const std::string& key) {
  size_t marker = text.find(line_marker);
  if (marker == std::string::npos) return -1;
  size_t line = text.rfind('\n', marker);
  line = line == std::string::npos ? 0 : line + 1;
  size_t end = text.find('\n', line);
  size_t at = text.find(key, line);
  if (at == std::string::npos || (end != std::string::npos && at > end)) return -1;
  at += key.size();
  if (at >= text.size() || text[at] < '0' || text[at] > '9') return -1;
  return strtoll(text.c_str() + at, nullptr, 10);
}

// What a sockperf client run reported.
struct Summary {
  int exit_code = -1;
  long long sent = -1;           // [Valid Duration] SentMessages
  long long received = -1;       // [Valid Duration] ReceivedMessages
  long long observations = -1;   // "Total N observations" (ping-pong only)
  long long dropped = -1;        // "# dropped messages = N"
  bool has_latency = false;      // "====> avg-latency="
  bool reported_failure = false; // "ERROR" or "No messages were received"
  std::string text;              // the whole output, colours removed

  // A run with valid results: every reported number present and positive.
  bool valid() const {
    return exit_code == 0 && !reported_failure && sent > 0 && received > 0 && has_latency &&
           dropped == 0;
  }
};

Summary parse_summary(int exit_code, const std::string& out, const std::string& err) {
  Summary s;
  s.exit_code = exit_code;
  s.text = strip_ansi(out + err);
  s.sent = number_after(s.text, "[Valid Duration]", "SentMessages=");
  s.received = number_after(s.text, "[Valid Duration]", "ReceivedMessages=");
  s.observations = number_after(s.text, "observations;", "Total ");
  s.dropped = number_after(s.text, "# dropped messages", "# dropped messages = ");
  s.has_latency = s.text.find("====> avg-latency=") != std::string::npos;
  s.reported_failure = s.text.find("ERROR") != std::string::npos ||
                       s.text.find("No messages were received") != std::string::npos ||
                       s.text.find("Invalid") != std::string::npos;
  return s;
}

// Runs a sockperf client to completion.
Summary run_sockperf(const std::string& sockperf, const std::vector<std::string>& args) {
  Child child(Child::Program{sockperf}, args);
  int status = child.wait(kSockperfMs);
  int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return parse_summary(code, child.out(), child.err());
}

std::vector<std::string> client_args(const std::string& subcommand, const std::string& ip,
                                     const std::string& port, bool tcp) {
  std::vector<std::string> args{subcommand, "-i", ip, "-p", port, "-m", "64", "-t", "1"};
  if (tcp) args.push_back("--tcp");
  return args;
}

// The counters line serve prints for `url` at a stop: messages in and out.
bool serve_counters(const std::string& out, const std::string& url, long long* in,
                    long long* out_messages) {
  std::string marker = url + ": connections ";
  if (out.find(marker) == std::string::npos) return false;
  *in = number_after(out, marker, ", in ");
  *out_messages = number_after(out, marker, ", out ");
  return *in >= 0 && *out_messages >= 0;
}

std::string port_of(const std::string& url) { return url.substr(url.rfind(':') + 1); }

// A port free on 127.0.0.1 for `type` right now (the kernel's pick, released).
std::string free_port(int type) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  std::string port;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = std::to_string(ntohs(address.sin_port));
  }
  close(fd);
  return port;
}

// One sockperf ping (CLIENT|PONG, 64 bytes) to 127.0.0.1:port and its reply
// within `ms`: true once a sockperf server answers there. (sockperf 3.7's
// server does not answer messages flagged WARMUP, even with PONG set.)
bool sockperf_answers(const std::string& port, bool tcp, int ms) {
  int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(uint16_t(std::stoi(port)));
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    uint8_t message[64] = {};
    sp::encode(sp::Header{1, uint16_t(sp::kFlagClient | sp::kFlagPong),
                          sizeof message},
               message);
    if (send(fd, message, sizeof message, MSG_NOSIGNAL) == ssize_t(sizeof message)) {
      pollfd p{fd, POLLIN, 0};
      uint8_t reply[sizeof message];
      ok = poll(&p, 1, ms) > 0 && recv(fd, reply, sizeof reply, MSG_WAITALL) == ssize_t(sizeof reply) &&
           sp::decode(reply).sequence == 1;
    }
  }
  close(fd);
  return ok;
}

class SockperfInterop : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    REQUIRE_SOCKPERF(sockperf_);
    if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " cannot start here";
  }

  // `ringsock serve --mode MODE` on `endpoint`; returns its URL.
  std::string serve(const std::string& endpoint, const std::string& mode = "sockperf") {
    server_ = std::make_unique<Child>(
        std::vector<std::string>{"serve", "--backend", GetParam(), "--mode", mode, endpoint});
    auto urls = server_->wait_lines("listening ", 1, kStartMs);
    return urls.empty() ? "" : urls[0];
  }

  // SIGTERM: a clean stop; returns serve's output.
  std::string stop_server() {
    int status = server_->stop(SIGTERM, kStopMs);
    EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "status " << status << " " << server_->err();
    EXPECT_NE(server_->out().find("stopped by"), std::string::npos) << server_->out();
    return server_->out();
  }

  // sockperf `subcommand` (ping-pong or under-load) against serve on `transport`.
  void client_against_serve(const std::string& subcommand, const std::string& transport) {
    bool tcp = transport == "tcp";
    std::string url = serve(transport + "://127.0.0.1:0");
    ASSERT_FALSE(url.empty()) << server_->err();
    Summary s = run_sockperf(sockperf_, client_args(subcommand, "127.0.0.1", port_of(url), tcp));
    EXPECT_TRUE(s.valid()) << s.text;
    if (subcommand == "ping-pong") {
      // Every message asks for a reply: all of them answered, in order.
      EXPECT_EQ(s.received, s.sent) << s.text;
      EXPECT_EQ(s.observations, s.received) << s.text;
    } else {
      // under-load: one reply per --reply-every (100) messages.
      EXPECT_LT(s.received, s.sent) << s.text;
    }
    long long in = -1, out = -1;
    std::string serve_out = stop_server();
    ASSERT_TRUE(serve_counters(serve_out, url, &in, &out)) << serve_out;
    EXPECT_GE(in, s.sent) << serve_out;  // the warmup and the tail are outside "Valid Duration"
    EXPECT_GE(out, s.received) << serve_out;
    if (subcommand == "under-load") {
      EXPECT_LT(out, in) << serve_out;
    }
    EXPECT_NE(serve_out.find("errors 0"), std::string::npos) << serve_out;
  }

  std::string sockperf_;
  std::unique_ptr<Child> server_;
};

TEST_P(SockperfInterop, PingPongTcp) { client_against_serve("ping-pong", "tcp"); }
TEST_P(SockperfInterop, PingPongUdp) { client_against_serve("ping-pong", "udp"); }
TEST_P(SockperfInterop, UnderLoadTcp) { client_against_serve("under-load", "tcp"); }
TEST_P(SockperfInterop, UnderLoadUdp) { client_against_serve("under-load", "udp"); }

// sockperf 3.7 takes only IPv4 addresses for -i (and has no UNIX sockets):
// this runs once a sockperf that accepts ::1 is installed.
TEST_P(SockperfInterop, PingPongTcpIpv6) {
  std::string url = serve("tcp://[::1]:0");
  if (url.empty()) GTEST_SKIP() << "no IPv6 loopback here";
  Summary s = run_sockperf(sockperf_, client_args("ping-pong", "::1", port_of(url), true));
  if (s.text.find("Invalid address") != std::string::npos) {
    GTEST_SKIP() << "this sockperf does not take IPv6 addresses";
  }
  EXPECT_TRUE(s.valid()) << s.text;
  EXPECT_EQ(s.received, s.sent) << s.text;
  long long in = -1, out = -1;
  std::string serve_out = stop_server();
  ASSERT_TRUE(serve_counters(serve_out, url, &in, &out)) << serve_out;
  EXPECT_GE(in, s.sent) << serve_out;
}

// The checks above can fail: sockperf exits 0 here too, but its summary is
// rejected, with nobody listening and against serve's echo mode (echoed
// messages keep the CLIENT flag, which sockperf does not count as replies).
TEST_P(SockperfInterop, FailedRunsAreRejected) {
  Summary refused =
      run_sockperf(sockperf_, client_args("ping-pong", "127.0.0.1", free_port(SOCK_STREAM), true));
  EXPECT_FALSE(refused.valid()) << refused.text;
  EXPECT_TRUE(refused.reported_failure) << refused.text;
  std::string url = serve("udp://127.0.0.1:0", "echo");
  ASSERT_FALSE(url.empty()) << server_->err();
  Summary echoed = run_sockperf(sockperf_, client_args("ping-pong", "127.0.0.1", port_of(url), false));
  EXPECT_FALSE(echoed.valid()) << echoed.text;
  EXPECT_TRUE(echoed.reported_failure) << echoed.text;
  stop_server();
}

// `ringsock load --sockperf` against `sockperf server`.
class LoadAgainstSockperfServer : public SockperfInterop {
 protected:
  void TearDown() override {
    if (sockperf_server_) sockperf_server_->stop(SIGTERM, kStopMs);
  }

  // Starts `sockperf server` on a free port; returns the port once it answers.
  // TCP goes through a feed file with -F epoll: with `-i IP -p PORT` sockperf
  // 3.7's server blocks in recvfrom() on one socket and serves one TCP
  // connection at a time (a second connection's messages are never answered).
  std::string start_sockperf_server(bool tcp) {
    std::string port = free_port(tcp ? SOCK_STREAM : SOCK_DGRAM);
    if (port.empty()) return "";
    std::vector<std::string> args{"server", "-i", "127.0.0.1", "-p", port};
    if (tcp) {
      std::string feed = dir_.path + "/feed.txt";
      std::ofstream(feed) << "T:127.0.0.1:" << port << "\n";
      args = {"server", "-f", feed, "-F", "epoll"};
    }
    sockperf_server_ = std::make_unique<Child>(Child::Program{sockperf_}, args);
    for (long long deadline = now_ms() + kReadyMs; now_ms() < deadline; usleep(50000)) {
      if (sockperf_answers(port, tcp, 200)) return port;
    }
    return "";
  }

  void load_against(const std::string& transport) {
    bool tcp = transport == "tcp";
    std::string port = start_sockperf_server(tcp);
    ASSERT_FALSE(port.empty()) << "sockperf server not answering: " << sockperf_server_->out()
                               << sockperf_server_->err();
    std::string json = dir_.path + "/load.json";
    std::string out, err;
    int code = cli_test::run({"load", "--sockperf", transport + "://127.0.0.1:" + port, "--count",
                              "2000", "--connections", "2", "--backend", GetParam(), "--json",
                              json},
                             &out, &err, kLoadMs);
    EXPECT_EQ(code, 0) << out << err;
    std::string text = read_file(json);
    EXPECT_NE(text.find("\"received\": 2000"), std::string::npos) << text << out << err;
    EXPECT_NE(text.find("\"verification_failures\": 0"), std::string::npos) << text;
    // sockperf server is still up: the load broke nothing.
    EXPECT_TRUE(sockperf_answers(port, tcp, 2000));
  }

  std::unique_ptr<Child> sockperf_server_;
  TempDir dir_;
};

TEST_P(LoadAgainstSockperfServer, Tcp) { load_against("tcp"); }
TEST_P(LoadAgainstSockperfServer, Udp) { load_against("udp"); }

INSTANTIATE_TEST_SUITE_P(Backends, SockperfInterop, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, LoadAgainstSockperfServer, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
