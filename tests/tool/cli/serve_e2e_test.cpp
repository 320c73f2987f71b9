// `ringsock serve` end to end: the binary as a child process, plain blocking
// client sockets, every socket type, both backends. Each step is bounded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "child.hpp"
#include "e2e_support.hpp"
#include "ringsock/endpoint.hpp"
#include "sockperf.hpp"

namespace {

using cli_test::backend_starts;
using cli_test::TempDir;

using cli_test::Child;
namespace sp = ringsock_cli::sockperf;

constexpr int kStopMs = 10000;

// A blocking client socket connected to `url` (datagram sockets connected
// too, UNIX ones auto-bound so that the server can answer).
int connect_to(const std::string& url) {
  ringsock::Endpoint ep;
  if (ringsock::parse_endpoint(url, ep).error != 0) return -1;
  int fd = socket(ep.family(), ep.socket_type() | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (ep.family() == AF_UNIX && !ep.is_stream()) {
    sockaddr_un self{};
    self.sun_family = AF_UNIX;
    bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t));  // autobind
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, ep.address(), ep.length) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const void* data, size_t n) {
  return send(fd, data, n, MSG_NOSIGNAL) == ssize_t(n);
}

// Reads exactly n bytes from a stream (or one datagram of up to n), bounded by SO_RCVTIMEO.
std::string read_n(int fd, size_t n, bool stream) {
  std::string got;
  char buffer[65536];
  while (got.size() < n) {
    size_t want = stream ? std::min(n - got.size(), sizeof buffer) : sizeof buffer;
    ssize_t r = recv(fd, buffer, want, 0);
    if (r <= 0) break;
    got.append(buffer, size_t(r));
    if (!stream) break;
  }
  return got;
}

bool readable_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) > 0;
}

std::string sockperf_message(uint64_t sequence, uint16_t flags, size_t body) {
  std::string m(sp::kHeaderBytes + body, 'q');
  sp::encode(sp::Header{sequence, flags, uint32_t(m.size())},
             reinterpret_cast<uint8_t*>(m.data()));
  return m;
}

class ServeE2E : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " cannot start here";
  }

  // Starts serve with `endpoints` and `extra` options; returns the listening URLs.
  std::vector<std::string> start(const std::vector<std::string>& endpoints,
                                 const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"serve", "--backend", GetParam()};
    args.insert(args.end(), endpoints.begin(), endpoints.end());
    args.insert(args.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(args);
    auto urls = child_->wait_lines("listening ", endpoints.size(), cli_test::kStartMs);
    EXPECT_EQ(urls.size(), endpoints.size()) << child_->err();
    return urls;
  }

  // SIGTERM: a clean stop with exit 0 and the counters printed.
  std::string stop_cleanly() {
    int status = child_->stop(SIGTERM, kStopMs);
    EXPECT_TRUE(status >= 0 && WIFEXITED(status)) << "status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << child_->err();
    EXPECT_NE(child_->out().find("stopped by"), std::string::npos) << child_->out();
    return child_->out();
  }

  std::unique_ptr<Child> child_;
  TempDir dir_;
};

void expect_stream_echo(const std::string& url) {
  SCOPED_TRACE(url);
  int fd = connect_to(url);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "hello", 5));
  EXPECT_EQ(read_n(fd, 5, true), "hello");
  // Split writes, and a large write that arrives in several pool buffers.
  ASSERT_TRUE(send_all(fd, "ab", 2));
  usleep(10000);
  ASSERT_TRUE(send_all(fd, "cd", 2));
  EXPECT_EQ(read_n(fd, 4, true), "abcd");
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 23);
  ASSERT_TRUE(send_all(fd, big.data(), big.size()));
  // The client writes all before reading: loopback buffers hold 200 kB.
  std::string echoed = read_n(fd, big.size(), true);
  EXPECT_EQ(echoed.size(), big.size());
  EXPECT_TRUE(echoed == big);
  close(fd);
}

