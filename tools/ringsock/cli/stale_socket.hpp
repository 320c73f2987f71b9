// A UNIX socket file left behind by a server that ended without removing it
// (SIGKILL, a crash): bind then fails with EADDRINUSE although nobody listens.
// `serve --unlink-stale` removes such a file, and only such a file.
#pragma once

#include "ringsock/endpoint.hpp"

namespace ringsock_cli {

enum class SocketFile : uint8_t {
  none,     ///< not a UNIX path endpoint, or nothing at the path
  stale,    ///< a socket file nobody answers on (connect: ECONNREFUSED)
  live,     ///< a socket file a process still listens on
  unknown,  ///< something else (not a socket, no permission): bind decides
};

/// What is at the endpoint's UNIX path now. Connects to it to find out.
SocketFile probe_socket_file(const ringsock::Endpoint& endpoint) noexcept;

/// Removes the endpoint's socket file if it is stale. Returns 0 (removed, or
/// nothing to remove) or -EADDRINUSE (someone listens there) or -errno.
int remove_stale_socket_file(const ringsock::Endpoint& endpoint) noexcept;

}  // namespace ringsock_cli
