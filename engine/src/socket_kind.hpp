// Whether an fd is a socket of a given domain and type: the kernel problems
// the engine works around per fd (unix_dgram_send.hpp, unix_stream_recv.hpp)
// are learned this way, once per fd, with two getsockopt calls.
#pragma once

#include <sys/socket.h>

namespace ringsock::detail {

inline bool socket_is(int fd, int domain, int type) noexcept {
  int value = 0;
  socklen_t length = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &length) != 0 || value != domain) return false;
  length = sizeof value;
  return getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &length) == 0 && value == type;
}

}  // namespace ringsock::detail
