#include "logic/message.hpp"

#include <bit>
#include <cstring>

#include "logic/pacing.hpp"  // splitmix64

namespace ringsock::tool {
namespace {

// Little-endian field access, whatever the host, without alignment needs.
template <class T>
T load(const std::uint8_t* p) noexcept {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
  return v;
}

template <class T>
void store(std::uint8_t* p, T v) noexcept {
  for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// The payload's 64-bit words, little-endian: one move on little-endian hosts
// (the byte loop above is not merged by every compiler, and the payload is
// the hot part of a 64 KiB message).
void store_word(std::uint8_t* p, std::uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, 8);
  } else {
    store(p, v);
  }
}

std::uint64_t load_word(const std::uint8_t* p) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  return load<std::uint64_t>(p);
}

std::uint32_t message_checksum(const std::uint8_t* msg, std::size_t length) noexcept {
  const std::uint32_t head = crc32c(msg, 32);
  return crc32c(msg + 36, length - 36, head);
}

// Word i of the payload stream: random access, so verification can compare
// in place without regenerating into a buffer. One multiply and a shift per
// word (the loops vectorize): a 64 KiB message costs microseconds, not the
// tens a full mixer took, and the stream still differs for every (seed,
// connection, sequence) - its base is fully mixed.
struct PayloadStream {
  std::uint64_t base;
  std::uint64_t word(std::uint64_t i) const noexcept {
    std::uint64_t x = (base + i) * 0x9E3779B97F4A7C15ULL;
    return x ^ (x >> 29);
  }
};

PayloadStream payload_stream(std::uint64_t seed, std::uint32_t connection,
                             std::uint64_t sequence) noexcept {
  std::uint64_t state = seed;
  std::uint64_t base = splitmix64(state) ^ connection;
  base = splitmix64(base) ^ sequence;
  return {splitmix64(base)};
}

bool payload_matches(const std::uint8_t* data, std::size_t size, PayloadStream stream) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8)
    if (load_word(data + i) != stream.word(i / 8)) return false;
  std::uint8_t tail[8];
  store(tail, stream.word(i / 8));
  return std::memcmp(data + i, tail, size - i) == 0;
}

}  // namespace

void fill_payload(std::span<std::uint8_t> out, std::uint64_t seed, std::uint32_t connection,
                  std::uint64_t sequence) noexcept {
  const PayloadStream stream = payload_stream(seed, connection, sequence);
  std::size_t i = 0;
  for (; i + 8 <= out.size(); i += 8) store_word(out.data() + i, stream.word(i / 8));
  std::uint8_t tail[8];
  store(tail, stream.word(i / 8));
  std::memcpy(out.data() + i, tail, out.size() - i);
}

bool encode(const MessageHeader& header, std::uint8_t* buffer, std::size_t size,
            std::uint64_t seed) noexcept {
  if (header.length < kHeaderSize || header.length > size) return false;
  store<std::uint32_t>(buffer, kMessageMagic);
  store<std::uint16_t>(buffer + 4, kMessageVersion);
  store<std::uint16_t>(buffer + 6, 0);
  store<std::uint64_t>(buffer + 8, header.sequence);
  store<std::uint32_t>(buffer + 16, header.connection);
  store<std::uint32_t>(buffer + 20, header.length);
  store<std::uint64_t>(buffer + 24, header.send_ns);
  store<std::uint32_t>(buffer + 36, 0);
  fill_payload({buffer + kHeaderSize, header.length - kHeaderSize}, seed, header.connection,
               header.sequence);
  store<std::uint32_t>(buffer + 32, message_checksum(buffer, header.length));
  return true;
}

MessageHeader peek_header(const std::uint8_t* buffer) noexcept {
  return {load<std::uint64_t>(buffer + 8), load<std::uint32_t>(buffer + 16),
          load<std::uint32_t>(buffer + 20), load<std::uint64_t>(buffer + 24)};
}