void expect_datagram_echo(const std::string& url) {
  SCOPED_TRACE(url);
  int fd = connect_to(url);
  ASSERT_GE(fd, 0);
  for (const char* text : {"one", "two datagrams", "three"}) {
    ASSERT_TRUE(send_all(fd, text, strlen(text)));
    EXPECT_EQ(read_n(fd, 65536, false), text);
  }
  close(fd);
}

// 40 clients at once, alternately on two stream endpoints: all connect, all
// send, then each reads its own echo. They are left open in `fds`.
void echo_many_clients(const std::string& first, const std::string& second, std::vector<int>& fds) {
  for (int i = 0; i < 40; ++i) {
    int fd = connect_to(i % 2 == 0 ? first : second);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    std::string text = "client " + std::to_string(i);
    ASSERT_TRUE(send_all(fds[i], text.data(), text.size()));
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    std::string text = "client " + std::to_string(i);
    EXPECT_EQ(read_n(fds[i], text.size(), true), text);
  }
}

TEST_P(ServeE2E, EchoesOnEverySocketType) {
  auto urls = start({"tcp://127.0.0.1:0", "udp://127.0.0.1:0", "unix://" + dir_.path + "/s",
                     "unix-dgram://" + dir_.path + "/d", "tcp://[::1]:0"});
  ASSERT_EQ(urls.size(), 5u);
  EXPECT_EQ(urls[0].find("tcp://127.0.0.1:"), 0u);
  EXPECT_NE(urls[0], "tcp://127.0.0.1:0");  // the real ephemeral port
  expect_stream_echo(urls[0]);
  expect_datagram_echo(urls[1]);
  expect_stream_echo(urls[2]);
  expect_datagram_echo(urls[3]);
  // IPv6 loopback may be off in a container: only test it when it is there.
  if (int fd = connect_to(urls[4]); fd >= 0) {
    close(fd);
    expect_stream_echo(urls[4]);
  }
  std::string out = stop_cleanly();
  EXPECT_NE(out.find(urls[0] + ": connections 1,"), std::string::npos) << out;
  EXPECT_NE(out.find(urls[1] + ": connections 0, in 3 messages"), std::string::npos) << out;
  EXPECT_NE(out.find(urls[3] + ": connections 0, in 3 messages"), std::string::npos) << out;
  EXPECT_NE(out.find("errors 0"), std::string::npos) << out;
}

TEST_P(ServeE2E, ManyClientsAndThreads) {
  auto urls = start({"tcp://127.0.0.1:0", "udp://127.0.0.1:0", "unix://" + dir_.path + "/s"},
                    {"--threads", "3"});
  ASSERT_EQ(urls.size(), 3u);
  std::vector<int> fds;
  ASSERT_NO_FATAL_FAILURE(echo_many_clients(urls[0], urls[2], fds));
  for (int fd : fds) close(fd);
  expect_datagram_echo(urls[1]);
  std::string out = stop_cleanly();
  EXPECT_NE(out.find(urls[0] + ": connections 20,"), std::string::npos) << out;
  EXPECT_NE(out.find(urls[2] + ": connections 20,"), std::string::npos) << out;
}

// --dispatch handoff: thread 0 accepts and hands the connections to the
// threads in turn (Loop::post_to), itself included; UNIX ones too, which
// SO_REUSEPORT leaves to thread 0 alone.
TEST_P(ServeE2E, HandoffSpreadsConnectionsOverTheThreads) {
  auto urls = start({"tcp://127.0.0.1:0", "udp://127.0.0.1:0", "unix://" + dir_.path + "/s"},
                    // Few slots: quick to start under the sanitizers.
                    {"--threads", "3", "--dispatch", "handoff", "--max-connections", "64"});
  ASSERT_EQ(urls.size(), 3u);
  EXPECT_NE(child_->out().find("3 thread(s) (handoff)"), std::string::npos) << child_->out();
  std::vector<int> fds;
  ASSERT_NO_FATAL_FAILURE(echo_many_clients(urls[0], urls[2], fds));
  expect_stream_echo(urls[0]);
  expect_stream_echo(urls[2]);
  expect_datagram_echo(urls[1]);
  for (int fd : fds) close(fd);
  std::string out = stop_cleanly();
  EXPECT_NE(out.find(urls[0] + ": connections 21,"), std::string::npos) << out;
  EXPECT_NE(out.find(urls[2] + ": connections 21,"), std::string::npos) << out;
  EXPECT_EQ(out.find("no-slot"), std::string::npos) << out;
}

