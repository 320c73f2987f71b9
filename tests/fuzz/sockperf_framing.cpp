// Fuzzes sockperf's wire framing (tools/ringsock/cli/sockperf.hpp) as
// `serve --mode sockperf` reads it from untrusted peers: the Reassembler on a
// byte stream cut at arbitrary points, and make_reply on what it frames.
//
// Input: byte 0 sets the reassembler's capacity (14 + 4 x byte), byte 1 the
// chunk sizes the stream is fed in, byte 2 after how many messages the sink
// stops (0 = never); the rest is the stream.
// Properties: every framed message is whole (its header's length, 14 up to
// the capacity); cutting the stream differently frames the same messages and
// ends in the same status; make_reply answers exactly the PONG messages and
// changes only the CLIENT flag; encode/decode round-trip any header.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "fuzz_check.hpp"
#include "sockperf.hpp"

namespace sp = ringsock_cli::sockperf;

namespace {

struct Framed {
  std::vector<std::string> messages;
  uint32_t capacity = 0;
  size_t stop_after = 0;  // 0 = never
};

bool sink(void* context, uint8_t* message, uint32_t length) {
  auto& framed = *static_cast<Framed*>(context);
  FUZZ_CHECK(length >= sp::kHeaderBytes && length <= framed.capacity);
  sp::Header header = sp::decode(message);
  FUZZ_CHECK(header.length == length);
  framed.messages.emplace_back(reinterpret_cast<const char*>(message), length);

  std::string before(reinterpret_cast<const char*>(message), length);
  bool replied = sp::make_reply(message);
  FUZZ_CHECK(replied == ((header.flags & sp::kFlagPong) != 0));
  sp::Header after = sp::decode(message);
  if (replied) {
    FUZZ_CHECK(after.flags == (header.flags & ~sp::kFlagClient));
  } else {
    FUZZ_CHECK(std::memcmp(message, before.data(), length) == 0);
  }
  FUZZ_CHECK(after.sequence == header.sequence && after.length == header.length);
  FUZZ_CHECK(std::memcmp(message + sp::kHeaderBytes, before.data() + sp::kHeaderBytes,
                         length - sp::kHeaderBytes) == 0);
  return framed.stop_after == 0 || framed.messages.size() < framed.stop_after;
}

// Feeds `stream` in chunks of `chunk` bytes (0: all at once) until the end or
// a status other than ok; returns that status.
sp::Reassembler::Status frame(std::string_view stream, size_t chunk, Framed& framed) {
  std::vector<uint8_t> storage(framed.capacity);
  sp::Reassembler reassembler(storage.data(), framed.capacity);
  size_t step = chunk == 0 ? stream.size() : chunk;
  auto status = sp::Reassembler::Status::ok;
  for (size_t at = 0; at < stream.size() && status == sp::Reassembler::Status::ok; at += step) {
    std::string_view piece = stream.substr(at, step);
    status = reassembler.feed(reinterpret_cast<const uint8_t*>(piece.data()), piece.size(), sink,
                              &framed);
    FUZZ_CHECK(reassembler.pending() <= framed.capacity);
  }
  return status;
}

void check_header_round_trip(ringsock_fuzz::ByteReader& in) {
  sp::Header header{in.take<uint64_t>(), in.take<uint16_t>(), in.take<uint32_t>()};
  uint8_t wire[sp::kHeaderBytes];
  sp::encode(header, wire);
  sp::Header back = sp::decode(wire);
  FUZZ_CHECK(back.sequence == header.sequence && back.flags == header.flags &&
             back.length == header.length);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ringsock_fuzz::ByteReader in(data, size);
  uint32_t capacity = sp::kHeaderBytes + 4u * in.take<uint8_t>();
  size_t chunk = in.take<uint8_t>() % 32;
  size_t stop_after = in.take<uint8_t>() % 8;
  std::string_view stream = in.rest();

  Framed whole{{}, capacity, stop_after};
  Framed cut{{}, capacity, stop_after};
  auto whole_status = frame(stream, 0, whole);
  auto cut_status = frame(stream, chunk, cut);
  FUZZ_CHECK(whole.messages == cut.messages);
  FUZZ_CHECK(whole_status == cut_status);

  ringsock_fuzz::ByteReader header_bytes(data, size);
  check_header_round_trip(header_bytes);
  return 0;
}
