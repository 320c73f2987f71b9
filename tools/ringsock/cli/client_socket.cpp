#include "client_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "ringsock/socket.hpp"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace ringsock_cli {

bool source_for(const SourceRange& source, uint32_t index, ringsock::Endpoint& out) noexcept {
  if (source.count == 0) return false;
  out = source.first;
  uint32_t step = index % source.count;
  uint16_t port = 0;
  if (source.ports() != 0) port = uint16_t(source.port_low + (index / source.count) % source.ports());
  if (out.family() == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    v4->sin_addr.s_addr = htonl(ntohl(v4->sin_addr.s_addr) + step);
    v4->sin_port = htons(port);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    unsigned tail = (unsigned(v6->sin6_addr.s6_addr[14]) << 8 | v6->sin6_addr.s6_addr[15]) + step;
    v6->sin6_addr.s6_addr[14] = uint8_t(tail >> 8);
    v6->sin6_addr.s6_addr[15] = uint8_t(tail);
    v6->sin6_port = htons(port);
  }
  return true;
}

namespace {

int close_with(int fd, int negated_errno) noexcept {
  close(fd);
  return negated_errno;
}

// Binds connection `index` to its source. Without a fixed port TCP defers
// the port to connect (IP_BIND_ADDRESS_NO_PORT) so the 4-tuple, not the
// local port alone, has to be unique. A fixed port is reused by every churn
// cycle of its slot: the previous connection would sit in TIME_WAIT on it
// and the next connect fail, so those sockets end with a reset instead of a
// FIN (SO_LINGER 0) and leave no TIME_WAIT behind.
int bind_source(int fd, const LoadArgs& args, uint32_t index) noexcept {
  ringsock::Endpoint local;
  if (!source_for(args.source, index, local)) return 0;
  const int on = 1;
  const bool tcp = args.endpoint.transport == ringsock::Transport::tcp;
  if (args.source.ports() != 0) {
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return -errno;
    if (tcp && args.mode == LoadMode::churn) {
      if (int rc = ringsock::set_linger_reset(fd); rc < 0) return rc;
    }
  } else if (tcp) {
    // Linux before 4.2 and qemu-user do not know the option: the port is then
    // chosen at bind, as without it (64k connections per address at most).
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on) != 0 &&
        errno != ENOPROTOOPT) {
      return -errno;
    }
  }
  if (bind(fd, local.address(), local.length) != 0) return -errno;
  return 0;
}

}  // namespace

int open_client_socket(const LoadArgs& args, uint32_t index) noexcept {
  return open_client_socket(args, args.endpoint, index);
}

int open_client_socket(const LoadArgs& args, const ringsock::Endpoint& ep, uint32_t index) noexcept {
  // The engine's socket (non-blocking, close-on-exec; a unix-dgram one
  // auto-bound so that replies come back), then what must precede bind/connect.
  int fd = ringsock::open_socket(ep);
  if (fd < 0) return fd;
  if (int rc = ringsock::set_buffer_sizes(fd, args.send_buffer, args.receive_buffer); rc < 0) {
    return close_with(fd, rc);
  }
  if (args.nodelay && ep.transport == ringsock::Transport::tcp) {
    if (int rc = ringsock::set_nodelay(fd, true); rc < 0) return close_with(fd, rc);
  }
  if (int rc = bind_source(fd, args, index); rc < 0) return close_with(fd, rc);
  if (!ep.is_stream() && connect(fd, ep.address(), ep.length) != 0) return close_with(fd, -errno);
  return fd;
}

}  // namespace ringsock_cli