// One connection slot per thread: three UNIX clients at once are served (one
// by each thread, in turn), a fourth comes back to thread 0, which is full.
// With SO_REUSEPORT thread 0 would serve the UNIX endpoint alone and refuse the second.
TEST_P(ServeE2E, HandoffGivesEachThreadItsTurn) {
  auto urls = start({"unix://" + dir_.path + "/s"},
                    {"--threads", "3", "--dispatch", "handoff", "--max-connections", "1"});
  ASSERT_EQ(urls.size(), 1u);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    int fd = connect_to(urls[0]);
    ASSERT_GE(fd, 0);
    std::string text = "turn " + std::to_string(i);
    ASSERT_TRUE(send_all(fd, text.data(), text.size()));
    EXPECT_EQ(read_n(fd, text.size(), true), text);  // served, so adopted before the next
    fds.push_back(fd);
  }
  int fourth = connect_to(urls[0]);
  ASSERT_GE(fourth, 0);
  send_all(fourth, "x", 1);  // served, it would come back
  EXPECT_EQ(read_n(fourth, 1, true), "");  // closed by thread 0: no free slot
  close(fourth);
  for (int fd : fds) close(fd);
  std::string out = stop_cleanly();
  EXPECT_NE(out.find(urls[0] + ": connections 3,"), std::string::npos) << out;
  EXPECT_NE(out.find("no-slot=1"), std::string::npos) << out;
}

TEST_P(ServeE2E, SinkDiscards) {
  auto urls = start({"tcp://127.0.0.1:0", "udp://127.0.0.1:0"}, {"--mode", "sink"});
  ASSERT_EQ(urls.size(), 2u);
  int stream = connect_to(urls[0]);
  int datagram = connect_to(urls[1]);
  ASSERT_GE(stream, 0);
  ASSERT_GE(datagram, 0);
  std::string data(10000, 's');
  ASSERT_TRUE(send_all(stream, data.data(), data.size()));
  ASSERT_TRUE(send_all(datagram, "dropped", 7));
  EXPECT_FALSE(readable_within(stream, 300));
  EXPECT_FALSE(readable_within(datagram, 100));
  close(stream);
  close(datagram);
  usleep(100000);  // let the server read before it is stopped
  std::string out = stop_cleanly();
  EXPECT_NE(out.find("10000 bytes, out 0 messages 0 bytes"), std::string::npos) << out;
  EXPECT_NE(out.find(urls[1] + ": connections 0, in 1 messages 7 bytes, out 0"),
            std::string::npos) << out;
}

