// The echo ping-pong written directly on liburing: the SQEs the engine would
// build, completions handled inline as they are reaped.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <cstring>

#include "raw_uring.hpp"
#include "workload.hpp"

namespace bench {

// Member order: the ring is torn down before the sockets and buffers.
struct RawEcho {
  SocketPair pair;
  alignas(64) uint8_t a_out[kMessageBytes];
  uint8_t a_in[kMessageBytes];
  uint8_t b_buffer[kMessageBytes];
  __kernel_timespec watchdog_after{int64_t(kWatchdogNs / 1'000'000'000), 0};
  RawRing ring;
  Stall stall;
  bool multishot = false;
  unsigned pending = 0;  ///< side A operations of this round trip not yet back
  const char* error = nullptr;

  bool intact() const noexcept { return memcmp(a_in, a_out, kMessageBytes) == 0; }
};

/// Sets the ring up like the engine's (plus the buffer ring for multishot),
/// queues the watchdog and B's receive. Returns 0 or -errno.
int setup_echo(RawEcho& e, bool multishot) noexcept;

/// One ping-pong; false when it failed, with e.error saying why.
bool round_trip(RawEcho& e) noexcept;

}  // namespace bench
