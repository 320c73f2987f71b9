// The sockperf 3.x wire framing, as `ringsock serve --mode sockperf` answers it.
//
// Every message starts with a 14-byte big-endian header:
//   u64 sequence | u16 flags (CLIENT=1 PONG=2 WARMUP=4) | u32 length (whole message)
// A server replies with the same bytes only when PONG is set, with CLIENT
// cleared. On UDP one datagram is one message; on streams messages may be
// split or coalesced, and the Reassembler frames them by the length field
// inside a fixed caller-provided buffer (no allocation per message).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringsock_cli::sockperf {

inline constexpr uint32_t kHeaderBytes = 14;
inline constexpr uint16_t kFlagClient = 1;
inline constexpr uint16_t kFlagPong = 2;
inline constexpr uint16_t kFlagWarmup = 4;

struct Header {
  uint64_t sequence = 0;
  uint16_t flags = 0;
  uint32_t length = 0;  ///< the whole message, header included
};

void encode(const Header& header, uint8_t* out) noexcept;
Header decode(const uint8_t* in) noexcept;

/// The reply for a whole message in place: CLIENT cleared. Returns false
/// (message untouched) when the message asks for no reply (PONG not set).
bool make_reply(uint8_t* message) noexcept;

/// Frames a byte stream into whole messages.
class Reassembler {
 public:
  /// Called once per whole message; `message` is valid during the call only and
  /// may be modified (make_reply). Returns false to stop framing.
  using Sink = bool (*)(void* context, uint8_t* message, uint32_t length);

  enum class Status : uint8_t { ok, bad_length, stopped };

  Reassembler() noexcept = default;
  /// `storage` (at least kHeaderBytes) holds one message: the largest accepted.
  Reassembler(uint8_t* storage, uint32_t capacity) noexcept
      : storage_(storage), capacity_(capacity) {}

  /// Feeds `length` bytes; calls `sink` for each message completed. bad_length:
  /// a header whose length is under 14 or over the capacity (the stream is lost).
  Status feed(const uint8_t* data, size_t length, Sink sink, void* context) noexcept;
  void reset() noexcept {
    have_ = 0;
    want_ = kHeaderBytes;
  }
  /// Bytes of a partial message held.
  uint32_t pending() const noexcept { return have_; }

 private:
  uint8_t* storage_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t have_ = 0;
  uint32_t want_ = kHeaderBytes;  // bytes of the current message known so far
};

}  // namespace ringsock_cli::sockperf
