// Endpoint URL parsing, formatting and sockaddr import.
#include "ringsock/endpoint.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ringsock {
namespace {

using namespace std::string_view_literals;

constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);

// An Endpoint whose every byte (padding included) is a known non-zero value,
// to prove a failed parse does not write anything.
Endpoint sentinel_endpoint() {
  Endpoint endpoint;
  std::memset(static_cast<void*>(&endpoint), 0xA5, sizeof endpoint);
  return endpoint;
}

bool same_bytes(const Endpoint& a, const Endpoint& b) {
  return std::memcmp(static_cast<const void*>(&a), static_cast<const void*>(&b), sizeof a) == 0;
}

// Meaningful equality: transport, length and every storage byte (parse zero-fills the rest).
bool same_endpoint(const Endpoint& a, const Endpoint& b) {
  return a.transport == b.transport && a.length == b.length &&
         std::memcmp(&a.storage, &b.storage, sizeof a.storage) == 0;
}

Endpoint parse_ok(std::string_view url) {
  Endpoint endpoint;
  ParseResult result = parse_endpoint(url, endpoint);
  EXPECT_EQ(result.error, 0) << url << ": " << result.message;
  return endpoint;
}

std::string format(const Endpoint& endpoint) {
  char text[kEndpointUrlMax];
  int size = format_endpoint(endpoint, text, sizeof text);
  EXPECT_GT(size, 0);
  return size > 0 ? std::string(text, static_cast<size_t>(size)) : std::string();
}

const sockaddr_in& v4(const Endpoint& endpoint) {
  return *reinterpret_cast<const sockaddr_in*>(&endpoint.storage);
}
const sockaddr_in6& v6(const Endpoint& endpoint) {
  return *reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
}
const sockaddr_un& un(const Endpoint& endpoint) {
  return *reinterpret_cast<const sockaddr_un*>(&endpoint.storage);
}

// ---------------------------------------------------------------- accepted forms

TEST(EndpointParse, Ipv4Tcp) {
  Endpoint endpoint = parse_ok("tcp://127.0.0.1:9000");
  EXPECT_EQ(endpoint.transport, Transport::tcp);
  EXPECT_EQ(endpoint.family(), AF_INET);
  EXPECT_EQ(endpoint.socket_type(), SOCK_STREAM);
  EXPECT_TRUE(endpoint.is_stream());
  EXPECT_EQ(endpoint.length, sizeof(sockaddr_in));
  EXPECT_EQ(ntohs(v4(endpoint).sin_port), 9000);
  EXPECT_EQ(ntohl(v4(endpoint).sin_addr.s_addr), 0x7f000001u);
  EXPECT_EQ(endpoint.address(), reinterpret_cast<const sockaddr*>(&endpoint.storage));
}

TEST(EndpointParse, Ipv4UdpAndExtremes) {
  Endpoint any = parse_ok("udp://0.0.0.0:5353");
  EXPECT_EQ(any.transport, Transport::udp);
  EXPECT_EQ(any.socket_type(), SOCK_DGRAM);
  EXPECT_FALSE(any.is_stream());
  EXPECT_EQ(v4(any).sin_addr.s_addr, htonl(INADDR_ANY));
  EXPECT_EQ(ntohs(v4(any).sin_port), 5353);

  Endpoint top = parse_ok("tcp://255.255.255.255:65535");
  EXPECT_EQ(v4(top).sin_addr.s_addr, 0xffffffffu);
  EXPECT_EQ(ntohs(v4(top).sin_port), 65535);

  Endpoint zero_port = parse_ok("tcp://10.0.100.1:0");
  EXPECT_EQ(ntohs(v4(zero_port).sin_port), 0);
  EXPECT_EQ(ntohl(v4(zero_port).sin_addr.s_addr), 0x0a006401u);
}

