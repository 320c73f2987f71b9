// The echo ping-pong on the engine: A sends 64 bytes, B receives them and
// sends them back, A receives them. B runs entirely in callbacks.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <cstring>

#include "ringsock/loop.hpp"
#include "workload.hpp"

namespace bench {

/// How side A puts its 64 bytes out: one buffer as it is (the echo cases),
/// or a message made of an 8-byte header and a 56-byte body, copied together
/// into one buffer per round, or sent as two pieces by sendv (what a
/// vectored send saves or costs against the copy).
enum class Framing : uint8_t { whole, copied, pieces };
inline constexpr size_t kHeaderBytes = 8;

// Member order matters: the loop is torn down first, before the sockets
// close and before the operations and buffers the kernel may still refer to.
struct EngineEcho {
  SocketPair pair;
  alignas(64) uint8_t a_out[kMessageBytes];
  uint8_t a_in[kMessageBytes];
  uint8_t b_buffer[kMessageBytes];
  uint8_t header[kHeaderBytes];  ///< Framing::copied / pieces: a_out's first bytes
  uint8_t body[kMessageBytes - kHeaderBytes];  ///< and the rest
  iovec pieces[2];
  Framing framing = Framing::whole;
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
