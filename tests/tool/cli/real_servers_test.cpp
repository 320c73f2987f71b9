// The request, framing and check logic of `ringsock load` against real
// servers, over plain blocking sockets: redis (RESP), memcached (text lines),
// nginx (HTTP/1.1 keep-alive) and dnsmasq (DNS over UDP). Each test starts
// its server on a free loopback port and stops it; a missing server skips.
#include "real_servers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "logic/escape.hpp"
#include "logic/reply_check.hpp"
#include "logic/reply_framing.hpp"
#include "logic/request_template.hpp"

namespace cli_test {
namespace {

namespace tool = ringsock::tool;

constexpr int kReplyTimeoutMs = 5000;
constexpr std::size_t kMaxReply = 65536;

std::unique_ptr<RealServer> started(ServerKind kind) {
  auto server = RealServer::start(kind);
  return server;
}

#define START_OR_SKIP(server, kind)                                   \
  auto server = started(kind);                                        \
  if (server->missing()) GTEST_SKIP() << server->why();               \
  ASSERT_TRUE(server->running()) << server->why()

// A blocking socket connected to 127.0.0.1:port (TCP or UDP), closed at the end.
struct PlainSocket {
  int fd = -1;
  PlainSocket(int type, uint16_t port) {
    fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      fd = -1;
    }
  }
  ~PlainSocket() {
    if (fd >= 0) close(fd);
  }
  bool send_all(const std::string& bytes) const {
    for (std::size_t at = 0; at < bytes.size();) {
      const ssize_t n = send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += std::size_t(n);
    }
    return true;
  }
  // One read of what has arrived, waiting up to timeout_ms; "" on a timeout or close.
  std::string receive_some(int timeout_ms) const {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return "";
    char buffer[4096];
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, std::size_t(n)) : "";
  }
};

struct Reply {
  std::string bytes;
  int status = 0;
};

// Reads from a stream and frames until `count` replies came (or a framing
// error, a close, or the timeout).
std::vector<Reply> read_replies(const PlainSocket& s, tool::ReplyAssembler& assembler,
                                std::size_t count, std::string* framing_error = nullptr) {
  std::vector<Reply> replies;
  while (replies.size() < count) {
    const std::string chunk = s.receive_some(kReplyTimeoutMs);
    if (chunk.empty()) break;
    const bool ok = assembler.feed(
        {reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size()},
        [&](std::span<const std::uint8_t> r, const tool::ReplyFramer& f) {
          replies.push_back({std::string(reinterpret_cast<const char*>(r.data()), r.size()),
                             f.http_status()});
        });
    if (!ok) {
      if (framing_error != nullptr) *framing_error = std::string(assembler.framer().error());
      break;
    }
  }
  return replies;
}

tool::FramingSpec framing(bool (*parse)(std::string_view, tool::FramingSpec&, std::string&),
                          std::string_view text) {
  tool::FramingSpec spec;
  std::string error;
  EXPECT_TRUE(parse(text, spec, error)) << error;
  return spec;
}

tool::ReplyChecker checker(
    std::vector<std::pair<bool (*)(std::string_view, tool::ReplyCheckSpec&, std::string&),
                          std::string_view>> checks) {
  std::vector<tool::ReplyCheckSpec> specs;
  std::string error;
  for (const auto& [parse, text] : checks) {
    specs.emplace_back();
    EXPECT_TRUE(parse(text, specs.back(), error)) << error;
  }
  tool::ReplyChecker c;
  EXPECT_TRUE(c.init(std::move(specs), error)) << error;
  return c;
}

bool passes(tool::ReplyChecker& c, const Reply& r) {
  return c.check(reinterpret_cast<const std::uint8_t*>(r.bytes.data()), r.bytes.size(), r.status);
}

// Renders `count` messages of a request cycle back to back, as one send.
std::string render_all(const tool::RequestCycle& cycle, std::uint64_t first, std::size_t count) {
  std::string out;
  std::vector<std::uint8_t> buffer(cycle.max_size());
  for (std::uint64_t seq = first; seq < first + count; ++seq) {
    const std::size_t n =
        cycle.render({.sequence = seq, .connection = 0, .seed = 1}, buffer.data(), buffer.size());
    out.append(reinterpret_cast<const char*>(buffer.data()), n);
  }
  return out;
}

tool::RequestCycle cycle_of(std::vector<std::string_view> texts) {
  tool::RequestCycle cycle;
  for (std::string_view text : texts) {
    std::string decoded, error;
    EXPECT_TRUE(tool::decode_escapes(text, decoded, error)) << error;
    tool::RequestTemplate t;
    EXPECT_TRUE(tool::RequestTemplate::compile(decoded, t, error)) << error;
    cycle.add(std::move(t));
  }
  return cycle;
}

