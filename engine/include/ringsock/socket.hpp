// Socket set-up helpers for the classic workflows. They are synchronous (the
// kernel answers these calls without blocking) and run before or beside the
// loop; the blocking parts of a workflow (accept, connect, send, recv) are
// loop operations. Every helper returns a file descriptor or a negated errno,
// and leaves nothing open on failure. All sockets are non-blocking and
// close-on-exec.
#pragma once

#include "ringsock/endpoint.hpp"

namespace ringsock {

/// Options for listen_on.
struct ListenOptions {
  int backlog = 1024;
  bool reuse_address = true;   ///< SO_REUSEADDR (TCP)
  bool reuse_port = false;     ///< SO_REUSEPORT: one listener per thread on the same port
  bool unlink_existing = false;///< UNIX path only: remove a stale socket file first
  bool ipv6_only = false;      ///< IPV6_V6ONLY on tcp://[::]
};

/// Stream server: socket, bind, listen. tcp:// or unix:// endpoints.
/// Returns the listening fd or -errno (-EPROTOTYPE for a datagram endpoint).
int listen_on(const Endpoint& endpoint, const ListenOptions& options = {}) noexcept;

/// A socket of the endpoint's transport and family, not yet connected: the
/// fd for a loop `connect` (streams) or for `sendto` without connect
/// (datagrams). A unix-dgram socket is auto-bound to an abstract name so that
/// a server can reply to it.
int open_socket(const Endpoint& endpoint) noexcept;

/// Datagram server or a client that owns a chosen local port: socket, bind.
/// udp:// or unix-dgram:// endpoints; -EPROTOTYPE for a stream endpoint.
int bind_datagram(const Endpoint& local, bool reuse_port = false) noexcept;

/// Datagram client with a fixed peer: socket, (bind `local` if given, else
/// auto-bind for unix-dgram), connect. The kernel then filters datagrams
/// from other senders, and send/recv work without addresses.
int connect_datagram(const Endpoint& peer, const Endpoint* local = nullptr) noexcept;

/// The bound local address of `fd` (to learn an ephemeral port after binding to :0).
int local_endpoint(int fd, Transport transport, Endpoint& out) noexcept;

/// TCP_NODELAY on or off. Returns 0 or -errno.
int set_nodelay(int fd, bool enabled) noexcept;

/// SO_SNDBUF / SO_RCVBUF; a value <= 0 leaves that buffer alone. Returns 0 or -errno.
int set_buffer_sizes(int fd, int send_bytes, int receive_bytes) noexcept;

/// SO_LINGER {on, 0}: the next close sends a reset instead of a FIN.
int set_linger_reset(int fd) noexcept;

}  // namespace ringsock