TEST(EndpointParse, Localhost) {
  Endpoint endpoint = parse_ok("tcp://localhost:80");
  EXPECT_EQ(endpoint.family(), AF_INET);
  EXPECT_EQ(v4(endpoint).sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  EXPECT_EQ(ntohs(v4(endpoint).sin_port), 80);
  EXPECT_TRUE(same_endpoint(endpoint, parse_ok("tcp://127.0.0.1:80")));
}

TEST(EndpointParse, Ipv6) {
  Endpoint loopback = parse_ok("tcp://[::1]:9000");
  EXPECT_EQ(loopback.family(), AF_INET6);
  EXPECT_EQ(loopback.length, sizeof(sockaddr_in6));
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&v6(loopback).sin6_addr));
  EXPECT_EQ(ntohs(v6(loopback).sin6_port), 9000);
  EXPECT_EQ(v6(loopback).sin6_scope_id, 0u);
  EXPECT_EQ(v6(loopback).sin6_flowinfo, 0u);

  Endpoint any = parse_ok("udp://[::]:0");
  EXPECT_EQ(any.transport, Transport::udp);
  EXPECT_TRUE(IN6_IS_ADDR_UNSPECIFIED(&v6(any).sin6_addr));
  EXPECT_EQ(ntohs(v6(any).sin6_port), 0);

  Endpoint mapped = parse_ok("udp://[::ffff:1.2.3.4]:53");
  EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&v6(mapped).sin6_addr));

  Endpoint full = parse_ok("tcp://[2001:db8:0:0:0:0:0:1]:65535");
  EXPECT_TRUE(same_endpoint(full, parse_ok("tcp://[2001:db8::1]:65535")));
}

TEST(EndpointParse, Ipv6ZoneIndexAndName) {
  Endpoint indexed = parse_ok("tcp://[fe80::1%1]:80");
  EXPECT_EQ(v6(indexed).sin6_scope_id, 1u);
  Endpoint big = parse_ok("tcp://[fe80::1%4294967295]:80");
  EXPECT_EQ(v6(big).sin6_scope_id, 4294967295u);

  unsigned lo = if_nametoindex("lo");
  if (lo == 0) GTEST_SKIP() << "no loopback interface named lo";
  Endpoint named = parse_ok("tcp://[fe80::1%lo]:80");
  EXPECT_EQ(v6(named).sin6_scope_id, lo);
}

TEST(EndpointParse, UnixPaths) {
  Endpoint absolute = parse_ok("unix:///run/a.sock");
  EXPECT_EQ(absolute.transport, Transport::unix_stream);
  EXPECT_EQ(absolute.family(), AF_UNIX);
  EXPECT_EQ(absolute.socket_type(), SOCK_STREAM);
  EXPECT_STREQ(un(absolute).sun_path, "/run/a.sock");
  EXPECT_EQ(absolute.length, kPathOffset + std::strlen("/run/a.sock") + 1);

  Endpoint relative = parse_ok("unix-dgram://run/b.sock");
  EXPECT_EQ(relative.transport, Transport::unix_dgram);
  EXPECT_EQ(relative.socket_type(), SOCK_DGRAM);
  EXPECT_STREQ(un(relative).sun_path, "run/b.sock");
  EXPECT_EQ(relative.length, kPathOffset + std::strlen("run/b.sock") + 1);

  Endpoint dotted = parse_ok("unix://./c.sock");
  EXPECT_STREQ(un(dotted).sun_path, "./c.sock");
}

TEST(EndpointParse, UnixAbstract) {
  Endpoint endpoint = parse_ok("unix://@ringsock.name");
  EXPECT_EQ(endpoint.family(), AF_UNIX);
  EXPECT_EQ(un(endpoint).sun_path[0], '\0');
  EXPECT_EQ(std::memcmp(un(endpoint).sun_path + 1, "ringsock.name", 13), 0);
  EXPECT_EQ(endpoint.length, kPathOffset + 1 + 13);

  Endpoint dgram = parse_ok("unix-dgram://@x");
  EXPECT_EQ(dgram.transport, Transport::unix_dgram);
  EXPECT_EQ(dgram.length, kPathOffset + 2);
}

