// `ringsock load` modes and knobs end to end: churn, idle, --threads,
// --sockperf framing, source addresses and ports, socket buffers. Against
// `ringsock serve` on every socket type and both backends, or against small
// servers written here with plain sockets when the test must see what the
// server saw. Every load is small and bounded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "e2e_support.hpp"
#include "logic/result_file.hpp"

namespace {

using cli_test::backend_starts;
using cli_test::read_file;
using cli_test::run_load;
using cli_test::Server;
using cli_test::TempDir;

using cli_test::Case;
using cli_test::case_name;

bool is_stream(const std::string& transport) { return transport == "tcp" || transport == "unix"; }

// The number after "connections " in serve's counters line for `url`.
long accepted_by(const std::string& counters, const std::string& url) {
  size_t at = counters.find(url + ": connections ");
  if (at == std::string::npos) return -1;
  return std::stol(counters.substr(at + url.size() + 14));
}

class LoadModes : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!backend_starts(GetParam().backend)) GTEST_SKIP() << "backend cannot start here";
  }
  std::string endpoint() const {
    const std::string& t = GetParam().transport;
    if (t == "tcp" || t == "udp") return t + "://127.0.0.1:0";
    return t + "://" + dir_.path + "/" + t + ".sock";
  }
  const std::string& backend() const { return GetParam().backend; }
  TempDir dir_;
};

// Every cycle is a new connection: a stream server counts at least one
// accepted connection per exchange.
TEST_P(LoadModes, ChurnOpensANewConnectionPerExchange) {
  Server server(endpoint(), "echo", backend());
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  int code = run_load({server.url(), "--mode", "churn", "--connections", "3", "--count", "300",
                       "--backend", backend()},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("replies verified 300"), std::string::npos) << out;
  EXPECT_NE(out.find("connect+exchange+close"), std::string::npos) << out;
  EXPECT_NE(out.find("errors         none"), std::string::npos) << out;
  std::string counters = server.stop();
  if (is_stream(GetParam().transport)) {
    EXPECT_GE(accepted_by(counters, server.url()), 300) << counters;
  }
}

TEST_P(LoadModes, IdleHoldsEveryConnectionAndVerifiesItAtTheEnd) {
  Server server(endpoint(), "echo", backend());
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  // A --timeout shorter than the idle time: the last exchange's datagrams
  // are given up on only once they have been out that long.
  int code = run_load({server.url(), "--mode", "idle", "--connections", "40", "--duration",
                       "300ms", "--timeout", "200ms", "--backend", backend(), "--assert",
                       "errors=0"},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("40 of 40 held"), std::string::npos) << out;
  EXPECT_NE(out.find("replies verified 80"), std::string::npos) << out;
  if (!is_stream(GetParam().transport)) {
    EXPECT_NE(out.find("lost 0.0000%"), std::string::npos) << out;
  }
}

