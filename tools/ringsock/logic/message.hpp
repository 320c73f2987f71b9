// The load message: a fixed 40-byte little-endian header followed by a
// payload that both ends can regenerate from (seed, connection, sequence),
// so every reply is verified byte for byte without keeping copies.
//
//   offset size field
//        0    4 magic "RSKM"
//        4    2 version (1)
//        6    2 flags (reserved, 0)
//        8    8 sequence
//       16    4 connection id
//       20    4 total length (header + payload)
//       24    8 send time, ns (the sender's monotonic clock)
//       32    4 checksum: CRC32C of bytes [0, 32) and [36, length)
//       36    4 reserved (0)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "logic/crc32c.hpp"

namespace ringsock::tool {

inline constexpr std::uint32_t kMessageMagic = 0x4D4B5352;  // "RSKM" in LE
inline constexpr std::uint16_t kMessageVersion = 2;  // 2: the cheaper payload stream
inline constexpr std::size_t kHeaderSize = 40;

struct MessageHeader {
  std::uint64_t sequence = 0;
  std::uint32_t connection = 0;
  std::uint32_t length = kHeaderSize;  // total, header included
  std::uint64_t send_ns = 0;
};


// Fills out with the payload of (seed, connection, sequence); out.size() may be
// anything. Allocation-free.
void fill_payload(std::span<std::uint8_t> out, std::uint64_t seed, std::uint32_t connection,
                  std::uint64_t sequence) noexcept;

// Writes header and payload into buffer; header.length bytes are written.
// Returns false (writing nothing) if length < kHeaderSize or length > size.
bool encode(const MessageHeader& header, std::uint8_t* buffer, std::size_t size,
            std::uint64_t seed) noexcept;

// Reads the header fields without checking anything; size >= kHeaderSize.
MessageHeader peek_header(const std::uint8_t* buffer) noexcept;

enum class Verdict : std::uint8_t {
  ok,
  truncated,         // shorter than a header
  bad_magic,
  bad_version,
  wrong_length,      // the length field does not match the message's size
  checksum_mismatch, // corrupted in flight
  wrong_connection,
  sequence_gap,      // later than expected: messages were lost (or reordered)
  sequence_behind,   // earlier than expected: a duplicate or a reordering
  payload_mismatch,  // checksum fine but not the payload of this seed
};

std::string_view to_string(Verdict verdict) noexcept;

struct Verification {
  Verdict verdict = Verdict::ok;
  MessageHeader header;  // as read; meaningful from wrong_length on
  bool ok() const noexcept { return verdict == Verdict::ok; }
};

// Verifies one whole message. expected_sequence: nullopt accepts any (for
// datagrams, whose order a DatagramTracker judges). Allocation-free.
Verification verify(const std::uint8_t* buffer, std::size_t size,
                    std::uint32_t expected_connection,
                    std::optional<std::uint64_t> expected_sequence,
                    std::uint64_t seed) noexcept;

// Cuts a byte stream, read in chunks of any size, into whole messages.
// Messages that arrive whole within a chunk are handed out in place; only
// those split across reads are copied, into one buffer of max_message bytes
// allocated at construction.
class StreamAssembler {
 public:
  enum class Status : std::uint8_t { ok, bad_magic, bad_length };

  explicit StreamAssembler(std::size_t max_message);

  // Calls on_message(std::span<const std::uint8_t>) for every message
  // completed by data, in order; the span is valid during the call only.
  // A header that cannot start a message (bad magic, length out of
  // [kHeaderSize, max_message]) leaves the stream out of step: that status is
  // returned now and on every later call until reset().
  template <class F>
  Status feed(std::span<const std::uint8_t> data, F&& on_message);

  Status status() const noexcept { return status_; }
  std::size_t buffered() const noexcept { return buffered_; }
  void reset() noexcept { buffered_ = 0; status_ = Status::ok; }

 private:
  // How long the message whose header starts at header is; sets status_.
  std::size_t frame_length(const std::uint8_t* header) noexcept;

  std::unique_ptr<std::uint8_t[]> buffer_;
  std::size_t max_message_;
  std::size_t buffered_ = 0;
  std::size_t need_ = kHeaderSize;  // total bytes of the message being built
  Status status_ = Status::ok;
};

template <class F>
StreamAssembler::Status StreamAssembler::feed(std::span<const std::uint8_t> data, F&& on_message) {
  while (status_ == Status::ok && !data.empty()) {
    if (buffered_ == 0 && data.size() >= kHeaderSize) {
      const std::size_t length = frame_length(data.data());
      if (status_ != Status::ok) break;
      if (data.size() >= length) {  // whole in this chunk: no copy
        on_message(data.first(length));
        data = data.subspan(length);
        continue;
      }
    }
    const std::size_t take = std::min(need_ - buffered_, data.size());
    std::copy_n(data.data(), take, buffer_.get() + buffered_);
    buffered_ += take;
    data = data.subspan(take);
    if (buffered_ == kHeaderSize && need_ == kHeaderSize) {
      need_ = frame_length(buffer_.get());
      if (status_ != Status::ok) break;
    }
    if (buffered_ == need_) {
      on_message(std::span<const std::uint8_t>(buffer_.get(), need_));
      buffered_ = 0;
      need_ = kHeaderSize;
    }
  }
  return status_;
}

// Datagram order per connection: counts received, lost, duplicated and
// reordered sequences with a sliding window of the last kWindow sequences
// (a fixed bitmap: bounded memory whatever the loss pattern).
class DatagramTracker {
 public:
  static constexpr std::uint64_t kWindow = 1024;

  enum class Event : std::uint8_t {
    in_order,   // the next expected sequence
    gap,        // later than expected; the ones skipped count as lost
    reordered,  // an earlier missing one arrived: no longer lost
    duplicate,  // seen before
    too_old,    // older than the window: cannot tell, counted apart
  };

  explicit DatagramTracker(std::uint64_t first_sequence = 0) noexcept;

  Event on_receive(std::uint64_t sequence) noexcept;

  std::uint64_t received() const noexcept { return received_; }   // unique
  std::uint64_t lost() const noexcept { return lost_; }           // still missing
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  std::uint64_t reordered() const noexcept { return reordered_; }
  std::uint64_t too_old() const noexcept { return too_old_; }
  std::uint64_t next_expected() const noexcept { return next_; }

 private:
  bool seen(std::uint64_t sequence) const noexcept;
  void mark(std::uint64_t sequence, bool value) noexcept;
  void advance_to(std::uint64_t sequence) noexcept;

  std::uint64_t bits_[kWindow / 64] = {};
  std::uint64_t first_;
  std::uint64_t next_;
  std::uint64_t received_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t too_old_ = 0;
};

}  // namespace ringsock::tool