TEST(EndpointParse, UnixLengthLimits) {
  std::string path(107, 'p');  // 107 bytes: fits with its NUL
  path[0] = '/';
  Endpoint longest = parse_ok("unix://" + path);
  EXPECT_EQ(longest.length, sizeof(sockaddr_un));
  EXPECT_EQ(std::string(un(longest).sun_path), path);

  std::string name(107, 'n');
  Endpoint abstract = parse_ok("unix://@" + name);
  EXPECT_EQ(abstract.length, sizeof(sockaddr_un));
}

TEST(EndpointParse, SuccessReportsOk) {
  Endpoint endpoint;
  ParseResult result = parse_endpoint("tcp://1.2.3.4:5", endpoint);
  EXPECT_EQ(result.error, 0);
  EXPECT_STREQ(result.message, "ok");
}

TEST(EndpointParse, OverwritesPreviousValueCompletely) {
  Endpoint endpoint = parse_ok("unix:///a/long/path/that/fills/bytes.sock");
  Endpoint fresh = parse_ok("tcp://1.2.3.4:5");
  ASSERT_EQ(parse_endpoint("tcp://1.2.3.4:5", endpoint).error, 0);
  EXPECT_TRUE(same_endpoint(endpoint, fresh));
}

// ---------------------------------------------------------------- rejections

std::vector<std::string> malformed_urls() {
  std::vector<std::string> urls = {
      "", "tcp", "tcp:", "tcp:/1.2.3.4:80", "tcp//1.2.3.4:80", "://1.2.3.4:80",
      "TCP://1.2.3.4:80", "Tcp://1.2.3.4:80", "http://1.2.3.4:80", "udp6://[::1]:80",
      "unix-stream:///x", "unix:/tmp/a",
      "tcp://", "tcp://:80", "tcp://1.2.3.4", "tcp://1.2.3.4:", "tcp://localhost",
      "tcp://1.2.3.4:65536", "tcp://1.2.3.4:99999", "tcp://1.2.3.4:123456",
      "tcp://1.2.3.4:-1", "tcp://1.2.3.4:+80", "tcp://1.2.3.4:080", "tcp://1.2.3.4:00",
      "tcp://1.2.3.4:8a", "tcp://1.2.3.4:0x50", "tcp://1.2.3.4:80/", "tcp://1.2.3.4:80:80",
      "tcp://1.2.3.4:80 ", " tcp://1.2.3.4:80", "tcp://1.2.3.4 :80", "tcp://1.2.3.4:80\n",
      "tcp://1.2.3:80", "tcp://1.2.3.4.5:80", "tcp://256.1.1.1:80", "tcp://1.2.3.999:80",
      "tcp://01.2.3.4:80", "tcp://1.2.3.00:80", "tcp://1..3.4:80", "tcp://1.2.3.4.:80",
      "tcp://.1.2.3.4:80", "tcp://0x7f.0.0.1:80", "tcp://2130706433:80",
      "tcp://example.com:80", "tcp://LOCALHOST:80", "tcp://localhost.:80",
      "tcp:///1.2.3.4:80", "tcp://-1.2.3.4:80",
      "tcp://::1:80", "tcp://::1", "tcp://fe80::1:80", "tcp://[1.2.3.4]:80",
      "tcp://[::1]", "tcp://[::1]:", "tcp://[::1]80", "tcp://[::1]x:80", "tcp://[::1:80",
      "tcp://[]:80", "tcp://[::g]:80", "tcp://[:::1]:80", "tcp://[::1]]:80",
      "tcp://[[::1]]:80", "tcp://[::1]:65536", "tcp://[::1]:080",
      "tcp://[fe80::1%]:80", "tcp://[fe80::1%01]:80", "tcp://[fe80::1%0]:80",
      "tcp://[fe80::1%4294967296]:80", "tcp://[fe80::1%nosuchif0]:80",
      "tcp://[fe80::1%averyveryverylonginterfacename]:80", "tcp://[%1]:80",
      "tcp://[ ::1]:80",
      "unix://", "unix://@", "unix-dgram://", "unix-dgram://@", "unix://a b",
      "unix:///tmp/a\tb", "unix:///tmp/a\x7f", "unix:// /tmp/a",
      "unix://" + std::string(108, 'p'), "unix:///" + std::string(107, 'p'),
      "unix://@" + std::string(108, 'n'),
      "tcp://1.2.3.4:" + std::string(600, '1'),
  };
  urls.emplace_back("unix:///tmp/a\0b"sv);
  urls.emplace_back("tcp://1.2.3.4:80\0"sv);
  urls.emplace_back("\0tcp://1.2.3.4:80"sv);
  urls.emplace_back("unix://@\0name"sv);
  return urls;
}

