// Socket set-up helpers. Each one either returns a ready descriptor or closes
// everything it opened and returns the negated errno of the step that failed
// (captured before close(2) can overwrite errno).
#include "ringsock/socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace ringsock {
namespace {

bool family_fits(const Endpoint& endpoint) noexcept {
  switch (endpoint.transport) {
    case Transport::tcp:
    case Transport::udp:
      return endpoint.family() == AF_INET || endpoint.family() == AF_INET6;
    case Transport::unix_stream:
    case Transport::unix_dgram:
      return endpoint.family() == AF_UNIX;
  }
  return false;
}

// Endpoint is a plain struct that callers may fill by hand: refuse an empty or
// inconsistent one here rather than let the kernel guess.
int check_endpoint(const Endpoint& endpoint) noexcept {
  if (endpoint.length < sizeof(sa_family_t) || endpoint.length > sizeof(endpoint.storage)) {
    return -EINVAL;
  }
  return family_fits(endpoint) ? 0 : -EINVAL;
}

int close_with(int fd, int error) noexcept {
  ::close(fd);
  return error;
}

int new_socket(const Endpoint& endpoint) noexcept {
  int fd = ::socket(endpoint.family(), endpoint.socket_type() | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return fd >= 0 ? fd : -errno;
}

int set_int_option(int fd, int level, int name, int value) noexcept {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : -errno;
}

int bind_to(int fd, const Endpoint& endpoint) noexcept {
  return ::bind(fd, endpoint.address(), endpoint.length) == 0 ? 0 : -errno;
}

// Binding an AF_UNIX socket with only the family makes the kernel pick a
// unique abstract name; without a name a datagram server could not reply.
int auto_bind(int fd) noexcept {
  sockaddr_un unnamed{};
  unnamed.sun_family = AF_UNIX;
  return ::bind(fd, reinterpret_cast<const sockaddr*>(&unnamed), sizeof(sa_family_t)) == 0
             ? 0
             : -errno;
}

// Removes a socket file left behind by a previous server. Anything else at
// the path (a regular file, a symlink, a directory) is left for bind to refuse:
// a typo in a config file must not delete data.
int remove_stale_socket(const Endpoint& endpoint) noexcept {
  constexpr size_t offset = offsetof(sockaddr_un, sun_path);
  if (endpoint.family() != AF_UNIX || endpoint.length <= offset) return 0;
  const auto& address = *reinterpret_cast<const sockaddr_un*>(&endpoint.storage);
  if (address.sun_path[0] == '\0') return 0;  // abstract names vanish with their socket
  size_t room = endpoint.length - offset;
  if (room > sizeof address.sun_path) room = sizeof address.sun_path;
  char path[sizeof address.sun_path + 1];
  size_t size = strnlen(address.sun_path, room);
  std::memcpy(path, address.sun_path, size);
  path[size] = '\0';
  struct stat status {};
  if (::lstat(path, &status) != 0 || !S_ISSOCK(status.st_mode)) return 0;  // bind decides
  if (::unlink(path) != 0 && errno != ENOENT) return -errno;
  return 0;
}

int apply_listen_options(int fd, const Endpoint& endpoint, const ListenOptions& options) noexcept {
  int error = 0;
  if (endpoint.transport == Transport::tcp && options.reuse_address) {
    error = set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  }
  if (error == 0 && options.reuse_port) {
    error = set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  }
  // Set both ways: the system default (net.ipv6.bindv6only) must not decide.
  if (error == 0 && endpoint.family() == AF_INET6) {
    error = set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, options.ipv6_only ? 1 : 0);
  }
  if (error == 0 && options.unlink_existing) error = remove_stale_socket(endpoint);
  return error;
}

}  // namespace

int listen_on(const Endpoint& endpoint, const ListenOptions& options) noexcept {
  if (int error = check_endpoint(endpoint)) return error;
  if (!endpoint.is_stream()) return -EPROTOTYPE;
  int fd = new_socket(endpoint);
  if (fd < 0) return fd;
  int error = apply_listen_options(fd, endpoint, options);
  if (error == 0) error = bind_to(fd, endpoint);
  if (error == 0 && ::listen(fd, options.backlog) != 0) error = -errno;
  return error == 0 ? fd : close_with(fd, error);
}

int open_socket(const Endpoint& endpoint) noexcept {
  if (int error = check_endpoint(endpoint)) return error;
  int fd = new_socket(endpoint);
  if (fd < 0) return fd;
  if (endpoint.transport == Transport::unix_dgram) {
    if (int error = auto_bind(fd)) return close_with(fd, error);
  }
  return fd;
}

int bind_datagram(const Endpoint& local, bool reuse_port) noexcept {
  if (int error = check_endpoint(local)) return error;
  if (local.is_stream()) return -EPROTOTYPE;
  int fd = new_socket(local);
  if (fd < 0) return fd;
  int error = reuse_port ? set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1) : 0;
  if (error == 0) error = bind_to(fd, local);
  return error == 0 ? fd : close_with(fd, error);
}

int connect_datagram(const Endpoint& peer, const Endpoint* local) noexcept {
  if (int error = check_endpoint(peer)) return error;
  if (peer.is_stream()) return -EPROTOTYPE;
  if (local != nullptr) {
    if (int error = check_endpoint(*local)) return error;
    if (local->is_stream()) return -EPROTOTYPE;
    if (local->family() != peer.family()) return -EINVAL;
  }
  int fd = new_socket(peer);
  if (fd < 0) return fd;
  int error = 0;
  if (local != nullptr) {
    error = bind_to(fd, *local);
  } else if (peer.transport == Transport::unix_dgram) {
    error = auto_bind(fd);
  }
  // Datagram connect only records the peer: it completes at once, even non-blocking.
  if (error == 0 && ::connect(fd, peer.address(), peer.length) != 0) error = -errno;
  return error == 0 ? fd : close_with(fd, error);
}

int local_endpoint(int fd, Transport transport, Endpoint& out) noexcept {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return -errno;
  return endpoint_from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length, transport,
                                out);
}

int set_nodelay(int fd, bool enabled) noexcept {
  return set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, enabled ? 1 : 0);
}

int set_buffer_sizes(int fd, int send_bytes, int receive_bytes) noexcept {
  if (send_bytes > 0) {
    if (int error = set_int_option(fd, SOL_SOCKET, SO_SNDBUF, send_bytes)) return error;
  }
  if (receive_bytes > 0) {
    if (int error = set_int_option(fd, SOL_SOCKET, SO_RCVBUF, receive_bytes)) return error;
  }
  return 0;
}

int set_linger_reset(int fd) noexcept {
  linger option{};
  option.l_onoff = 1;
  option.l_linger = 0;
  return ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof option) == 0 ? 0 : -errno;
}

}  // namespace ringsock