TEST_P(LoadModes, ThreadsShareTheConnectionsAndTheCount) {
  Server server(endpoint(), "echo", backend());
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  int code = run_load({server.url(), "--threads", "3", "--connections", "6", "--count", "3000",
                       "--backend", backend()},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("3 thread(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("replies verified 3000"), std::string::npos) << out;
  EXPECT_NE(out.find("errors         none"), std::string::npos) << out;
}

// --sockperf framing, answered by ringsock's own sockperf responder (the
// real sockperf server is in sockperf_interop_test.cpp).
TEST_P(LoadModes, SockperfFramingAgainstTheSockperfResponder) {
  Server server(endpoint(), "sockperf", backend());
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  int code = run_load({server.url(), "--sockperf", "--count", "500", "--connections", "2",
                       "--inflight", is_stream(GetParam().transport) ? "3" : "1", "--size",
                       "54-300", "--backend", backend()},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("sockperf framing"), std::string::npos) << out;
  EXPECT_NE(out.find("replies verified 500"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Transports, LoadModes,
    ::testing::Values(Case{"tcp", "uring"}, Case{"tcp", "epoll"}, Case{"udp", "uring"},
                      Case{"udp", "epoll"}, Case{"unix", "uring"}, Case{"unix", "epoll"},
                      Case{"unix-dgram", "uring"}, Case{"unix-dgram", "epoll"}),
    case_name);

// An echo answers a sockperf request with CLIENT still set: not a reply.
TEST(LoadSockperf, EchoIsNotASockperfServer) {
  Server server("tcp://127.0.0.1:0", "echo", "auto");
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  EXPECT_EQ(run_load({server.url(), "--sockperf", "--count", "10"}, &out, &err), 4) << out << err;
  EXPECT_NE(out.find("bad magic"), std::string::npos) << out;
}

TEST(LoadChurn, PacedPoissonArrivalsReportBothLatencies) {
  Server server("tcp://127.0.0.1:0", "echo", "auto");
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  int code = run_load({server.url(), "--mode", "churn", "--rate", "400", "--arrival", "poisson",
                       "--connections", "2", "--count", "100"},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("replies verified 100"), std::string::npos) << out;
  EXPECT_NE(out.find("asked 400/s"), std::string::npos) << out;
  EXPECT_NE(out.find("uncorrected"), std::string::npos) << out;
}

// A sink never answers: its datagrams are not "unanswered" (the loss line
// said "lost 0.0000% (N of N unanswered)").
TEST(LoadThroughput, ADatagramSinkHasNoLossLine) {
  for (const char* backend : {"uring", "epoll"}) {
    if (!backend_starts(backend)) continue;
    Server server("udp://127.0.0.1:0", "sink", backend);
    ASSERT_FALSE(server.url().empty());
    std::string out, err;
    EXPECT_EQ(run_load({server.url(), "--mode", "throughput", "--duration", "200ms", "--backend",
                        backend}, &out, &err), 0) << out << err;
    EXPECT_NE(out.find("sent to a sink, which does not answer"), std::string::npos) << out;
    EXPECT_EQ(out.find("unanswered"), std::string::npos) << out;
  }
}

TEST(LoadKnobs, BufferSizesAndNodelayAreApplied) {
  Server server("tcp://127.0.0.1:0", "echo", "auto");
  ASSERT_FALSE(server.url().empty());
  TempDir dir;
  std::string json = dir.path + "/out.json";
  std::string out, err;
  int code = run_load({server.url(), "--count", "200", "--sndbuf", "32768", "--rcvbuf", "65536",
                       "--nodelay", "--size", "1000", "--json", json},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  std::string text = read_file(json);
  EXPECT_NE(text.find("\"sndbuf\": 32768"), std::string::npos) << text;
  EXPECT_NE(text.find("\"rcvbuf\": 65536"), std::string::npos) << text;
  EXPECT_NE(text.find("\"received\": 200"), std::string::npos) << text;
}

// A blocking TCP server on 127.0.0.1 with a thread per connection: echoes
// `replies` messages' worth of reads (0 = until EOF), then closes (with a
// reset if `reset`), or with `hold` reads on without answering until the
// client closes (the first connection is echoed to its end then);
// records every peer's address and port.
class PlainServer {
 public:
  explicit PlainServer(int replies, bool reset = false, bool hold = false)
      : replies_(replies), reset_(reset), hold_(hold) {
    listen_fd_ = cli_test::bind_loopback_tcp(port_);
    listen(listen_fd_, 64);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~PlainServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : workers_) t.join();
    close(listen_fd_);
  }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  std::set<std::pair<std::string, int>> peers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peers_;
  }

 private:
  void accept_loop() {
    for (;;) {
      sockaddr_in peer{};
      socklen_t length = sizeof peer;
      int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC);
      if (fd < 0) return;
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        peers_.insert({text, ntohs(peer.sin_port)});
      }
      const bool first = workers_.empty();
      workers_.emplace_back([this, fd, first] { serve(fd, hold_ && first); });
    }
  }
  void serve(int fd, bool to_the_end) {
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buffer[65536];
    for (int i = 0; replies_ == 0 || to_the_end || i < replies_; ++i) {
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0 || send(fd, buffer, size_t(n), MSG_NOSIGNAL) != n) break;
    }
    while (hold_ && recv(fd, buffer, sizeof buffer, 0) > 0) {
    }
    if (reset_) {
      linger abortive{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    }
    close(fd);
  }
  int replies_;
  bool reset_;
  bool hold_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // joined at the end; only the acceptor adds
  std::mutex mutex_;
  std::set<std::pair<std::string, int>> peers_;
};

// A server that drops connections while they idle: each fails its last
// exchange, so every connection failed (exit 7, before any --assert).
TEST(LoadIdle, ConnectionsClosedWhileIdleAreNotHeld) {
  PlainServer server(1);
  std::string out, err;
  int code = run_load({server.url(), "--mode", "idle", "--connections", "3", "--duration",
                       "300ms", "--assert", "errors=0"},
                      &out, &err);
  EXPECT_EQ(code, 7) << out << err;
  EXPECT_NE(out.find("0 of 3 held"), std::string::npos) << out;
  EXPECT_NE(out.find("closed by server 3"), std::string::npos) << out;
}

// The same with the user's request, on both backends: a server may end a
// kept-alive connection in the other modes, where the slot opens a new one,
// but an idle connection the server ended was not held, and none is opened
// in its place.
TEST(LoadIdle, ConnectionsClosedWhileIdleAreNotHeldNorReplaced) {
  for (const char* backend : {"uring", "epoll"}) {
    if (!backend_starts(backend)) continue;
    PlainServer server(1);
    std::string out, err;
    int code = run_load({server.url(), "--request", "ping\\n", "--reply-bytes", "5", "--mode",
                         "idle", "--connections", "3", "--duration", "300ms", "--backend",
                         backend},
                        &out, &err);
    EXPECT_EQ(code, 7) << backend << "\n" << out << err;
    EXPECT_NE(out.find("0 of 3 held"), std::string::npos) << backend << "\n" << out;
    EXPECT_NE(out.find("sent 3, replies verified 3"), std::string::npos) << backend << "\n" << out;
    EXPECT_NE(out.find("closed by server 3"), std::string::npos) << backend << "\n" << out;
  }
}

// A server that ends every connection after one reply, with a FIN or with a
// reset: each is a kept-alive connection the server ended, whichever the
// client sees first, and the slot goes on with a new one to the end of the
// count. The requests on their way are counted closed by server, never the
// slot, and the run ends when its last reply is in (not at a later tick).
TEST(LoadKeptAlive, AServerThatEndsEachConnectionIsFollowedByANewOne) {
  for (const char* backend : {"uring", "epoll"}) {
    if (!backend_starts(backend)) continue;
    for (bool reset : {false, true}) {
      PlainServer server(1, reset);
      std::string out, err;
      int code = run_load({server.url(), "--request", "ping\\n", "--reply-bytes", "5", "--count",
                           "20", "--backend", backend},
                          &out, &err);
      const std::string what = std::string(backend) + (reset ? " reset\n" : " fin\n");
      EXPECT_EQ(code, 0) << what << out << err;
      // Each connection: one reply, and the request sent after it lost.
      EXPECT_NE(out.find("sent 20, replies verified 10"), std::string::npos) << what << out;
      EXPECT_NE(out.find("errors         closed by server 10\n"), std::string::npos) << what << out;
    }
  }
}

// A port base unlikely to be taken on these addresses (127.0.0.2-4 are not
// where anything else on the machine binds).
int port_base() { return 20000 + int(getpid() % 20000); }

TEST(LoadSource, FixedAddressesAndPortsAreUsedInOrder) {
  PlainServer server(0);
  int base = port_base();
  std::string ports = std::to_string(base) + "-" + std::to_string(base + 1);
  std::string out, err;
  int code = run_load({server.url(), "--source", "127.0.0.2-127.0.0.4", "--source-ports", ports,
                       "--connections", "6", "--count", "60"},
                      &out, &err);
  ASSERT_EQ(code, 0) << out << err;
  std::set<std::pair<std::string, int>> expected;
  for (int p = 0; p < 2; ++p) {
    for (const char* a : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) expected.insert({a, base + p});
  }
  EXPECT_EQ(server.peers(), expected);
}

TEST(LoadSource, AddressesWithoutPortsLeaveThePortToTheKernel) {
  PlainServer server(0);
  std::string out, err;
  int code = run_load({server.url(), "--source", "127.0.0.7-127.0.0.8", "--connections", "4",
                       "--count", "40"},
                      &out, &err);
  ASSERT_EQ(code, 0) << out << err;
  auto peers = server.peers();
  ASSERT_EQ(peers.size(), 4u);
  std::set<std::string> addresses;
  for (const auto& p : peers) {
    addresses.insert(p.first);
    EXPECT_NE(p.second, 0);
  }
  EXPECT_EQ(addresses, (std::set<std::string>{"127.0.0.7", "127.0.0.8"}));
}

// Every churn cycle of a slot reuses its fixed port: without the reset on
// close the previous connection's TIME_WAIT made each next connect fail.
TEST(LoadSource, ChurnOnFixedPortsLeavesNoTimeWait) {
  Server server("tcp://127.0.0.1:0", "echo", "auto");
  ASSERT_FALSE(server.url().empty());
  int base = port_base() + 4;
  std::string ports = std::to_string(base) + "-" + std::to_string(base + 1);
  std::string out, err;
  int code = run_load({server.url(), "--mode", "churn", "--connections", "2", "--source",
                       "127.0.0.6", "--source-ports", ports, "--count", "200"},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  EXPECT_NE(out.find("replies verified 200"), std::string::npos) << out;
  EXPECT_NE(out.find("errors         none"), std::string::npos) << out;
}

TEST(LoadSource, DatagramsFromAChosenAddress) {
  Server server("udp://127.0.0.1:0", "echo", "auto");
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  EXPECT_EQ(run_load({server.url(), "--source", "127.0.0.9", "--count", "50"}, &out, &err), 0)
      << out << err;
  EXPECT_NE(out.find("replies verified 50"), std::string::npos) << out;
}

// Two connections on one fixed address and port: the second cannot bind.
TEST(LoadSource, APortAlreadyTakenIsReportedWithAHint) {
  PlainServer server(0);
  int base = port_base() + 2;
  std::string ports = std::to_string(base) + "-" + std::to_string(base);
  int blocker = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(base));
  inet_pton(AF_INET, "127.0.0.5", &address.sin_addr);
  ASSERT_EQ(bind(blocker, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(blocker, 1), 0);
  std::string out, err;
  int code = run_load({server.url(), "--source", "127.0.0.5", "--source-ports", ports, "--count",
                       "10"},
                      &out, &err);
  close(blocker);
  EXPECT_EQ(code, 3) << out << err;
  EXPECT_NE((out + err).find("out of local ports"), std::string::npos) << out << err;
}

// Open loop: a server that stops answering one connection halfway holds the
// one request --inflight 1 allows; what that connection's schedule had due
// after it never goes out. It is counted (sent + unsent = the 400 due in 2 s
// at 200/s) and enters the corrected latency as waiting until the window's
// end (the first was due about 0.5 s in), so the stall shows in the
// percentiles. The other connection is answered to the end, so either its
// send or the tick may be what sees the window close.
TEST(LoadRate, WhatTheScheduleCouldNotSendIsCountedAndCorrected) {
  for (const char* backend : {"uring", "epoll"}) {
    if (!backend_starts(backend)) continue;
    PlainServer server(50, false, true);
    TempDir dir;
    const std::string json = dir.path + "/out.json";
    std::string out, err;
    run_load({server.url(), "--mode", "rate", "--rate", "200", "--connections", "2",
              "--duration", "2s", "--warmup", "0", "--backend", backend, "--json", json},
             &out, &err);
    auto parsed = ringsock::tool::read_run_record(read_file(json));
    ASSERT_TRUE(std::holds_alternative<ringsock::tool::RunRecord>(parsed)) << out << err;
    const auto& r = std::get<ringsock::tool::RunRecord>(parsed);
    EXPECT_GE(r.counter("received"), 50u + 150u) << backend << "\n" << out;
    EXPECT_EQ(r.counter("sent") + r.counter("unsent"), 400u) << backend << "\n" << out;
    EXPECT_GE(r.counter("unsent"), 140u) << backend << "\n" << out;
    ASSERT_NE(r.histogram("latency"), nullptr);
    EXPECT_GE(r.histogram("latency")->max(), 1'000'000'000u) << backend << "\n" << out;
    EXPECT_GE(r.histogram("latency")->value_at_percentile(75), 300'000'000u) << out;
    EXPECT_NE(out.find("never went out"), std::string::npos) << out;
  }
}

}  // namespace