TEST(EndpointParse, RejectsMalformedUrls) {
  std::vector<std::string> urls = malformed_urls();
  EXPECT_GE(urls.size(), 35u);
  const Endpoint sentinel = sentinel_endpoint();
  for (const std::string& url : urls) {
    SCOPED_TRACE("url: \"" + url + "\" (" + std::to_string(url.size()) + " bytes)");
    Endpoint out = sentinel_endpoint();
    ParseResult result = parse_endpoint(url, out);
    EXPECT_EQ(result.error, -EINVAL);
    ASSERT_NE(result.message, nullptr);
    EXPECT_GT(std::strlen(result.message), 0u);
    EXPECT_STRNE(result.message, "ok");
    EXPECT_TRUE(same_bytes(out, sentinel)) << "output modified on failure";
  }
}

TEST(EndpointParse, SpecificMessages) {
  struct Case {
    std::string_view url;
    std::string_view message;
  };
  const Case cases[] = {
      {"tcp://1.2.3.4:65536", "port is not a decimal number 0-65535"},
      {"tcp://1.2.3.4:", "port is not a decimal number 0-65535"},
      {"ftp://1.2.3.4:21", "unknown scheme: use tcp, udp, unix or unix-dgram"},
      {"tcp://::1:80", "IPv6 address must be in brackets"},
      {"tcp://[1.2.3.4]:80", "IPv4 address must not be in brackets"},
      {"tcp://1.2.3.4", "missing ':PORT' after the host"},
      {"tcp://:80", "empty host"},
      {"tcp://[fe80::1%nosuchif0]:80", "unknown network interface in IPv6 zone"},
      {"unix://", "empty UNIX path"},
      {"unix://@", "abstract UNIX name is empty"},
  };
  for (const Case& test : cases) {
    Endpoint out;
    EXPECT_EQ(parse_endpoint(test.url, out).message, std::string(test.message)) << test.url;
  }
  std::string too_long_path = "unix:///" + std::string(107, 'p');
  Endpoint out;
  EXPECT_STREQ(parse_endpoint(too_long_path, out).message, "UNIX path too long (max 107 bytes)");
  std::string too_long_url(513, 'a');
  EXPECT_STREQ(parse_endpoint(too_long_url, out).message, "URL is longer than 512 bytes");
}

// ---------------------------------------------------------------- formatting

TEST(EndpointFormat, CanonicalForms) {
  struct Case {
    std::string_view url;
    std::string_view canonical;
  };
  const Case cases[] = {
      {"tcp://127.0.0.1:9000", "tcp://127.0.0.1:9000"},
      {"tcp://localhost:80", "tcp://127.0.0.1:80"},
      {"udp://0.0.0.0:0", "udp://0.0.0.0:0"},
      {"tcp://[::1]:9000", "tcp://[::1]:9000"},
      {"udp://[::]:65535", "udp://[::]:65535"},
      {"tcp://[2001:DB8:0:0::1]:1", "tcp://[2001:db8::1]:1"},
      {"tcp://[fe80::1%1]:80", "tcp://[fe80::1%1]:80"},
      {"udp://[::ffff:1.2.3.4]:53", "udp://[::ffff:1.2.3.4]:53"},
      {"unix:///run/a.sock", "unix:///run/a.sock"},
      {"unix://rel/a.sock", "unix://rel/a.sock"},
      {"unix-dgram://@name", "unix-dgram://@name"},
      {"unix-dgram:///tmp/d.sock", "unix-dgram:///tmp/d.sock"},
  };
  for (const Case& test : cases) {
    EXPECT_EQ(format(parse_ok(test.url)), test.canonical) << test.url;
  }
}

