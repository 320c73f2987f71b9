#include "workload.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace bench {

SocketPair::SocketPair() noexcept {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    error = -errno;
    return;
  }
  a = fds[0];
  b = fds[1];
}

SocketPair::~SocketPair() {
  if (a >= 0) close(a);
  if (b >= 0) close(b);
}

void fill_message(uint8_t* message) noexcept {
  for (size_t i = 0; i < kMessageBytes; ++i) message[i] = uint8_t(i * 7 + 1);
}

}  // namespace bench
