#include "resolve.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ringsock_cli {

namespace {

using ringsock::Endpoint;
using ringsock::Transport;

Resolved failure(ResolveStatus status, std::string error) {
  Resolved r;
  r.status = status;
  r.error = std::move(error);
  return r;
}

bool matches(const Endpoint& e, AddressFamily family) {
  if (family == AddressFamily::ipv4) return e.family() == AF_INET;
  if (family == AddressFamily::ipv6) return e.family() == AF_INET6;
  return true;
}

const char* family_option(AddressFamily family) {
  return family == AddressFamily::ipv4 ? "--ipv4" : "--ipv6";
}

// A DNS name, as opposed to a numeric address: a letter somewhere, and only
// the bytes a host name can have.
bool is_host_name(std::string_view host) {
  const bool letter = std::any_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
  const bool clean = std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
  });
  return letter && clean;
}

// getaddrinfo for one name; endpoints in the resolver's order, without duplicates.
Resolved lookup(const std::string& host, const std::string& port, Transport transport,
                AddressFamily family) {
  addrinfo hints{};
  hints.ai_family = family == AddressFamily::ipv4   ? AF_INET
                    : family == AddressFamily::ipv6 ? AF_INET6
                                                    : AF_UNSPEC;
  hints.ai_socktype = transport == Transport::tcp ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;  // no AI_ADDRCONFIG: it hides ::1 on loopback-only hosts
  addrinfo* list = nullptr;
  const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    const std::string words = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    std::string text = "cannot resolve \"" + host + "\"";
    if (family != AddressFamily::any) text += std::string(" (") + family_option(family) + ")";
    return failure(ResolveStatus::not_resolved, text + ": " + words);
  }
  Resolved r;
  for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
    Endpoint e;
    if (ringsock::endpoint_from_sockaddr(a->ai_addr, a->ai_addrlen, transport, e) != 0) continue;
    const bool seen = std::any_of(r.endpoints.begin(), r.endpoints.end(), [&](const Endpoint& o) {
      return o.length == e.length && std::memcmp(&o.storage, &e.storage, e.length) == 0;
    });
    if (!seen) r.endpoints.push_back(e);
  }
  freeaddrinfo(list);
  if (r.endpoints.empty()) {
    return failure(ResolveStatus::not_resolved,
                   "cannot resolve \"" + host + "\": no address of the family asked for");
  }
  return r;
}

}  // namespace

Resolved resolve_endpoints(std::string_view url, AddressFamily family) {
  const size_t separator = url.find("://");
  const std::string_view scheme = url.substr(0, separator == std::string_view::npos ? 0 : separator);
  const bool inet = scheme == "tcp" || scheme == "udp";
  const std::string_view rest = inet ? url.substr(separator + 3) : std::string_view();
  const size_t colon = rest.rfind(':');
  const std::string_view host = rest.substr(0, colon == std::string_view::npos ? 0 : colon);
  const bool name = inet && colon != std::string_view::npos && is_host_name(host);
  // Host names know no letter case: `LOCALHOST` is `localhost` too.
  constexpr std::string_view kLocalhost = "localhost";
  const bool localhost =
      name && std::equal(host.begin(), host.end(), kLocalhost.begin(), kLocalhost.end(),
                         [](char a, char b) { return (a | 0x20) == b; });

  // `localhost` is 127.0.0.1 as the engine says, or ::1 with --ipv6: never
  // the resolver, whose /etc/hosts may lack ::1.
  std::string numeric(url);
  if (localhost) {
    const char* address = family == AddressFamily::ipv6 ? "://[::1]" : "://127.0.0.1";
    numeric = std::string(scheme) + address + std::string(rest.substr(colon));
  }
  if (!name || localhost) {
    Endpoint e;
    const ringsock::ParseResult parsed = ringsock::parse_endpoint(numeric, e);
    if (parsed.error != 0) {
      return failure(ResolveStatus::bad_url,
                     "bad endpoint \"" + std::string(url) + "\": " + parsed.message);
    }
    if (!matches(e, family)) {
      return failure(ResolveStatus::bad_url,
                     "\"" + std::string(url) + "\" is not an " +
                         (family == AddressFamily::ipv4 ? "IPv4" : "IPv6") + " address, but " +
                         family_option(family) + " was given");
    }
    Resolved r;
    r.endpoints.push_back(e);
    return r;
  }
  // The port is checked by the engine's own parser, on a numeric stand-in.
  const std::string port(rest.substr(colon + 1));
  Endpoint probe;
  if (ringsock::parse_endpoint("tcp://127.0.0.1:" + port, probe).error != 0 || port.empty()) {
    return failure(ResolveStatus::bad_url, "bad endpoint \"" + std::string(url) +
                                               "\": port is not a decimal number 0-65535");
  }
  return lookup(std::string(host), port, scheme == "tcp" ? Transport::tcp : Transport::udp,
                family);
}

}  // namespace ringsock_cli
