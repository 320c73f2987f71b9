#include "bench_common.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

void skip(benchmark::State& state, const char* what, int error) {
  std::string message = std::string(what) + ": " + strerror(-error);
  state.SkipWithError(message.c_str());  // copied by the library
}

std::string setup_label(bool single_issuer, bool defer_taskrun, bool coop_taskrun,
                        bool registered_fd) {
  std::string label = "submit_all";
  if (single_issuer) label += "+single_issuer";
  if (defer_taskrun) label += "+defer_taskrun";
  if (coop_taskrun) label += "+coop_taskrun";
  if (registered_fd) label += "+reg_ring_fd";
  return label;
}

void report(benchmark::State& state, int64_t ops_per_iteration) {
  // items/s is the rate micro.sh turns into ns/op.
  state.SetItemsProcessed(int64_t(state.iterations()) * ops_per_iteration);
}

}  // namespace bench