TEST(RealServer, MissingProgramIsReportedNotFound) { EXPECT_EQ(find_program("no-such-program-x"), ""); }

TEST(RealServer, RedisPingPipelinedWithTheRespFramer) {
  START_OR_SKIP(server, ServerKind::redis);
  PlainSocket s(SOCK_STREAM, server->port());
  ASSERT_GE(s.fd, 0);
  tool::RequestCycle ping = cycle_of({"*1\\r\\n$4\\r\\nPING\\r\\n"});
  ASSERT_TRUE(s.send_all(render_all(ping, 0, 16)));  // 16 in flight, one write
  tool::ReplyAssembler replies(framing(tool::parse_reply_protocol, "resp"), kMaxReply);
  tool::ReplyChecker pong = checker({{tool::parse_expect, "+PONG\\r\\n"}});
  const auto got = read_replies(s, replies, 16);
  ASSERT_EQ(got.size(), 16u);
  for (const Reply& r : got) EXPECT_TRUE(passes(pong, r)) << pong.failure_report();
  EXPECT_EQ(pong.checked(), 16u);
  server->stop();
  EXPECT_FALSE(server->running());
}

TEST(RealServer, RedisSetThenGetWithPlaceholdersAndNestedReplies) {
  START_OR_SKIP(server, ServerKind::redis);
  PlainSocket s(SOCK_STREAM, server->port());
  ASSERT_GE(s.fd, 0);
  // SET k:{round} then GET k:{round}: each GET reads what the SET before it wrote.
  tool::RequestCycle set_get = cycle_of({"SET k:{round} v{seq}\\r\\n", "GET k:{round}\\r\\n"});
  ASSERT_TRUE(s.send_all(render_all(set_get, 0, 8)));
  tool::ReplyAssembler replies(framing(tool::parse_reply_protocol, "resp"), kMaxReply);
  const auto got = read_replies(s, replies, 8);
  ASSERT_EQ(got.size(), 8u);
  tool::ReplyChecker ok = checker({{tool::parse_expect, "+OK\\r\\n"}});
  tool::ReplyChecker value = checker({{tool::parse_expect_regex, "^\\$2\r\nv[0246]\r\n$"}});
  for (std::size_t i = 0; i < got.size(); i += 2) {
    EXPECT_TRUE(passes(ok, got[i])) << ok.failure_report();
    EXPECT_TRUE(passes(value, got[i + 1])) << value.failure_report();
    EXPECT_EQ(got[i + 1].bytes, "$2\r\nv" + std::to_string(i) + "\r\n");
  }
  // An array of bulk strings and a null, nested in one more array by MULTI/EXEC.
  ASSERT_TRUE(s.send_all("MULTI\r\nMGET k:0 k:9 k:2\r\nEXEC\r\n"));
  const auto exec = read_replies(s, replies, 3);
  ASSERT_EQ(exec.size(), 3u);
  EXPECT_EQ(exec[2].bytes, "*1\r\n*3\r\n$2\r\nv0\r\n$-1\r\n$2\r\nv4\r\n");
}