Verification verify(const std::uint8_t* buffer, std::size_t size,
                    std::uint32_t expected_connection,
                    std::optional<std::uint64_t> expected_sequence,
                    std::uint64_t seed) noexcept {
  if (size < kHeaderSize) return {Verdict::truncated, {}};
  if (load<std::uint32_t>(buffer) != kMessageMagic) return {Verdict::bad_magic, {}};
  if (load<std::uint16_t>(buffer + 4) != kMessageVersion) return {Verdict::bad_version, {}};
  const MessageHeader h = peek_header(buffer);
  if (h.length != size) return {Verdict::wrong_length, h};
  // The checksum before the fields it covers: a corrupted field is reported
  // as corruption, not as a protocol error.
  if (load<std::uint32_t>(buffer + 32) != message_checksum(buffer, size))
    return {Verdict::checksum_mismatch, h};
  if (h.connection != expected_connection) return {Verdict::wrong_connection, h};
  if (expected_sequence && h.sequence > *expected_sequence) return {Verdict::sequence_gap, h};
  if (expected_sequence && h.sequence < *expected_sequence) return {Verdict::sequence_behind, h};
  const PayloadStream stream = payload_stream(seed, h.connection, h.sequence);
  if (!payload_matches(buffer + kHeaderSize, size - kHeaderSize, stream))
    return {Verdict::payload_mismatch, h};
  return {Verdict::ok, h};
}

std::string_view to_string(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::ok: return "ok";
    case Verdict::truncated: return "truncated";
    case Verdict::bad_magic: return "bad magic";
    case Verdict::bad_version: return "bad version";
    case Verdict::wrong_length: return "wrong length";
    case Verdict::checksum_mismatch: return "checksum mismatch";
    case Verdict::wrong_connection: return "wrong connection";
    case Verdict::sequence_gap: return "sequence gap";
    case Verdict::sequence_behind: return "sequence behind";
    case Verdict::payload_mismatch: return "payload mismatch";
  }
  return "unknown";
}

StreamAssembler::StreamAssembler(std::size_t max_message)
    : buffer_(new std::uint8_t[std::max(max_message, kHeaderSize)]),
      max_message_(std::max(max_message, kHeaderSize)) {}

std::size_t StreamAssembler::frame_length(const std::uint8_t* header) noexcept {
  if (load<std::uint32_t>(header) != kMessageMagic) {
    status_ = Status::bad_magic;
    return 0;
  }
  const std::size_t length = load<std::uint32_t>(header + 20);
  if (length < kHeaderSize || length > max_message_) status_ = Status::bad_length;
  return length;
}

DatagramTracker::DatagramTracker(std::uint64_t first_sequence) noexcept : first_(first_sequence), next_(first_sequence) {}

bool DatagramTracker::seen(std::uint64_t sequence) const noexcept {
  const std::uint64_t bit = sequence % kWindow;
  return (bits_[bit / 64] >> (bit % 64)) & 1U;
}

void DatagramTracker::mark(std::uint64_t sequence, bool value) noexcept {
  const std::uint64_t bit = sequence % kWindow;
  const std::uint64_t mask = 1ULL << (bit % 64);
  bits_[bit / 64] = value ? bits_[bit / 64] | mask : bits_[bit / 64] & ~mask;
}

// Makes room for sequences [next_, sequence]: their slots held sequences
// a window older, which now fall out of it.
void DatagramTracker::advance_to(std::uint64_t sequence) noexcept {
  if (sequence - next_ >= kWindow) {
    std::fill(std::begin(bits_), std::end(bits_), 0);
  } else {
    // Counted, not `s <= sequence`: that never ends at the largest sequence.
    for (std::uint64_t n = sequence - next_ + 1, s = next_; n > 0; --n, ++s) mark(s, false);
  }
  lost_ += sequence - next_;
  next_ = sequence + 1;
}

DatagramTracker::Event DatagramTracker::on_receive(std::uint64_t sequence) noexcept {
  if (sequence >= next_) {
    const bool skipped = sequence != next_;
    advance_to(sequence);
    mark(sequence, true);
    ++received_;
    return skipped ? Event::gap : Event::in_order;
  }
  // Before the first expected one, or older than the window: unknown.
  if (sequence < first_ || next_ - sequence > kWindow) {
    ++too_old_;
    return Event::too_old;
  }
  if (seen(sequence)) {
    ++duplicates_;
    return Event::duplicate;
  }
  mark(sequence, true);
  ++received_;
  ++reordered_;
  --lost_;  // it was counted lost when the gap opened
  return Event::reordered;
}

}  // namespace ringsock::tool