TEST_P(ServeE2E, SockperfAnswersPongOnly) {
  auto urls = start({"tcp://127.0.0.1:0", "udp://127.0.0.1:0", "unix://" + dir_.path + "/s"},
                    {"--mode", "sockperf"});
  ASSERT_EQ(urls.size(), 3u);
  for (const std::string& url : {urls[0], urls[2]}) {
    SCOPED_TRACE(url);
    int fd = connect_to(url);
    ASSERT_GE(fd, 0);
    // No PONG: no answer. Then a PONG message split mid-header and
    // coalesced with the next one: both answered, in order, CLIENT cleared.
    std::string quiet = sockperf_message(1, sp::kFlagClient, 10);
    std::string ping2 = sockperf_message(2, sp::kFlagClient | sp::kFlagPong, 100);
    std::string ping3 = sockperf_message(3, sp::kFlagClient | sp::kFlagPong | sp::kFlagWarmup, 0);
    std::string stream = quiet + ping2 + ping3;
    size_t split = quiet.size() + 5;
    ASSERT_TRUE(send_all(fd, stream.data(), split));
    usleep(20000);
    ASSERT_TRUE(send_all(fd, stream.data() + split, stream.size() - split));
    std::string got = read_n(fd, ping2.size() + ping3.size(), true);
    ASSERT_EQ(got.size(), ping2.size() + ping3.size());
    sp::Header h2 = sp::decode(reinterpret_cast<const uint8_t*>(got.data()));
    sp::Header h3 = sp::decode(reinterpret_cast<const uint8_t*>(got.data() + ping2.size()));
    EXPECT_EQ(h2.sequence, 2u);
    EXPECT_EQ(h2.flags, sp::kFlagPong);
    EXPECT_EQ(h3.sequence, 3u);
    EXPECT_EQ(h3.flags, sp::kFlagPong | sp::kFlagWarmup);
    EXPECT_EQ(got.substr(sp::kHeaderBytes, 100), ping2.substr(sp::kHeaderBytes));
    EXPECT_FALSE(readable_within(fd, 100));
    close(fd);
  }
  int fd = connect_to(urls[1]);
  ASSERT_GE(fd, 0);
  std::string quiet = sockperf_message(7, sp::kFlagClient, 20);
  std::string ping = sockperf_message(8, sp::kFlagClient | sp::kFlagPong, 20);
  ASSERT_TRUE(send_all(fd, quiet.data(), quiet.size()));
  ASSERT_TRUE(send_all(fd, ping.data(), ping.size()));
  std::string got = read_n(fd, 65536, false);
  ASSERT_EQ(got.size(), ping.size());
  sp::Header h = sp::decode(reinterpret_cast<const uint8_t*>(got.data()));
  EXPECT_EQ(h.sequence, 8u);
  EXPECT_EQ(h.flags, sp::kFlagPong);
  EXPECT_FALSE(readable_within(fd, 100));
  close(fd);
  std::string out = stop_cleanly();
  EXPECT_NE(out.find(urls[0] + ": connections 1, in 3 messages"), std::string::npos) << out;
  EXPECT_NE(out.find(urls[1] + ": connections 0, in 2 messages 68 bytes, out 1 messages 34"),
            std::string::npos) << out;
}

TEST_P(ServeE2E, AddressInUseExitsOne) {
  int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(taken, 1), 0);
  socklen_t length = sizeof address;
  getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length);
  std::string url = "tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  std::string err;
  EXPECT_EQ(cli_test::run({"serve", "--backend", GetParam(), url}, nullptr, &err), 1);
  EXPECT_NE(err.find("cannot bind " + url), std::string::npos) << err;
  EXPECT_NE(err.find(strerror(EADDRINUSE)), std::string::npos) << err;
  close(taken);
}

// Writes up to `bytes` without reading anything back; stops when the server
// has stopped taking them for half a second. Returns the bytes written.
size_t flood_without_reading(int fd, size_t bytes) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string block(65536, 'f');
  size_t written = 0;
  while (written < bytes) {
    ssize_t n = send(fd, block.data(), std::min(block.size(), bytes - written), MSG_NOSIGNAL);
    if (n > 0) {
      written += size_t(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) break;
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 500) <= 0) break;
  }
  return written;
}

// One client that writes ~11 MB and never reads its echo must not stall the
// other clients of the same server (TCP and UNIX endpoints alike): its
// connection stops receiving at --max-lent buffers instead of emptying the pool.
TEST_P(ServeE2E, AClientThatDoesNotReadStallsNobodyElse) {
  auto urls = start({"tcp://127.0.0.1:0", "unix://" + dir_.path + "/s"});
  ASSERT_EQ(urls.size(), 2u);
  int hog = connect_to(urls[0]);
  ASSERT_GE(hog, 0);
  size_t written = flood_without_reading(hog, 11u << 20);
  EXPECT_GT(written, size_t(2) << 20);  // more than the whole pool (512 x 4 KiB)
  for (const std::string& url : urls) {
    SCOPED_TRACE(url);
    std::string out, err;
    int code = cli_test::run_load({url, "--connections", "4", "--duration", "1s",
                                   "--backend", GetParam()},
                                  &out, &err);
    EXPECT_EQ(code, 0) << out << err;
    EXPECT_EQ(out.find("replies verified 0"), std::string::npos) << out;
    EXPECT_EQ(out.find("timeout"), std::string::npos) << out;
  }
  // Paused, not dropped: once it reads, every byte comes back.
  fcntl(hog, F_SETFL, fcntl(hog, F_GETFL) & ~O_NONBLOCK);
  std::string echoed = read_n(hog, written, true);
  EXPECT_EQ(echoed.size(), written);
  EXPECT_EQ(echoed.find_first_not_of('f'), std::string::npos);
  close(hog);
  stop_cleanly();
}

