#include "stale_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

namespace ringsock_cli {

namespace {

// The file system path of a unix:// or unix-dgram:// endpoint; nullptr for
// abstract names (they vanish with their socket) and other transports.
const char* unix_path(const ringsock::Endpoint& ep) noexcept {
  if (ep.family() != AF_UNIX) return nullptr;
  const auto* un = reinterpret_cast<const sockaddr_un*>(&ep.storage);
  return un->sun_path[0] == '\0' ? nullptr : un->sun_path;
}

}  // namespace

SocketFile probe_socket_file(const ringsock::Endpoint& ep) noexcept {
  const char* path = unix_path(ep);
  if (path == nullptr) return SocketFile::none;
  struct stat status {};
  if (lstat(path, &status) != 0) return errno == ENOENT ? SocketFile::none : SocketFile::unknown;
  if (!S_ISSOCK(status.st_mode)) return SocketFile::unknown;
  // A blocking connect to a UNIX socket does not wait for the server to
  // accept: it succeeds at once while the backlog has room, else fails.
  int fd = socket(AF_UNIX, ep.socket_type() | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return SocketFile::unknown;
  int rc = connect(fd, ep.address(), ep.length);
  int error = rc == 0 ? 0 : errno;
  close(fd);
  if (rc == 0 || error == EAGAIN) return SocketFile::live;  // EAGAIN: a full backlog
  return error == ECONNREFUSED ? SocketFile::stale : SocketFile::unknown;
}

int remove_stale_socket_file(const ringsock::Endpoint& ep) noexcept {
  switch (probe_socket_file(ep)) {
    case SocketFile::live: return -EADDRINUSE;
    case SocketFile::stale:
      if (unlink(unix_path(ep)) != 0 && errno != ENOENT) return -errno;
      return 0;
    default: return 0;
  }
}

}  // namespace ringsock_cli
