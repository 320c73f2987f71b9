#include "unix_stream_recv.hpp"

#include "socket_kind.hpp"

namespace ringsock::detail {

bool receives_one_at_a_time(FdTable& fds, int fd) noexcept {
  if (fds.recv_path(fd) == RecvPath::unknown) {
    bool unix_stream = socket_is(fd, AF_UNIX, SOCK_STREAM);
    fds.set_recv_path(fd, unix_stream ? RecvPath::one_at_a_time : RecvPath::multishot);
  }
  return fds.recv_path(fd) == RecvPath::one_at_a_time;
}

}  // namespace ringsock::detail