// The same in sockperf mode: a client that pipelines ~8 MB of PONG
// requests and does not read stalls nobody else, and once it reads it gets
// every reply, in order (they wait in their pool buffers under --max-lent:
// none is dropped for want of room in the connection's out buffer).
TEST_P(ServeE2E, ASockperfClientThatDoesNotReadGetsEveryReplyOnceItReads) {
  auto urls = start({"tcp://127.0.0.1:0", "unix://" + dir_.path + "/s"}, {"--mode", "sockperf"});
  ASSERT_EQ(urls.size(), 2u);
  constexpr size_t kMessage = 1000;
  std::string requests;
  for (uint64_t i = 0; i < 8000; ++i) {
    requests += sockperf_message(i, sp::kFlagClient | sp::kFlagPong, kMessage - sp::kHeaderBytes);
  }
  for (const std::string& url : urls) {
    SCOPED_TRACE(url);
    int hog = connect_to(url);
    ASSERT_GE(hog, 0);
    fcntl(hog, F_SETFL, fcntl(hog, F_GETFL) | O_NONBLOCK);
    size_t written = 0;
    while (written < requests.size()) {
      ssize_t n = send(hog, requests.data() + written, requests.size() - written, MSG_NOSIGNAL);
      if (n > 0) {
        written += size_t(n);
        continue;
      }
      pollfd p{hog, POLLOUT, 0};
      if ((n < 0 && errno != EAGAIN) || poll(&p, 1, 500) <= 0) break;
    }
    EXPECT_GT(written, size_t(256) << 10);  // more than the out buffer (128 KiB) and the cap
    std::string out, err;
    int code = cli_test::run_load({url, "--sockperf", "--connections", "2", "--count", "2000",
                                   "--backend", GetParam()},
                                  &out, &err);
    EXPECT_EQ(code, 0) << out << err;
    EXPECT_NE(out.find("replies verified 2000"), std::string::npos) << out;
    fcntl(hog, F_SETFL, fcntl(hog, F_GETFL) & ~O_NONBLOCK);
    timeval bound{5, 0};  // a reply that never comes ends the read, not the test run
    setsockopt(hog, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    const size_t whole = written / kMessage;
    std::string got = read_n(hog, whole * kMessage, true);
    ASSERT_EQ(got.size(), whole * kMessage);
    size_t out_of_order = 0;
    for (size_t i = 0; i < whole; ++i) {
      sp::Header h = sp::decode(reinterpret_cast<const uint8_t*>(got.data() + i * kMessage));
      out_of_order += h.sequence != i || h.flags != sp::kFlagPong;
    }
    EXPECT_EQ(out_of_order, 0u);
    close(hog);
  }
  std::string out = stop_cleanly();
  EXPECT_EQ(out.find("backlog="), std::string::npos) << out;
}

bool is_socket_file(const std::string& path) {
  struct stat status {};
  return lstat(path.c_str(), &status) == 0 && S_ISSOCK(status.st_mode);
}

// Waits (bounded) until nothing accepts on the UNIX socket at `path`: a
// killed io_uring server's ring is torn down by the kernel after the process
// has been reaped, and its socket lives until then. False if it never goes.
bool wait_until_refused(const std::string& path, int type) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  for (int attempt = 0; attempt < 500; ++attempt) {  // 500 x 10 ms
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return false;
    int rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    int error = rc == 0 ? 0 : errno;
    close(fd);
    if (error == ECONNREFUSED) return true;
    usleep(10'000);
  }
  return false;
}

// A server killed with SIGKILL leaves its socket file: binding it again says
// what to do, and --unlink-stale replaces it.
TEST_P(ServeE2E, AStaleUnixSocketFileIsReplacedWithUnlinkStale) {
  for (const std::string transport : {"unix", "unix-dgram"}) {
    SCOPED_TRACE(transport);
    std::string path = dir_.path + "/stale-" + transport;
    std::string url = transport + "://" + path;
    {
      Child killed({"serve", "--backend", GetParam(), url});
      ASSERT_EQ(killed.wait_lines("listening ", 1, cli_test::kStartMs).size(), 1u) << killed.err();
      killed.stop(SIGKILL, kStopMs);
    }
    ASSERT_TRUE(is_socket_file(path));
    ASSERT_TRUE(wait_until_refused(path, transport == "unix" ? SOCK_STREAM : SOCK_DGRAM));
    std::string err;
    EXPECT_EQ(cli_test::run({"serve", "--backend", GetParam(), url}, nullptr, &err), 1);
    EXPECT_NE(err.find(strerror(EADDRINUSE)), std::string::npos) << err;
    EXPECT_NE(err.find("stale socket file? use --unlink-stale"), std::string::npos) << err;
    auto urls = start({url}, {"--unlink-stale"});
    ASSERT_EQ(urls.size(), 1u);
    if (transport == "unix") expect_stream_echo(urls[0]);
    else expect_datagram_echo(urls[0]);
    stop_cleanly();
    EXPECT_FALSE(is_socket_file(path));  // removed at a clean stop
  }
}

// --unlink-stale never takes the path of a server that is alive.
TEST_P(ServeE2E, UnlinkStaleLeavesALiveServerAlone) {
  std::string url = "unix://" + dir_.path + "/live";
  auto urls = start({url});
  ASSERT_EQ(urls.size(), 1u);
  std::string err;
  EXPECT_EQ(cli_test::run({"serve", "--backend", GetParam(), url, "--unlink-stale"}, nullptr, &err),
            1);
  EXPECT_NE(err.find("a server is listening there"), std::string::npos) << err;
  expect_stream_echo(urls[0]);
  stop_cleanly();
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeE2E, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

TEST(CliE2E, BadArgumentsExitTwo) {
  std::string err;
  EXPECT_EQ(cli_test::run({"serve", "tcp://127.0.0.1:99999"}, nullptr, &err), 2);
  EXPECT_NE(err.find("tcp://127.0.0.1:99999"), std::string::npos) << err;
  EXPECT_EQ(cli_test::run({"serve", "tcp://127.0.0.1:0", "--threads", "zero"}, nullptr, &err), 2);
  EXPECT_NE(err.find("--threads"), std::string::npos) << err;
  EXPECT_EQ(cli_test::run({"load", "tcp://127.0.0.1:1", "--mode", "flood"}, nullptr, &err), 2);
  EXPECT_EQ(cli_test::run({}, nullptr, &err), 2);
}

TEST(CliE2E, HelpVersionProbe) {
  std::string out;
  EXPECT_EQ(cli_test::run({"--help"}, &out, nullptr), 0);
  EXPECT_NE(out.find("ringsock serve"), std::string::npos);
  EXPECT_EQ(cli_test::run({"--version"}, &out, nullptr), 0);
  EXPECT_EQ(out.find("ringsock "), 0u);
  EXPECT_EQ(cli_test::run({"probe"}, &out, nullptr), 0);
  EXPECT_NE(out.find("backend:"), std::string::npos) << out;
  EXPECT_NE(out.find("kernel:"), std::string::npos) << out;
  EXPECT_NE(out.find("RINGSOCK_BACKEND:"), std::string::npos) << out;
}

// sockperf itself, when installed (it is not by default): its ping-pong
// against our sockperf mode, TCP and UDP.
}  // namespace
