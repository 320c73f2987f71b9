#include "unix_stream_recv.hpp"

#include <sys/socket.h>

namespace ringsock::detail {

bool receives_one_at_a_time(FdTable& fds, int fd) noexcept {
  if (fds.recv_path(fd) == RecvPath::unknown) {
    int domain = 0, type = 0;
    socklen_t length = sizeof(int);
    bool unix_stream = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 &&
                       domain == AF_UNIX &&
                       getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 &&
                       type == SOCK_STREAM;
    fds.set_recv_path(fd, unix_stream ? RecvPath::one_at_a_time : RecvPath::multishot);
  }
  return fds.recv_path(fd) == RecvPath::one_at_a_time;
}

}  // namespace ringsock::detail
