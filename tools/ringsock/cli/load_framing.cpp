#include "load_framing.hpp"

namespace ringsock_cli {

namespace tool = ringsock::tool;

void Framing::encode(const tool::MessageHeader& header, uint8_t* out) const noexcept {
  if (!sockperf_) {
    tool::encode(header, out, header.length, seed_);
    return;
  }
  sockperf::Header outer;
  outer.sequence = header.sequence;
  outer.flags = uint16_t(sockperf::kFlagClient | (want_reply_ ? sockperf::kFlagPong : 0));
  outer.length = header.length;
  sockperf::encode(outer, out);
  tool::MessageHeader inner = header;
  inner.length = header.length - sockperf::kHeaderBytes;
  tool::encode(inner, out + sockperf::kHeaderBytes, inner.length, seed_);
}

// A sockperf reply is the request with CLIENT cleared: PONG still set, the
// same length and sequence.
tool::Verdict Framing::unwrap(std::span<const uint8_t> message,
                              std::span<const uint8_t>& inner) const noexcept {
  inner = message;
  if (!sockperf_) return tool::Verdict::ok;
  if (message.size() < sockperf::kHeaderBytes + tool::kHeaderSize) return tool::Verdict::truncated;
  sockperf::Header outer = sockperf::decode(message.data());
  if ((outer.flags & (sockperf::kFlagClient | sockperf::kFlagPong)) != sockperf::kFlagPong) {
    return tool::Verdict::bad_magic;
  }
  if (outer.length != message.size()) return tool::Verdict::wrong_length;
  inner = message.subspan(sockperf::kHeaderBytes);
  if (tool::peek_header(inner.data()).sequence != outer.sequence) return tool::Verdict::bad_magic;
  return tool::Verdict::ok;
}

ReplyStream::ReplyStream(bool sockperf, size_t max_message)
    : sockperf_(sockperf),
      assembler_(sockperf ? tool::kHeaderSize : max_message),
      sockperf_storage_(sockperf ? new uint8_t[max_message] : nullptr),
      reassembler_(sockperf_storage_.get(), sockperf ? uint32_t(max_message) : 0) {}

void ReplyStream::reset() noexcept {
  assembler_.reset();
  reassembler_.reset();
}

}  // namespace ringsock_cli