TEST(EndpointFormat, ZoneNameBecomesIndex) {
  unsigned lo = if_nametoindex("lo");
  if (lo == 0) GTEST_SKIP() << "no loopback interface named lo";
  EXPECT_EQ(format(parse_ok("tcp://[fe80::1%lo]:80")),
            "tcp://[fe80::1%" + std::to_string(lo) + "]:80");
}

TEST(EndpointFormat, RoundTrips) {
  const std::string_view urls[] = {
      "tcp://127.0.0.1:9000", "tcp://localhost:1", "udp://255.255.255.255:65535",
      "tcp://[::1]:9000", "tcp://[::]:0", "tcp://[fe80::1%1]:80",
      "udp://[::ffff:10.0.0.1]:53", "udp://[1:2:3:4:5:6:7:8]:8", "tcp://[::1.2.3.4]:4",
      "unix:///run/a.sock", "unix://rel", "unix://@abstract", "unix-dgram://@a",
      "unix-dgram:///tmp/d.sock",
  };
  for (std::string_view url : urls) {
    Endpoint first = parse_ok(url);
    std::string text = format(first);
    Endpoint second = parse_ok(text);
    EXPECT_TRUE(same_endpoint(first, second)) << url << " -> " << text;
    EXPECT_EQ(format(second), text);
  }
}

TEST(EndpointFormat, LongestNamesFitTheMaximum) {
  Endpoint path = parse_ok("unix-dgram:///" + std::string(106, 'p'));
  Endpoint abstract = parse_ok("unix-dgram://@" + std::string(107, 'n'));
  char text[kEndpointUrlMax];
  EXPECT_EQ(format_endpoint(path, text, sizeof text), 13 + 107);
  EXPECT_EQ(format_endpoint(abstract, text, sizeof text), 14 + 107);
  Endpoint wide =
      parse_ok("udp://[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535");
  EXPECT_GT(format_endpoint(wide, text, sizeof text), 0);
}

TEST(EndpointFormat, NoSpace) {
  Endpoint endpoint = parse_ok("tcp://127.0.0.1:9000");
  const std::string expected = "tcp://127.0.0.1:9000";
  char text[64];
  std::memset(text, 'x', sizeof text);
  EXPECT_EQ(format_endpoint(endpoint, text, expected.size()), -ENOSPC);  // no room for the NUL
  EXPECT_EQ(format_endpoint(endpoint, text, 1), -ENOSPC);
  EXPECT_EQ(format_endpoint(endpoint, nullptr, 0), -ENOSPC);
  EXPECT_EQ(format_endpoint(endpoint, text, expected.size() + 1),
            static_cast<int>(expected.size()));
  EXPECT_STREQ(text, expected.c_str());
}

TEST(EndpointFormat, RejectsEmptyAndInconsistentEndpoints) {
  char text[kEndpointUrlMax];
  Endpoint empty;
  EXPECT_EQ(format_endpoint(empty, text, sizeof text), -EINVAL);

  Endpoint bad_transport = parse_ok("tcp://1.2.3.4:5");
  bad_transport.transport = static_cast<Transport>(9);
  EXPECT_EQ(format_endpoint(bad_transport, text, sizeof text), -EINVAL);
  EXPECT_EQ(bad_transport.socket_type(), 0);

  Endpoint mismatch = parse_ok("unix:///x");
  mismatch.transport = Transport::udp;
  EXPECT_EQ(format_endpoint(mismatch, text, sizeof text), -EINVAL);

  Endpoint short_v6 = parse_ok("tcp://[::1]:5");
  short_v6.length = sizeof(sockaddr_in);
  EXPECT_EQ(format_endpoint(short_v6, text, sizeof text), -EINVAL);
}

