// Host names in endpoint URLs, resolved with getaddrinfo before a load.
// Offline-safe: the machine's own name is in its resolver (or the test
// skips), and `.invalid` never resolves (RFC 6761).
#include "resolve.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <string>

namespace ringsock_cli {
namespace {

std::string url_of(const ringsock::Endpoint& e) {
  char text[ringsock::kEndpointUrlMax];
  return ringsock::format_endpoint(e, text, sizeof text) > 0 ? text : "?";
}

// The one endpoint `url` resolves to, as a URL; a failure when it resolves
// to none, to several, or not at all.
std::string one_url(std::string_view url, AddressFamily family) {
  const Resolved r = resolve_endpoints(url, family);
  if (r.status != ResolveStatus::ok) return "error: " + r.error;
  if (r.endpoints.size() != 1) return std::to_string(r.endpoints.size()) + " endpoints";
  return url_of(r.endpoints[0]);
}

TEST(Resolve, NumericUrlsPassThroughTheEngineParser) {
  EXPECT_EQ(one_url("tcp://127.0.0.1:6379", AddressFamily::any), "tcp://127.0.0.1:6379");
  const Resolved unix_path = resolve_endpoints("unix:///tmp/x.sock", AddressFamily::any);
  ASSERT_EQ(unix_path.status, ResolveStatus::ok) << unix_path.error;
  EXPECT_EQ(unix_path.endpoints[0].transport, ringsock::Transport::unix_stream);
}

TEST(Resolve, LocalhostKeepsTheEngineMeaning) {
  EXPECT_EQ(one_url("udp://localhost:53", AddressFamily::any), "udp://127.0.0.1:53");
  EXPECT_EQ(one_url("tcp://localhost:53", AddressFamily::ipv6), "tcp://[::1]:53");
}

TEST(Resolve, LocalhostInAnyLetterCaseIsNeverLookedUp) {
  // The resolver may have no ::1 for it (this machine's /etc/hosts has none).
  EXPECT_EQ(one_url("tcp://LOCALHOST:8080", AddressFamily::ipv6), "tcp://[::1]:8080");
  EXPECT_EQ(one_url("udp://LocalHost:53", AddressFamily::any), "udp://127.0.0.1:53");
  EXPECT_EQ(resolve_endpoints("tcp://Localhost:70000", AddressFamily::any).status,
            ResolveStatus::bad_url);
}

TEST(Resolve, NamesGoThroughTheResolver) {
  // This machine's own name, as the resolver gives it.
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (getaddrinfo(host, "8080", &hints, &list) != 0) {
    GTEST_SKIP() << "this machine's name \"" << host << "\" has no IPv4 address in its resolver";
  }
  const std::string first = inet_ntoa(reinterpret_cast<const sockaddr_in*>(list->ai_addr)->sin_addr);
  freeaddrinfo(list);
  const Resolved r = resolve_endpoints(std::string("tcp://") + host + ":8080", AddressFamily::ipv4);
  ASSERT_EQ(r.status, ResolveStatus::ok) << r.error;
  ASSERT_GE(r.endpoints.size(), 1u);
  for (const auto& e : r.endpoints) {
    EXPECT_EQ(e.family(), AF_INET);
    EXPECT_EQ(e.transport, ringsock::Transport::tcp);
    EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_port), 8080);
  }
  EXPECT_EQ(url_of(r.endpoints[0]), "tcp://" + first + ":8080");
}

TEST(Resolve, AnUnresolvableNameGivesTheResolversWords) {
  const Resolved r = resolve_endpoints("tcp://nonexistent.invalid:6379", AddressFamily::any);
  EXPECT_EQ(r.status, ResolveStatus::not_resolved);
  EXPECT_TRUE(r.endpoints.empty());
  EXPECT_EQ(r.error.rfind("cannot resolve \"nonexistent.invalid\": ", 0), 0u) << r.error;
  EXPECT_GT(r.error.size(), std::string("cannot resolve \"nonexistent.invalid\": ").size());
}

TEST(Resolve, FamilyMismatchOnANumericAddressIsAUsageError) {
  const Resolved r = resolve_endpoints("tcp://127.0.0.1:1", AddressFamily::ipv6);
  EXPECT_EQ(r.status, ResolveStatus::bad_url);
  EXPECT_NE(r.error.find("not an IPv6 address, but --ipv6 was given"), std::string::npos)
      << r.error;
  const Resolved v6 = resolve_endpoints("tcp://[::1]:1", AddressFamily::ipv6);
  ASSERT_EQ(v6.status, ResolveStatus::ok) << v6.error;
  EXPECT_EQ(v6.endpoints[0].family(), AF_INET6);
}

TEST(Resolve, MalformedUrlsAreUsageErrors) {
  for (const char* url : {"tcp://cache.internal", "tcp://cache.internal:99999",
                          "tcp://cache.internal:", "tcp://:80", "tcp://127.1:80", "http://x:80",
                          "tcp://bad host:80", ""}) {
    const Resolved r = resolve_endpoints(url, AddressFamily::any);
    EXPECT_EQ(r.status, ResolveStatus::bad_url) << url << ": " << r.error;
    EXPECT_FALSE(r.error.empty()) << url;
  }
}

}  // namespace
}  // namespace ringsock_cli
