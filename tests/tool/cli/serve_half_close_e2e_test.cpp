// `ringsock serve` and a client that half-closes: a client that sends, then
// shutdown(SHUT_WR), still gets its whole echo (sockperf: every reply), and
// only then does the server close. TCP and UNIX streams, both backends; the
// binary as a child process, a plain non-blocking client; each run is bounded.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "e2e_support.hpp"
#include "ringsock/endpoint.hpp"
#include "sockperf.hpp"

namespace {

using cli_test::backend_starts;
using cli_test::Case;
using cli_test::case_name;
using cli_test::Server;
using cli_test::TempDir;
namespace sp = ringsock_cli::sockperf;

constexpr int kExchangeMs = 20000;  // a bound, not an expectation: it takes milliseconds

int connect_nonblocking(const std::string& url) {
  ringsock::Endpoint ep;
  if (ringsock::parse_endpoint(url, ep).error != 0) return -1;
  int fd = socket(ep.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, ep.address(), ep.length) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

std::string pattern(size_t length) {
  std::string bytes(length, '\0');
  for (size_t i = 0; i < length; ++i) bytes[i] = char(i * 7 + (i >> 11));
  return bytes;
}

struct Exchange {
  size_t sent = 0;
  std::string received;
  bool eof = false;    // the server closed its side
  std::string failure;  // why the exchange stopped early
};

// Sends `data` in `message` sized sends, then shutdown(SHUT_WR), then reads
// until the server's end of stream. It reads only while it cannot send, so
// echo is still queued at the server when the client's end arrives there.
Exchange send_then_half_close(int fd, const std::string& data, size_t message) {
  Exchange x;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kExchangeMs);
  bool shut = false;
  char buffer[65536];
  while (!x.eof) {
    if (!shut && x.sent == data.size()) {
      if (shutdown(fd, SHUT_WR) != 0) {
        x.failure = std::string("shutdown: ") + strerror(errno);
        return x;
      }
      shut = true;
    }
    if (!shut) {
      size_t length = std::min(message, data.size() - x.sent);
      ssize_t n = send(fd, data.data() + x.sent, length, MSG_NOSIGNAL);
      if (n > 0) {
        x.sent += size_t(n);
        continue;
      }
      if (n < 0 && errno != EAGAIN) {
        x.failure = std::string("send: ") + strerror(errno);
        return x;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      x.failure = "no end of stream within the bound";
      return x;
    }
    pollfd p{fd, short(POLLIN | (shut ? 0 : POLLOUT)), 0};
    if (poll(&p, 1, int(left.count())) < 0 && errno != EINTR) {
      x.failure = std::string("poll: ") + strerror(errno);
      return x;
    }
    if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      x.received.append(buffer, size_t(n));
    } else if (n == 0) {
      x.eof = true;
    } else if (errno != EAGAIN) {
      x.failure = std::string("recv: ") + strerror(errno);
      return x;
    }
  }
  return x;
}

class ServeHalfClose : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (!backend_starts(GetParam().backend)) GTEST_SKIP() << "backend cannot start here";
  }
  std::string endpoint() const {
    if (GetParam().transport == "tcp") return "tcp://127.0.0.1:0";
    return "unix://" + dir_.path + "/serve.sock";
  }
  TempDir dir_;
};

void expect_whole_echo(const std::string& url, size_t length, size_t message) {
  SCOPED_TRACE(testing::Message() << length << " bytes in " << message << " byte sends");
  int fd = connect_nonblocking(url);
  ASSERT_GE(fd, 0) << strerror(errno);
  std::string data = pattern(length);
  Exchange x = send_then_half_close(fd, data, message);
  close(fd);
  EXPECT_EQ(x.failure, "");
  EXPECT_EQ(x.sent, length);
  EXPECT_TRUE(x.eof);
  EXPECT_EQ(x.received.size(), length);
  EXPECT_TRUE(x.received == data) << "the echo differs from what was sent";
}

TEST_P(ServeHalfClose, EchoGoesOutWhole) {
  Server server(endpoint(), "echo", GetParam().backend);
  ASSERT_FALSE(server.url().empty());
  // 1 MiB in messages (more than the pool: receiving pauses and resumes on the
  // way), then one message sent right before the end (both arrive together).
  expect_whole_echo(server.url(), 1 << 20, 1000);
  expect_whole_echo(server.url(), 100, 100);
  std::string out = server.stop();
  EXPECT_NE(out.find(": connections 2,"), std::string::npos) << out;
  EXPECT_NE(out.find("errors 0"), std::string::npos) << out;
}

// Requests and the end arrive together: every reply still goes out. (Fewer
// than the server's reply buffer holds: a client that does not read gets its
// surplus replies dropped, which is not what this is about.)
TEST_P(ServeHalfClose, SockperfRepliesGoOutWhole) {
  Server server(endpoint(), "sockperf", GetParam().backend);
  ASSERT_FALSE(server.url().empty());
  int fd = connect_nonblocking(server.url());
  ASSERT_GE(fd, 0) << strerror(errno);
  constexpr int kRequests = 200;
  constexpr size_t kBytes = 64;
  std::string requests;
  for (int i = 0; i < kRequests; ++i) {
    std::string m(kBytes, 'q');
    sp::encode(sp::Header{uint64_t(i), uint16_t(sp::kFlagClient | sp::kFlagPong), uint32_t(kBytes)},
               reinterpret_cast<uint8_t*>(m.data()));
    requests += m;
  }
  Exchange x = send_then_half_close(fd, requests, requests.size());
  close(fd);
  EXPECT_EQ(x.failure, "");
  EXPECT_TRUE(x.eof);
  ASSERT_EQ(x.received.size(), requests.size());  // a reply per request, as long
  for (int i = 0; i < kRequests; ++i) {
    sp::Header h = sp::decode(reinterpret_cast<const uint8_t*>(x.received.data()) + i * kBytes);
    ASSERT_EQ(h.sequence, uint64_t(i));
    ASSERT_EQ(h.flags, sp::kFlagPong);
  }
  std::string out = server.stop();
  EXPECT_NE(out.find("errors 0"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Streams, ServeHalfClose,
                         ::testing::Values(Case{"tcp", "uring"}, Case{"tcp", "epoll"},
                                           Case{"unix", "uring"}, Case{"unix", "epoll"}),
                         case_name);

}  // namespace