// ---------------------------------------------------------------- endpoint_from_sockaddr

TEST(EndpointFromSockaddr, Ipv4) {
  sockaddr_storage storage{};
  auto& address = reinterpret_cast<sockaddr_in&>(storage);
  address.sin_family = AF_INET;
  address.sin_port = htons(4242);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto* raw = reinterpret_cast<const sockaddr*>(&storage);

  Endpoint out;
  ASSERT_EQ(endpoint_from_sockaddr(raw, sizeof(sockaddr_in), Transport::tcp, out), 0);
  EXPECT_TRUE(same_endpoint(out, parse_ok("tcp://127.0.0.1:4242")));

  // A whole sockaddr_storage is fine; the length is trimmed to the address.
  ASSERT_EQ(endpoint_from_sockaddr(raw, sizeof storage, Transport::udp, out), 0);
  EXPECT_EQ(out.length, sizeof(sockaddr_in));
  EXPECT_TRUE(same_endpoint(out, parse_ok("udp://127.0.0.1:4242")));
}

TEST(EndpointFromSockaddr, Ipv6) {
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(7);
  address.sin6_addr = in6addr_loopback;
  Endpoint out;
  ASSERT_EQ(endpoint_from_sockaddr(reinterpret_cast<const sockaddr*>(&address), sizeof address,
                                   Transport::tcp, out),
            0);
  EXPECT_TRUE(same_endpoint(out, parse_ok("tcp://[::1]:7")));
}

TEST(EndpointFromSockaddr, UnixPathAbstractAndUnnamed) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, "/tmp/x.sock");
  const auto* raw = reinterpret_cast<const sockaddr*>(&address);
  Endpoint out;
  ASSERT_EQ(endpoint_from_sockaddr(raw, kPathOffset + 12, Transport::unix_stream, out), 0);
  EXPECT_TRUE(same_endpoint(out, parse_ok("unix:///tmp/x.sock")));
  // A caller passing the whole struct gets the same, normalised endpoint.
  ASSERT_EQ(endpoint_from_sockaddr(raw, sizeof address, Transport::unix_stream, out), 0);
  EXPECT_TRUE(same_endpoint(out, parse_ok("unix:///tmp/x.sock")));

  sockaddr_un abstract{};
  abstract.sun_family = AF_UNIX;
  std::memcpy(abstract.sun_path, "\0abc", 4);
  ASSERT_EQ(endpoint_from_sockaddr(reinterpret_cast<const sockaddr*>(&abstract), kPathOffset + 4,
                                   Transport::unix_dgram, out),
            0);
  EXPECT_TRUE(same_endpoint(out, parse_ok("unix-dgram://@abc")));

  ASSERT_EQ(endpoint_from_sockaddr(raw, sizeof(sa_family_t), Transport::unix_stream, out), 0);
  EXPECT_EQ(out.length, sizeof(sa_family_t));
  EXPECT_EQ(out.family(), AF_UNIX);
  char text[kEndpointUrlMax];
  EXPECT_EQ(format_endpoint(out, text, sizeof text), -EINVAL);  // unnamed has no URL
}

