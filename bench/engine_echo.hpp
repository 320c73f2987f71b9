// The echo ping-pong on the engine: A sends 64 bytes, B receives them and
// sends them back, A receives them. B runs entirely in callbacks.
#pragma once

#include <cstdint>
#include <cstring>

#include "ringsock/loop.hpp"
#include "workload.hpp"

namespace bench {

// Member order matters: the loop is torn down first, before the sockets
// close and before the operations and buffers the kernel may still refer to.
struct EngineEcho {
  SocketPair pair;
  alignas(64) uint8_t a_out[kMessageBytes];
  uint8_t a_in[kMessageBytes];
  uint8_t b_buffer[kMessageBytes];
  ringsock::Operation a_send, a_recv, b_send, b_recv, watchdog;
  ringsock::Loop loop;
  Stall stall;
  unsigned pending = 0;  ///< side A operations of this round trip not yet back
  uint16_t lent = 0;     ///< multishot: the pool buffer B is echoing
  const char* error = nullptr;

  bool intact() const noexcept { return memcmp(a_in, a_out, kMessageBytes) == 0; }
};

/// Starts the loop, the watchdog and B's receive: a single recv into B's
/// buffer, or (multishot) a recv_multishot that lends pool buffers.
/// Returns 0 or -errno.
int setup_echo(EngineEcho& e, bool multishot) noexcept;

/// One ping-pong; false when it failed, with e.error saying why.
bool round_trip(EngineEcho& e) noexcept;

}  // namespace bench