TEST(RealServer, RedisCheckThatMustFailReportsTheReply) {
  START_OR_SKIP(server, ServerKind::redis);
  PlainSocket s(SOCK_STREAM, server->port());
  ASSERT_GE(s.fd, 0);
  ASSERT_TRUE(s.send_all("NOSUCHCOMMAND\r\n"));
  tool::ReplyAssembler replies(framing(tool::parse_reply_protocol, "resp"), kMaxReply);
  tool::ReplyChecker pong = checker({{tool::parse_expect_prefix, "+"}});
  const auto got = read_replies(s, replies, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(passes(pong, got[0]));
  EXPECT_NE(pong.failure_report().find("got:      \"-ERR unknown command"), std::string::npos)
      << pong.failure_report();
}

TEST(RealServer, MemcachedSetAndGetWithReplyUntil) {
  START_OR_SKIP(server, ServerKind::memcached);
  PlainSocket s(SOCK_STREAM, server->port());
  ASSERT_GE(s.fd, 0);
  tool::RequestCycle set = cycle_of({"set k:{seq} 0 0 5\\r\\nhello\\r\\n"});
  ASSERT_TRUE(s.send_all(render_all(set, 0, 4)));
  tool::ReplyAssembler lines(framing(tool::parse_reply_until, "\\r\\n"), kMaxReply);
  tool::ReplyChecker stored = checker({{tool::parse_expect, "STORED\\r\\n"}});
  const auto got = read_replies(s, lines, 4);
  ASSERT_EQ(got.size(), 4u);
  for (const Reply& r : got) EXPECT_TRUE(passes(stored, r)) << stored.failure_report();

  tool::RequestCycle get = cycle_of({"get k:{seq}\\r\\n"});
  ASSERT_TRUE(s.send_all(render_all(get, 0, 4)));
  tool::ReplyAssembler values(framing(tool::parse_reply_until, "END\\r\\n"), kMaxReply);
  tool::ReplyChecker value =
      checker({{tool::parse_expect_regex, "^VALUE k:[0-9]+ 0 5\r\nhello\r\nEND\r\n$"}});
  const auto read = read_replies(s, values, 4);
  ASSERT_EQ(read.size(), 4u);
  for (const Reply& r : read) EXPECT_TRUE(passes(value, r)) << value.failure_report();
  EXPECT_EQ(read[3].bytes, "VALUE k:3 0 5\r\nhello\r\nEND\r\n");
}

TEST(RealServer, NginxKeepAliveGetWithTheHttpFramer) {
  START_OR_SKIP(server, ServerKind::nginx);
  PlainSocket s(SOCK_STREAM, server->port());
  ASSERT_GE(s.fd, 0);
  const std::string get = "GET /index.html HTTP/1.1\r\nHost: test\r\n\r\n";
  ASSERT_TRUE(s.send_all(get + get + get + "GET /missing HTTP/1.1\r\nHost: test\r\n\r\n"));
  tool::ReplyAssembler replies(framing(tool::parse_reply_protocol, "http"), kMaxReply);
  const auto got = read_replies(s, replies, 4);
  ASSERT_EQ(got.size(), 4u);
  tool::ReplyChecker ok = checker({{tool::parse_expect_status, "200"},
                                   {tool::parse_expect_regex, "ringsock test page</body></html>\n$"}});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(passes(ok, got[i])) << ok.failure_report();
  EXPECT_EQ(got[3].status, 404);
  tool::ReplyChecker success = checker({{tool::parse_expect_status, "2xx"}});
  EXPECT_FALSE(passes(success, got[3]));
  EXPECT_NE(success.failure_report().find("its status was 404"), std::string::npos);
  EXPECT_NE(success.failure_report().find("got:      \"HTTP/1.1 404 Not Found\\r\\n"),
            std::string::npos)
      << success.failure_report();
}

// A DNS query for NAME, type A, class IN, with id and RD set.
std::string dns_query(std::uint16_t id, const std::string& name) {
  std::string q;
  q += char(id >> 8);
  q += char(id & 0xff);
  q += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  for (std::size_t start = 0; start <= name.size();) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q += char(dot - start);
    q += name.substr(start, dot - start);
    start = dot + 1;
  }
  q += std::string("\x00\x00\x01\x00\x01", 5);
  return q;
}

TEST(RealServer, DnsmasqAnswersAUdpQueryCheckedByItsIdPrefix) {
  START_OR_SKIP(server, ServerKind::dnsmasq);
  PlainSocket s(SOCK_DGRAM, server->port());
  ASSERT_GE(s.fd, 0);
  ASSERT_TRUE(s.send_all(dns_query(0xBEEF, "a.example.test")));
  const std::string reply = s.receive_some(kReplyTimeoutMs);  // one datagram, one reply
  ASSERT_GE(reply.size(), 12u);
  tool::ReplyChecker id = checker({{tool::parse_expect_prefix, "\\xbe\\xef"}});
  EXPECT_TRUE(passes(id, {reply, 0})) << id.failure_report();
  EXPECT_EQ(reply.substr(6, 2), std::string("\x00\x01", 2));  // one answer
  EXPECT_EQ(reply.substr(reply.size() - 4), std::string("\x7f\x00\x00\x01", 4));  // 127.0.0.1
  tool::ReplyChecker wrong = checker({{tool::parse_expect_prefix, "\\xbe\\xee"}});
  EXPECT_FALSE(passes(wrong, {reply, 0}));
  EXPECT_NE(wrong.failure_report().find("got:      \"\\xbe\\xef"), std::string::npos)
      << wrong.failure_report();
}

TEST(RealServer, StopEndsTheProcessAndIsIdempotent) {
  START_OR_SKIP(server, ServerKind::memcached);
  const uint16_t port = server->port();
  server->stop();
  server->stop();
  EXPECT_FALSE(server->running());
  PlainSocket s(SOCK_STREAM, port);
  EXPECT_LT(s.fd, 0);  // nobody listens any more
}

}  // namespace
}  // namespace cli_test
