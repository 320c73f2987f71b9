// Fuzzes how `ringsock load` reads replies (tools/ringsock/logic/message.hpp
// and tools/ringsock/cli/load_framing.hpp): the stream framing of both wire
// formats (ringsock's own header, or behind sockperf's), unwrap, verify, and
// the datagram order tracker.
//
// Input: byte 0 picks the framing (bit 0: sockperf) and byte 1 the chunk size
// the stream is fed in; the next 24 bytes describe one message the harness
// builds itself (sequence, connection, length, a byte to corrupt); the rest is
// a raw reply stream.
// Properties: a message the tool wrote comes back whole and verifies, with
// any chunking; one corrupted byte in it never verifies; a raw stream frames
// into the same messages whatever its chunking; the tracker counts every
// sequence it is given exactly once.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "fuzz_check.hpp"
#include "load_framing.hpp"
#include "logic/message.hpp"
#include "sockperf.hpp"

namespace tool = ringsock::tool;
using ringsock_cli::Framing;
using ringsock_cli::ReplyStream;

namespace {

constexpr uint64_t kSeed = 1;  // the tool's default --seed
constexpr size_t kMaxPayload = 2048;

struct Stream {
  std::vector<std::string> messages;
  bool framing_ok = true;
};

// Feeds `bytes` through a ReplyStream in chunks of `chunk` (0: at once).
Stream frame(bool sockperf, std::string_view bytes, size_t chunk, size_t max_message) {
  Stream out;
  ReplyStream stream(sockperf, max_message);
  size_t step = chunk == 0 || chunk > bytes.size() ? bytes.size() : chunk;
  for (size_t at = 0; at < bytes.size() && out.framing_ok; at += step) {
    std::string_view piece = bytes.substr(at, step);
    out.framing_ok = stream.feed(
        std::span(reinterpret_cast<const uint8_t*>(piece.data()), piece.size()),
        [&](std::span<const uint8_t> m) {
          FUZZ_CHECK(m.size() <= max_message);
          out.messages.emplace_back(reinterpret_cast<const char*>(m.data()), m.size());
        });
  }
  return out;
}

tool::Verdict check(const Framing& framing, const std::string& message, uint32_t connection,
                    std::optional<uint64_t> sequence) {
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(message.data()), message.size());
  std::span<const uint8_t> inner;
  tool::Verdict verdict = framing.unwrap(bytes, inner);
  if (verdict != tool::Verdict::ok) return verdict;
  FUZZ_CHECK(inner.data() >= bytes.data() && inner.size() <= bytes.size());
  return tool::verify(inner.data(), inner.size(), connection, sequence, kSeed).verdict;
}

// One message written as `load` writes it, answered as the server answers it.
void check_own_message(bool sockperf, size_t chunk, ringsock_fuzz::ByteReader& in) {
  Framing framing(sockperf, /*want_reply=*/true, kSeed);
  tool::MessageHeader header;
  header.sequence = in.take<uint64_t>();
  header.connection = in.take<uint32_t>();
  header.length = uint32_t(framing.overhead() + tool::kHeaderSize + in.take<uint16_t>() % kMaxPayload);
  header.send_ns = in.take<uint32_t>();
  auto corrupt_at = in.take<uint16_t>();
  auto corrupt_with = uint8_t(in.take<uint8_t>() | 1);

  std::string wire(header.length, '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(wire.data());
  framing.encode(header, bytes);
  if (sockperf) FUZZ_CHECK(ringsock_cli::sockperf::make_reply(bytes));  // the server's answer

  size_t max_message = header.length;
  Stream replies = frame(sockperf, wire, chunk, max_message);
  FUZZ_CHECK(replies.framing_ok && replies.messages.size() == 1 && replies.messages[0] == wire);
  FUZZ_CHECK(check(framing, wire, header.connection, header.sequence) == tool::Verdict::ok);
  FUZZ_CHECK(check(framing, wire, header.connection, std::nullopt) == tool::Verdict::ok);
  FUZZ_CHECK(check(framing, wire, header.connection + 1, header.sequence) ==
             tool::Verdict::wrong_connection);
  if (header.sequence > 0) {
    FUZZ_CHECK(check(framing, wire, header.connection, header.sequence - 1) ==
               tool::Verdict::sequence_gap);
  }
  // One byte of ringsock's message changed (sockperf's own flags may vary).
  size_t at = framing.overhead() + corrupt_at % (header.length - framing.overhead());
  wire[at] = char(uint8_t(wire[at]) ^ corrupt_with);
  Stream corrupted = frame(sockperf, wire, chunk, max_message);
  for (const std::string& message : corrupted.messages) {
    FUZZ_CHECK(check(framing, message, header.connection, header.sequence) != tool::Verdict::ok);
  }
}

void check_raw_stream(bool sockperf, size_t chunk, std::string_view bytes) {
  Framing framing(sockperf, true, kSeed);
  size_t max_message = framing.overhead() + tool::kHeaderSize + kMaxPayload;
  Stream whole = frame(sockperf, bytes, 0, max_message);
  Stream cut = frame(sockperf, bytes, chunk, max_message);
  FUZZ_CHECK(whole.messages == cut.messages && whole.framing_ok == cut.framing_ok);

  tool::DatagramTracker tracker;
  uint64_t tracked = 0;
  for (const std::string& message : whole.messages) {
    auto* data = reinterpret_cast<const uint8_t*>(message.data());
    tool::Verdict verdict = check(framing, message, 0, std::nullopt);
    FUZZ_CHECK(!tool::to_string(verdict).empty());
    // Datagram order, as if each message came alone (verified or not).
    if (message.size() >= framing.overhead() + tool::kHeaderSize) {
      tracker.on_receive(tool::peek_header(data + framing.overhead()).sequence);
      ++tracked;
    }
    // As a datagram: verify() on exactly these bytes.
    FUZZ_CHECK(!tool::to_string(tool::verify(data, message.size(), 0, 7, kSeed).verdict).empty());
  }
  FUZZ_CHECK(tracker.received() + tracker.duplicates() + tracker.too_old() == tracked);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ringsock_fuzz::ByteReader in(data, size);
  bool sockperf = (in.take<uint8_t>() & 1) != 0;
  size_t chunk = in.take<uint8_t>() % 64;
  check_own_message(sockperf, chunk, in);
  check_raw_stream(sockperf, chunk, in.rest());
  return 0;
}
