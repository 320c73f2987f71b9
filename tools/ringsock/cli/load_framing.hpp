// How `ringsock load` puts its messages on the wire: ringsock's own header
// (logic/message.hpp), or with --sockperf the same message behind sockperf
// 3.x's 14-byte header so that a sockperf server answers it. Replies are
// unwrapped here and verified by the caller with tool::verify.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "logic/message.hpp"
#include "sockperf.hpp"

namespace ringsock_cli {

class Framing {
 public:
  /// `want_reply`: sockperf's PONG flag (a sink-bound stream asks for none).
  Framing(bool sockperf, bool want_reply, uint64_t seed) noexcept
      : sockperf_(sockperf), want_reply_(want_reply), seed_(seed) {}

  bool sockperf() const noexcept { return sockperf_; }
  /// Bytes in front of ringsock's header: 0, or 14 with sockperf.
  uint32_t overhead() const noexcept { return sockperf_ ? sockperf::kHeaderBytes : 0; }

  /// Writes one whole message of `header.length` bytes (the outer frame
  /// included) at `out`, which holds at least that many.
  void encode(const ringsock::tool::MessageHeader& header, uint8_t* out) const noexcept;

  /// Checks the outer frame of one whole reply and sets `inner` to ringsock's
  /// message inside it; a verdict other than ok says why it is not a reply.
  ringsock::tool::Verdict unwrap(std::span<const uint8_t> message,
                                 std::span<const uint8_t>& inner) const noexcept;

 private:
  bool sockperf_;
  bool want_reply_;
  uint64_t seed_;
};

/// Frames a stream of replies into whole messages under either framing,
/// inside fixed storage taken at construction.
class ReplyStream {
 public:
  ReplyStream(bool sockperf, size_t max_message);

  /// Calls on_message(std::span<const uint8_t>) per whole message, in order;
  /// false when the stream cannot be framed any more (a bad header).
  template <class F>
  bool feed(std::span<const uint8_t> data, F&& on_message);
  void reset() noexcept;

 private:
  template <class F>
  static bool trampoline(void* context, uint8_t* message, uint32_t length) {
    (*static_cast<F*>(context))(std::span<const uint8_t>(message, length));
    return true;
  }

  bool sockperf_;
  ringsock::tool::StreamAssembler assembler_;       // ringsock framing
  std::unique_ptr<uint8_t[]> sockperf_storage_;     // sockperf framing
  sockperf::Reassembler reassembler_;
};

template <class F>
bool ReplyStream::feed(std::span<const uint8_t> data, F&& on_message) {
  if (!sockperf_) {
    return assembler_.feed(data, on_message) == ringsock::tool::StreamAssembler::Status::ok;
  }
  using Sink = std::remove_reference_t<F>;
  return reassembler_.feed(data.data(), data.size(), &ReplyStream::trampoline<Sink>,
                           &on_message) == sockperf::Reassembler::Status::ok;
}

}  // namespace ringsock_cli
