// Fuzzes where a reply ends on a stream (tools/ringsock/logic/reply_framing.hpp):
// the option parsers of --reply-bytes, --reply-until, --reply-length and
// --reply, and the framer and assembler of every kind fed a stream split
// at arbitrary points.
//
// Input: byte 0 picks the kind (% 5: bytes, until, length, http, resp);
// byte 1 is the length of the spec text that follows (the option's value);
// then 2 bytes for the largest reply (1..4096), 1 byte seeding the split
// points; the rest is the stream.
// Properties: a spec that parses describes itself as text that parses back
// to the same spec; no feed consumes more than it is given, and "more"
// consumes all of it; every reply is 1..max bytes; the replies, their HTTP
// statuses and the error are the same whether the stream comes whole, in
// pseudo-random pieces or byte by byte; the assembler hands out exactly
// the stream's bytes, reply by reply.
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "fuzz_check.hpp"
#include "logic/escape.hpp"
#include "logic/reply_framing.hpp"

namespace tool = ringsock::tool;

namespace {

const std::uint8_t* bytes_of(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

using Parser = bool (*)(const std::uint8_t*, std::size_t, tool::FramingSpec&, std::string&);

Parser parser_of(tool::FramingKind kind) {
  switch (kind) {
    case tool::FramingKind::bytes: return tool::parse_reply_bytes;
    case tool::FramingKind::until: return tool::parse_reply_until;
    case tool::FramingKind::length: return tool::parse_reply_length;
    default: return tool::parse_reply_protocol;
  }
}

bool same_spec(const tool::FramingSpec& a, const tool::FramingSpec& b) {
  return a.kind == b.kind && a.bytes == b.bytes && a.delimiter == b.delimiter &&
         a.width == b.width && a.endian == b.endian && a.offset == b.offset &&
         a.adjust == b.adjust;
}

// describe() is "KIND VALUE" ("http" and "resp" alone); VALUE, given back to
// the option's parser (until's is escaped), is the same spec.
void check_describe(const tool::FramingSpec& spec) {
  const std::string text = spec.describe();
  const std::size_t space = text.find(' ');
  const std::string value = space == std::string::npos ? text : text.substr(space + 1);
  tool::FramingSpec again;
  std::string error;
  FUZZ_CHECK(parser_of(spec.kind)(bytes_of(value), value.size(), again, error));
  FUZZ_CHECK(same_spec(spec, again));
}

struct Outcome {
  std::vector<std::size_t> sizes;
  std::vector<int> statuses;
  bool failed = false;
  std::string error;
};

// Splits the stream into pieces: 0 whole, 1 byte by byte, else pseudo-random
// lengths 1..64 from the seed.
std::vector<std::string_view> split(std::string_view stream, int how, std::uint32_t seed) {
  std::vector<std::string_view> pieces;
  std::uint32_t state = seed * 2654435761u + 1;
  for (std::size_t at = 0; at < stream.size();) {
    std::size_t n = stream.size();
    if (how == 1) n = 1;
    if (how == 2) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      n = 1 + state % 64;
    }
    pieces.push_back(stream.substr(at, n));
    at += pieces.back().size();
  }
  return pieces;
}

Outcome frame(const tool::FramingSpec& spec, std::size_t max,
              const std::vector<std::string_view>& pieces) {
  Outcome out;
  tool::ReplyFramer framer(spec, max);
  for (std::string_view piece : pieces) {
    while (!piece.empty() && !out.failed) {
      const tool::FrameStep step = framer.feed(bytes_of(piece), piece.size());
      FUZZ_CHECK(step.consumed <= piece.size());
      if (step.status == tool::FrameStatus::error) {
        out.failed = true;
        out.error = std::string(framer.error());
        FUZZ_CHECK(!out.error.empty());
        break;
      }
      if (step.status == tool::FrameStatus::complete) {
        FUZZ_CHECK(framer.reply_size() >= 1 && framer.reply_size() <= max);
        out.sizes.push_back(framer.reply_size());
        out.statuses.push_back(framer.http_status());
      } else {
        FUZZ_CHECK(step.consumed == piece.size());
      }
      FUZZ_CHECK(framer.partial_size() <= max);
      piece.remove_prefix(step.consumed);
    }
    if (out.failed) break;
  }
  return out;
}

// The assembler hands out the stream's bytes in order, reply by reply.
void check_assembler(const tool::FramingSpec& spec, std::size_t max,
                     const std::vector<std::string_view>& pieces, std::string_view stream,
                     const Outcome& expected) {
  tool::ReplyAssembler assembler(spec, max);
  std::size_t at = 0, replies = 0;
  for (std::string_view piece : pieces) {
    const bool ok = assembler.feed(
        std::span(bytes_of(piece), piece.size()),
        [&](std::span<const std::uint8_t> reply, const tool::ReplyFramer&) {
          FUZZ_CHECK(replies < expected.sizes.size() && reply.size() == expected.sizes[replies]);
          FUZZ_CHECK(stream.substr(at, reply.size()) ==
                     std::string_view(reinterpret_cast<const char*>(reply.data()), reply.size()));
          at += reply.size();
          ++replies;
        });
    if (!ok) break;
    FUZZ_CHECK(assembler.buffered() <= max);
  }
  FUZZ_CHECK(replies == expected.sizes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ringsock_fuzz::ByteReader in(data, size);
  const auto kind = tool::FramingKind(in.take<std::uint8_t>() % 5);
  const std::string_view text = in.bytes(in.take<std::uint8_t>());
  const std::size_t max = 1 + in.take<std::uint16_t>() % 4096;
  const std::uint32_t seed = in.take<std::uint8_t>();
  const std::string_view stream = in.rest();

  tool::FramingSpec spec;
  std::string error;
  if (!parser_of(kind)(bytes_of(text), text.size(), spec, error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(spec.kind == kind || kind > tool::FramingKind::length);
  check_describe(spec);
  if (!tool::validate_framing(spec, max, error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  const std::vector<std::string_view> whole = split(stream, 0, seed);
  const Outcome expected = frame(spec, max, whole);
  std::size_t framed = 0;
  for (std::size_t n : expected.sizes) framed += n;
  FUZZ_CHECK(framed <= stream.size());
  for (int how = 1; how <= 2; ++how) {
    const std::vector<std::string_view> pieces = split(stream, how, seed);
    const Outcome got = frame(spec, max, pieces);
    FUZZ_CHECK(got.sizes == expected.sizes && got.statuses == expected.statuses);
    FUZZ_CHECK(got.failed == expected.failed && got.error == expected.error);
    check_assembler(spec, max, pieces, stream, expected);
  }
  return 0;
}
