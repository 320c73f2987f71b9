// Host names in `ringsock load`'s endpoints: tcp://NAME:PORT and
// udp://NAME:PORT are resolved once, before the load starts, with
// getaddrinfo; the engine's endpoint parser stays strict (numeric addresses
// and `localhost` only) and allocation-free, so resolution is the tool's.
//
// --ipv4 / --ipv6 choose the family; every address the resolver returns is
// kept, in its order (RFC 6724's), duplicates dropped, for the caller to
// spread its connections over. A numeric URL, and every unix:// one, goes
// through parse_endpoint as it is. `localhost` keeps the engine's meaning
// (127.0.0.1), or is ::1 with --ipv6; it is never looked up.
// Caveats: getaddrinfo may block (DNS) for as long as resolv.conf allows;
// call this before the load's clock starts. Legacy numeric forms that
// inet_aton would take ("127.1") are refused, as the engine refuses them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringsock/endpoint.hpp"

namespace ringsock_cli {

enum class AddressFamily : uint8_t { any, ipv4, ipv6 };

enum class ResolveStatus : uint8_t {
  ok,
  bad_url,       // malformed (a usage error, exit 2)
  not_resolved,  // the resolver found nothing (exit 3); error holds its words
};

struct Resolved {
  ResolveStatus status = ResolveStatus::ok;
  std::vector<ringsock::Endpoint> endpoints;  // at least one when ok
  std::string error;                          // a sentence when not ok
};

/// Turns an endpoint URL into one or more endpoints (see the file comment).
Resolved resolve_endpoints(std::string_view url, AddressFamily family);

}  // namespace ringsock_cli
