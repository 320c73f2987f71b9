// How `ringsock load` makes its client sockets: the source address and port
// of connection i (--source, --source-ports, IP_BIND_ADDRESS_NO_PORT), socket
// buffer sizes and TCP_NODELAY. Streams come back unconnected (the loop
// connects them); datagram sockets come back connected to the endpoint.
#pragma once

#include <cstdint>

#include "args.hpp"

namespace ringsock_cli {

/// The local address of connection `index` (port included when fixed), or
/// false when the kernel chooses (no --source).
bool source_for(const SourceRange& source, uint32_t index, ringsock::Endpoint& out) noexcept;

/// A non-blocking socket for connection `index`; returns the fd or -errno.
int open_client_socket(const LoadArgs& args, uint32_t index) noexcept;
/// The same for one of several endpoints a host name resolved to.
int open_client_socket(const LoadArgs& args, const ringsock::Endpoint& endpoint,
                       uint32_t index) noexcept;

}  // namespace ringsock_cli
