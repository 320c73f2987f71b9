// Endpoints: the socket address of every transport ringsock covers, written as a URL.
//
//   tcp://127.0.0.1:9000   tcp://[::1]:9000   udp://0.0.0.0:5353
//   unix:///run/app.sock   unix://@abstract   unix-dgram:///tmp/d.sock
//
// Parsing is strict and allocation-free: numeric addresses only (plus the
// literal host `localhost`, which means 127.0.0.1), decimal ports 0-65535,
// UNIX paths that fit sun_path. A malformed URL leaves the output untouched.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringsock {

/// The socket kind an endpoint names; socket type and address family follow from it.
enum class Transport : uint8_t {
  tcp = 1,          ///< SOCK_STREAM over AF_INET or AF_INET6
  udp = 2,          ///< SOCK_DGRAM over AF_INET or AF_INET6
  unix_stream = 3,  ///< SOCK_STREAM over AF_UNIX (path or abstract name)
  unix_dgram = 4,   ///< SOCK_DGRAM over AF_UNIX (path or abstract name)
};

/// A parsed endpoint: the sockaddr bytes ready for bind/connect/sendto, and its transport.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;  ///< meaningful bytes of `storage`; 0 means "empty endpoint"
  Transport transport = Transport::tcp;

  int family() const noexcept { return storage.ss_family; }
  /// SOCK_STREAM or SOCK_DGRAM.
  int socket_type() const noexcept;
  bool is_stream() const noexcept { return socket_type() == SOCK_STREAM; }
  const sockaddr* address() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* address() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
};

/// Outcome of parse_endpoint: error is 0 or a negated errno (-EINVAL for any
/// malformed URL); message is a static sentence that says what was wrong.
struct ParseResult {
  int error = 0;
  const char* message = "ok";
};

/// Parses `url` into `out`. On failure `out` is not modified.
ParseResult parse_endpoint(std::string_view url, Endpoint& out) noexcept;

/// Writes the URL form of `endpoint` into `out` (NUL-terminated).
/// Returns the length written (without the NUL), -ENOSPC if `capacity` is too
/// small (nothing useful is written), or -EINVAL for an empty/unknown endpoint.
int format_endpoint(const Endpoint& endpoint, char* out, size_t capacity) noexcept;

/// Fills `out` from a kernel-provided address (accept, recvfrom, getsockname).
/// Returns 0, or -EINVAL if the family does not match the transport or the length is wrong.
int endpoint_from_sockaddr(const sockaddr* address, socklen_t length, Transport transport,
                           Endpoint& out) noexcept;

/// Longest URL format_endpoint can produce, including the NUL.
inline constexpr size_t kEndpointUrlMax = 160;

}  // namespace ringsock
