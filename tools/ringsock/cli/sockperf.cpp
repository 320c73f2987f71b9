#include "sockperf.hpp"

#include <cstring>

namespace ringsock_cli::sockperf {

namespace {
void put_be(uint8_t* out, uint64_t value, int bytes) noexcept {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = uint8_t(value);
    value >>= 8;
  }
}
uint64_t get_be(const uint8_t* in, int bytes) noexcept {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | in[i];
  return value;
}
}  // namespace

void encode(const Header& header, uint8_t* out) noexcept {
  put_be(out, header.sequence, 8);
  put_be(out + 8, header.flags, 2);
  put_be(out + 10, header.length, 4);
}

Header decode(const uint8_t* in) noexcept {
  return Header{get_be(in, 8), uint16_t(get_be(in + 8, 2)), uint32_t(get_be(in + 10, 4))};
}

bool make_reply(uint8_t* message) noexcept {
  auto flags = uint16_t(get_be(message + 8, 2));
  if ((flags & kFlagPong) == 0) return false;
  put_be(message + 8, flags & ~kFlagClient, 2);
  return true;
}

// Copies into storage until the header is whole, learns the length, then
// copies until the message is whole. One copy per byte keeps it simple and
// handles any split; the messages sockperf sends are small.
Reassembler::Status Reassembler::feed(const uint8_t* data, size_t length, Sink sink,
                                      void* context) noexcept {
  while (length > 0) {
    size_t take = want_ - have_ < length ? want_ - have_ : length;
    std::memcpy(storage_ + have_, data, take);
    have_ += uint32_t(take);
    data += take;
    length -= take;
    if (have_ < want_) break;
    if (want_ == kHeaderBytes) {
      uint32_t total = decode(storage_).length;
      if (total < kHeaderBytes || total > capacity_) return Status::bad_length;
      want_ = total;
      if (want_ > have_) continue;
    }
    uint32_t whole = have_;
    have_ = 0;
    want_ = kHeaderBytes;
    if (!sink(context, storage_, whole)) return Status::stopped;
  }
  return Status::ok;
}

}  // namespace ringsock_cli::sockperf