TEST(EndpointFromSockaddr, Rejections) {
  sockaddr_storage storage{};
  auto* raw = reinterpret_cast<sockaddr*>(&storage);
  const Endpoint sentinel = sentinel_endpoint();
  Endpoint out = sentinel;
  auto check = [&](socklen_t length, Transport transport, const char* what) {
    EXPECT_EQ(endpoint_from_sockaddr(raw, length, transport, out), -EINVAL) << what;
    EXPECT_TRUE(same_bytes(out, sentinel)) << what;
  };
  storage.ss_family = AF_INET;
  check(sizeof(sockaddr_in) - 1, Transport::tcp, "short AF_INET");
  check(sizeof(sockaddr_in), Transport::unix_stream, "AF_INET as unix");
  check(sizeof(sockaddr_in), static_cast<Transport>(0), "invalid transport");
  check(1, Transport::tcp, "shorter than a family");
  storage.ss_family = AF_INET6;
  check(sizeof(sockaddr_in6) - 1, Transport::udp, "short AF_INET6");
  check(sizeof(sockaddr_in6), Transport::unix_dgram, "AF_INET6 as unix-dgram");
  storage.ss_family = AF_UNIX;
  check(sizeof(sockaddr_in), Transport::tcp, "AF_UNIX as tcp");
  check(sizeof(sockaddr_un) + 1, Transport::unix_stream, "longer than sockaddr_un");
  storage.ss_family = AF_UNIX;
  std::memset(reinterpret_cast<sockaddr_un*>(&storage)->sun_path, 'p', 108);
  check(sizeof(sockaddr_un), Transport::unix_stream, "108-byte path without its NUL");
  storage.ss_family = AF_PACKET;
  check(sizeof storage, Transport::tcp, "AF_PACKET");
  EXPECT_EQ(endpoint_from_sockaddr(nullptr, 16, Transport::tcp, out), -EINVAL);
  EXPECT_TRUE(same_bytes(out, sentinel));
}

// ---------------------------------------------------------------- randomized

// Mutates valid URLs at random. Nothing may crash, and whatever is accepted
// must survive format -> parse unchanged and format to the same text again.
TEST(EndpointFuzz, RandomMutationsRoundTrip) {
  const std::string_view seeds[] = {
      "tcp://127.0.0.1:9000", "udp://0.0.0.0:53", "tcp://localhost:80", "tcp://[::1]:9000",
      "udp://[fe80::1%1]:5", "tcp://[::ffff:1.2.3.4]:8", "tcp://[2001:db8::1]:65535",
      "unix:///run/a.sock", "unix-dgram://@name", "unix://rel/p", "tcp://[fe80::2%lo]:1",
  };
  const char alphabet[] = "0123456789abcdef.:[]%@/ -+xlo\0\xff";
  std::mt19937 random(20240611u);
  auto pick = [&](size_t bound) { return static_cast<size_t>(random() % bound); };
  size_t accepted = 0;
  for (int iteration = 0; iteration < 200000; ++iteration) {
    std::string url(seeds[pick(std::size(seeds))]);
    for (size_t edits = 1 + pick(3); edits > 0; --edits) {
      size_t at = url.empty() ? 0 : pick(url.size());
      char c = random() % 8 == 0 ? static_cast<char>(random()) : alphabet[pick(sizeof alphabet)];
      switch (pick(5)) {
        case 0: if (!url.empty()) url[at] = c; break;
        case 1: url.insert(url.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        case 2: if (!url.empty()) url.erase(at, 1); break;
        case 3: url.resize(at); break;
        default: url.insert(at, url.substr(pick(url.size() + 1), pick(4))); break;
      }
    }
    Endpoint first = sentinel_endpoint();
    const Endpoint sentinel = sentinel_endpoint();
    ParseResult result = parse_endpoint(url, first);
    if (result.error != 0) {
      ASSERT_EQ(result.error, -EINVAL) << url;
      ASSERT_TRUE(same_bytes(first, sentinel)) << url;
      continue;
    }
    ++accepted;
    char text[kEndpointUrlMax];
    int size = format_endpoint(first, text, sizeof text);
    ASSERT_GT(size, 0) << url;
    Endpoint second;
    ASSERT_EQ(parse_endpoint(std::string_view(text, static_cast<size_t>(size)), second).error, 0)
        << url << " -> " << text;
    ASSERT_TRUE(same_endpoint(first, second)) << url << " -> " << text;
    char again[kEndpointUrlMax];
    ASSERT_EQ(format_endpoint(second, again, sizeof again), size);
    ASSERT_STREQ(again, text);
  }
  EXPECT_GT(accepted, 1000u);  // the mutations must not all be trivially rejected
}

}  // namespace
}  // namespace ringsock
