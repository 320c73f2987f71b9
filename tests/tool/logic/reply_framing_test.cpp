// Reply framers: every split of the stream gives the same replies, several
// replies in one chunk are told apart, and bad replies and oversized ones
// are errors with a reason.
#include "logic/reply_framing.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace ringsock::tool {
namespace {

struct Framed {
  std::vector<std::string> replies;
  std::vector<int> statuses;
  std::string error;   // empty: no framing error
  std::size_t left = 0;  // bytes of an unfinished reply at the end
};

// Feeds `stream` in chunks of `chunk` bytes (0: all at once).
Framed frame(const FramingSpec& spec, std::string_view stream, std::size_t chunk = 0,
             std::size_t max = 65536) {
  ReplyAssembler assembler(spec, max);
  Framed out;
  if (chunk == 0) chunk = stream.size() == 0 ? 1 : stream.size();
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    const std::string_view part = stream.substr(at, chunk);
    const bool ok = assembler.feed(
        {reinterpret_cast<const std::uint8_t*>(part.data()), part.size()},
        [&](std::span<const std::uint8_t> reply, const ReplyFramer& framer) {
          out.replies.emplace_back(reinterpret_cast<const char*>(reply.data()), reply.size());
          out.statuses.push_back(framer.http_status());
          EXPECT_EQ(framer.reply_size(), reply.size());
        });
    if (!ok) {
      out.error = std::string(assembler.framer().error());
      return out;
    }
  }
  out.left = assembler.framer().partial_size();
  return out;
}

// The replies are the same whatever the chunk size; returns them.
std::vector<std::string> same_for_every_split(const FramingSpec& spec, std::string_view stream) {
  const Framed whole = frame(spec, stream);
  EXPECT_EQ(whole.error, "");
  for (std::size_t chunk = 1; chunk < stream.size(); ++chunk) {
    const Framed split = frame(spec, stream, chunk);
    EXPECT_EQ(split.error, "") << "chunk " << chunk;
    EXPECT_EQ(split.replies, whole.replies) << "chunk " << chunk;
    EXPECT_EQ(split.statuses, whole.statuses) << "chunk " << chunk;
  }
  return whole.replies;
}

std::string error_of(const FramingSpec& spec, std::string_view stream, std::size_t max = 65536) {
  const Framed all = frame(spec, stream, 0, max);
  EXPECT_NE(all.error, "") << "no error for " << stream;
  for (std::size_t chunk = 1; chunk < stream.size(); ++chunk) {
    EXPECT_EQ(frame(spec, stream, chunk, max).error, all.error) << "chunk " << chunk;
  }
  return all.error;
}

FramingSpec spec_of(bool (*parse)(std::string_view, FramingSpec&, std::string&),
                    std::string_view text) {
  FramingSpec spec;
  std::string error;
  EXPECT_TRUE(parse(text, spec, error)) << error;
  return spec;
}
FramingSpec http() { return spec_of(parse_reply_protocol, "http"); }
FramingSpec resp() { return spec_of(parse_reply_protocol, "resp"); }

using Replies = std::vector<std::string>;

// ---- specs ----

TEST(FramingSpec, ParsesEachForm) {
  EXPECT_EQ(spec_of(parse_reply_bytes, "64").describe(), "bytes 64");
  EXPECT_EQ(spec_of(parse_reply_until, "\\r\\n").delimiter, "\r\n");
  EXPECT_EQ(spec_of(parse_reply_until, "\\r\\n").describe(), "until \\r\\n");
  const FramingSpec l = spec_of(parse_reply_length, "2le@2+4");
  EXPECT_EQ(l.width, 2);
  EXPECT_EQ(l.endian, Endian::little);
  EXPECT_EQ(l.offset, 2u);
  EXPECT_EQ(l.adjust, 4);
  EXPECT_EQ(l.describe(), "length 2le@2+4");
  EXPECT_EQ(spec_of(parse_reply_length, "4be").describe(), "length 4be");
  EXPECT_EQ(spec_of(parse_reply_length, "4be-4").adjust, -4);
  EXPECT_EQ(spec_of(parse_reply_length, "1").width, 1);
  EXPECT_EQ(spec_of(parse_reply_length, "8le@16").offset, 16u);
  EXPECT_EQ(http().describe(), "http");
  EXPECT_EQ(resp().describe(), "resp");
}

TEST(FramingSpec, BadSpecsAreSentences) {
  FramingSpec spec;
  std::string e;
  EXPECT_FALSE(parse_reply_bytes("0", spec, e));
  EXPECT_NE(e.find(">= 1"), std::string::npos);
  EXPECT_FALSE(parse_reply_bytes("12x", spec, e));
  EXPECT_FALSE(parse_reply_until("", spec, e));
  EXPECT_NE(e.find("at least one byte"), std::string::npos);
  EXPECT_FALSE(parse_reply_until("\\q", spec, e));
  EXPECT_NE(e.find("--reply-until: \\q at character 1"), std::string::npos) << e;
  EXPECT_FALSE(parse_reply_length("3be", spec, e));
  EXPECT_NE(e.find("1, 2, 4 or 8"), std::string::npos) << e;
  EXPECT_FALSE(parse_reply_length("16be", spec, e));
  EXPECT_FALSE(parse_reply_length("4", spec, e));
  EXPECT_NE(e.find("byte order"), std::string::npos) << e;
  EXPECT_FALSE(parse_reply_length("4be@", spec, e));
  EXPECT_NE(e.find("offset"), std::string::npos) << e;
  EXPECT_FALSE(parse_reply_length("4be+", spec, e));
  EXPECT_NE(e.find("adjustment"), std::string::npos) << e;
  EXPECT_FALSE(parse_reply_length("4bex", spec, e));
  EXPECT_NE(e.find("cannot read \"x\""), std::string::npos) << e;
  EXPECT_FALSE(parse_reply_length("", spec, e));
  EXPECT_FALSE(parse_reply_protocol("HTTP", spec, e));
  EXPECT_NE(e.find("http or resp"), std::string::npos) << e;
}

TEST(FramingSpec, ValidateAgainstTheLargestReply) {
  std::string e;
  EXPECT_TRUE(validate_framing(spec_of(parse_reply_bytes, "100"), 100, e));
  EXPECT_FALSE(validate_framing(spec_of(parse_reply_bytes, "101"), 100, e));
  EXPECT_NE(e.find("largest reply"), std::string::npos) << e;
  EXPECT_FALSE(validate_framing(spec_of(parse_reply_length, "4be@98"), 100, e));
}

// ---- bytes, until, length ----

TEST(ReplyBytes, FixedSizes) {
  EXPECT_EQ(same_for_every_split(spec_of(parse_reply_bytes, "3"), "abcdefgh"),
            (Replies{"abc", "def"}));
  EXPECT_EQ(frame(spec_of(parse_reply_bytes, "3"), "abcdefgh").left, 2u);
}

TEST(ReplyUntil, DelimiterIncludedAcrossSplits) {
  EXPECT_EQ(same_for_every_split(spec_of(parse_reply_until, "\\r\\n"), "+OK\r\n:1\r\n\r\n"),
            (Replies{"+OK\r\n", ":1\r\n", "\r\n"}));
}

TEST(ReplyUntil, OverlappingDelimiterPrefixes) {
  // "abab" inside "ababab..." : the matcher must fall back, not restart.
  EXPECT_EQ(same_for_every_split(spec_of(parse_reply_until, "abac"), "xababacyabac"),
            (Replies{"xababac", "yabac"}));
  EXPECT_EQ(same_for_every_split(spec_of(parse_reply_until, "END\\r\\n"),
                                 "VALUE k 0 1\r\nx\r\nEND\r\nEN\rEND\r\n"),
            (Replies{"VALUE k 0 1\r\nx\r\nEND\r\n", "EN\rEND\r\n"}));
}

TEST(ReplyUntil, TooLongIsAnError) {
  const std::string e = error_of(spec_of(parse_reply_until, "\\n"), std::string(20, 'a') + "\n", 10);
  EXPECT_NE(e.find("larger than the largest the tool holds (10 bytes)"), std::string::npos) << e;
}

TEST(ReplyLength, BigEndianCountsTheBytesAfter) {
  const std::string stream = std::string("\0\0\0\3abc\0\0\0\0\0\0\0\1z", 16);
  EXPECT_EQ(same_for_every_split(spec_of(parse_reply_length, "4be"), stream),
            (Replies{std::string("\0\0\0\3abc", 7), std::string("\0\0\0\0", 4),
                     std::string("\0\0\0\1z", 5)}));
}

TEST(ReplyLength, OffsetAndAdjust) {
  // type(2) len(2 LE) body(len) crc(4): 2le@2+4
  const std::string one = std::string("T1\2\0hiCRC!", 10);
  EXPECT_EQ(same_for_every_split(spec_of(parse_reply_length, "2le@2+4"), one + one),
            (Replies{one, one}));
  // A length that counts the whole reply, itself included: -WIDTH.
  const std::string whole = std::string("\x06\0abcd", 6);
  EXPECT_EQ(same_for_every_split(spec_of(parse_reply_length, "2le-2"), whole + whole),
            (Replies{whole, whole}));
  // 8 bytes, little endian.
  const std::string eight = std::string("\1\0\0\0\0\0\0\0x", 9);
  EXPECT_EQ(same_for_every_split(spec_of(parse_reply_length, "8le"), eight), (Replies{eight}));
}

TEST(ReplyLength, BadLengthsAreErrors) {
  EXPECT_NE(error_of(spec_of(parse_reply_length, "2be-4"), std::string("\0\1", 2))
                .find("before its own length field"),
            std::string::npos);
  EXPECT_NE(error_of(spec_of(parse_reply_length, "4be"), std::string("\0\1\0\0", 4), 1000)
                .find("more than the largest"),
            std::string::npos);
  EXPECT_NE(error_of(spec_of(parse_reply_length, "8be"), std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8))
                .find("more than the largest"),
            std::string::npos);
}

// ---- HTTP ----

const char* kOk = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello";
const char* kChunkedReply =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";

TEST(ReplyHttp, ContentLengthPipelined) {
  const std::string two = std::string(kOk) + kOk;
  const FramingSpec spec = http();
  EXPECT_EQ(same_for_every_split(spec, two), (Replies{kOk, kOk}));
  EXPECT_EQ(frame(spec, two).statuses, (std::vector<int>{200, 200}));
}

TEST(ReplyHttp, ChunkedWithTrailers) {
  EXPECT_EQ(same_for_every_split(http(), std::string(kChunkedReply) + kOk),
            (Replies{kChunkedReply, kOk}));
}

TEST(ReplyHttp, NoBodyStatusesAndInterimResponses) {
  const std::string no_content = "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n";
  const std::string not_modified = "HTTP/1.1 304 Not Modified\r\n\r\n";
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string empty = "HTTP/1.0 404 Not Found\r\ncontent-length:0\r\n\r\n";
  const Framed f = frame(http(), no_content + not_modified + interim + kOk + empty);
  EXPECT_EQ(same_for_every_split(http(), no_content + not_modified + interim + kOk + empty),
            (Replies{no_content, not_modified, interim + kOk, empty}));
  EXPECT_EQ(f.statuses, (std::vector<int>{204, 304, 200, 404}));
}

TEST(ReplyHttp, BareLineFeedsAndLongHeaders) {
  const std::string lf = "HTTP/1.1 200 OK\nContent-Length: 2\nX-Long: " + std::string(1000, 'v') +
                         "\n\nhi";
  EXPECT_EQ(same_for_every_split(http(), lf), (Replies{lf}));
}

// Header lines that cannot end a reply are passed over in place; the ones
// that can must still be read wherever they stand among them: names as long
// as Content-Length or Transfer-Encoding that are neither, either name in
// any case after many others, a folded line, and an nginx-shaped reply.
TEST(ReplyHttp, ManyHeadersBeforeAndAfterTheOnesThatCount) {
  const std::string nginx =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 05 Dec 2026 08:52:07 GMT\r\n"
      "Content-Type: text/html\r\nContent-Length: 7\r\nLast-Modified: Sat, 05 Dec 2026 "
      "08:52:05 GMT\r\nConnection: keep-alive\r\nETag: \"6b13d0b5-1ab\"\r\n"
      "Accept-Ranges: bytes\r\n\r\n<html/>";
  const std::string look_alikes =
      "HTTP/1.1 200 OK\r\nContent-Lengtx: 99\r\nTransfer-Encodinx: gzip\r\nX-A: 1\r\n"
      " folded: 3\r\nX-B:2\r\ncOnTeNt-LeNgTh:   3\r\nX-C: 3\r\n\r\nabc";
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nTRANSFER-ENCODING: chunked\r\nX-C: 3\r\n\r\n"
      "2\r\nhi\r\n0\r\n\r\n";
  EXPECT_EQ(same_for_every_split(http(), nginx + look_alikes + chunked + nginx),
            (Replies{nginx, look_alikes, chunked, nginx}));
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nno colon\r\n")
                .find("without a colon: \"no colon\""),
            std::string::npos);
  // The colon past the first kLineKeep bytes is not seen, as for any line.
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nX-A: 1\r\n" + std::string(300, 'x') +
                                 ": y\r\n\r\n")
                .find("without a colon"),
            std::string::npos);
}

TEST(ReplyHttp, MalformedRepliesAreErrorsWithReasons) {
  EXPECT_NE(error_of(http(), "SSH-2.0-OpenSSH\r\n").find("not an HTTP/1.x status line: \"SSH-2.0"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nno colon here\r\n").find("without a colon"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n").find("not a number"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .find("two different Content-Length"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .find("bad chunk size line: \"zz\""),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n")
                .find("not followed by its line end"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").find("not chunked"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n").find("neither Content-Length"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 101 Switching Protocols\r\n\r\n").find("101"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 099 Odd\r\n").find("not in 100..599"), std::string::npos);
}

TEST(ReplyHttp, LargerThanTheMaximumIsAnError) {
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 80)
                .find("larger than the largest the tool holds (80 bytes)"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'x') + "\r\n", 80)
                .find("(80 bytes)"),
            std::string::npos);
}

// A size that cannot fit is told by its own sentence however the stream is
// split: the check counts the bytes read before it in the same chunk.
TEST(ReplyHttp, SizeChecksCountTheBytesOfTheSameChunk) {
  const std::string body(30, 'b');
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n" + body, 60)
                .find("a Content-Length of 30 makes a reply larger"),
            std::string::npos);
  EXPECT_NE(error_of(http(), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1e\r\n" +
                                 body + "\r\n0\r\n\r\n",
                     60)
                .find("a chunk of 30 bytes makes a reply larger"),
            std::string::npos);
}

TEST(ReplyHttp, ResetStartsOver) {
  ReplyFramer framer(http(), 1000);
  const std::string bad = "garbage\r\n";
  EXPECT_EQ(framer.feed(reinterpret_cast<const std::uint8_t*>(bad.data()), bad.size()).status,
            FrameStatus::error);
  EXPECT_EQ(framer.feed(reinterpret_cast<const std::uint8_t*>(kOk), 5).status, FrameStatus::error);
  framer.reset();
  EXPECT_EQ(framer.error(), "");
  const FrameStep step = framer.feed(reinterpret_cast<const std::uint8_t*>(kOk), strlen(kOk));
  EXPECT_EQ(step.status, FrameStatus::complete);
  EXPECT_EQ(step.consumed, strlen(kOk));
}

// ---- RESP ----

TEST(ReplyResp, ScalarsPipelined) {
  EXPECT_EQ(same_for_every_split(resp(), "+PONG\r\n-ERR no\r\n:42\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n"),
            (Replies{"+PONG\r\n", "-ERR no\r\n", ":42\r\n", "$5\r\nhello\r\n", "$0\r\n\r\n",
                     "$-1\r\n"}));
}

TEST(ReplyResp, BulkMayHoldLineEnds) {
  EXPECT_EQ(same_for_every_split(resp(), "$4\r\n\r\n\r\n\r\n+x\r\n"),
            (Replies{"$4\r\n\r\n\r\n\r\n", "+x\r\n"}));
}

TEST(ReplyResp, NestedArrays) {
  const std::string nested = "*3\r\n:1\r\n*2\r\n$1\r\na\r\n*0\r\n$-1\r\n";
  const std::string null_array = "*-1\r\n";
  const std::string empty = "*0\r\n";
  EXPECT_EQ(same_for_every_split(resp(), nested + null_array + empty + "+OK\r\n"),
            (Replies{nested, null_array, empty, "+OK\r\n"}));
}

TEST(ReplyResp, Resp3Types) {
  const std::string map = "%2\r\n+a\r\n:1\r\n+b\r\n#t\r\n";
  const std::string attributed = "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n";
  const std::string others = "_\r\n";
  const std::string verbatim = "=7\r\ntxt:abc\r\n";
  const std::string set = "~2\r\n,1.5\r\n(123\r\n";
  EXPECT_EQ(same_for_every_split(resp(), map + attributed + others + verbatim + set),
            (Replies{map, attributed, others, verbatim, set}));
}

TEST(ReplyResp, MalformedValuesAreErrors) {
  EXPECT_NE(error_of(resp(), "PONG\r\n").find("not a RESP type byte: 0x50"), std::string::npos);
  EXPECT_NE(error_of(resp(), "$3\r\nabcd\r\n").find("not followed by \\r\\n"), std::string::npos);
  EXPECT_NE(error_of(resp(), "$x\r\n").find("length with the byte 0x78"), std::string::npos);
  EXPECT_NE(error_of(resp(), "$\r\n").find("without its length"), std::string::npos);
  EXPECT_NE(error_of(resp(), "*-2\r\n").find("negative length"), std::string::npos);
  EXPECT_NE(error_of(resp(), "+OK\n").find("without \\r"), std::string::npos);
  EXPECT_NE(error_of(resp(), "+OK\rx").find("not followed by \\n"), std::string::npos);
}

TEST(ReplyResp, LargerThanTheMaximumIsAnError) {
  EXPECT_NE(error_of(resp(), "$100\r\n", 50).find("larger than the largest reply"),
            std::string::npos);
  EXPECT_NE(error_of(resp(), "*1000\r\n", 50).find("1000 values"), std::string::npos);
  EXPECT_NE(error_of(resp(), "+" + std::string(60, 'a') + "\r\n", 50).find("(50 bytes)"),
            std::string::npos);
}

// Found by the reply_framing fuzz harness: whole, the bulk string's size was
// checked without the 5 header bytes of the same chunk.
TEST(ReplyResp, SizeChecksCountTheBytesOfTheSameChunk) {
  EXPECT_NE(error_of(resp(), "$10\r\n0174272889\r\n", 11)
                .find("a RESP string of 10 bytes is larger than the largest reply"),
            std::string::npos);
}

// ---- any bytes ----

TEST(FramingSpec, ParsersTakeAnyBytes) {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  const char alphabet[] = "1248blex@+-0937\\\0rnhttpresp";
  std::string error;
  for (int round = 0; round < 20000; ++round) {
    std::uint8_t text[12];
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const std::size_t n = x % sizeof text;
    for (std::size_t i = 0; i < n; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      text[i] = std::uint8_t(alphabet[x % (sizeof alphabet - 1)]);
    }
    FramingSpec spec;
    if (parse_reply_length(text, n, spec, error)) {
      EXPECT_TRUE(spec.width == 1 || spec.width == 2 || spec.width == 4 || spec.width == 8);
      FramingSpec again;
      const std::string d = spec.describe().substr(7);  // "length " + the spec, which reads back
      ASSERT_TRUE(parse_reply_length(d, again, error)) << d;
      EXPECT_EQ(again.describe(), spec.describe());
    } else {
      EXPECT_FALSE(error.empty());
    }
    (void)parse_reply_bytes(text, n, spec, error);
    (void)parse_reply_until(text, n, spec, error);
    (void)parse_reply_protocol(text, n, spec, error);
  }
}

TEST(ReplyFraming, AnyBytesNeverCrash) {
  const FramingSpec specs[] = {http(), resp(), spec_of(parse_reply_length, "2le@1-1"),
                               spec_of(parse_reply_until, "\\r\\n\\r\\n"),
                               spec_of(parse_reply_bytes, "7")};
  std::uint64_t x = 88172645463325252ULL;
  std::vector<std::uint8_t> junk(4096);
  for (const FramingSpec& spec : specs) {
    ReplyFramer framer(spec, 512);
    for (int round = 0; round < 200; ++round) {
      for (auto& b : junk) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        // Mostly the bytes these grammars are made of, so that parsers go deep.
        b = "\r\n0123456789abcdef:$*+-HTTP/1. %|_\x00\xff"[x % 37];
      }
      std::size_t at = 0;
      while (at < junk.size()) {
        const std::size_t n = std::min<std::size_t>(junk.size() - at, 1 + x % 97);
        const FrameStep step = framer.feed(junk.data() + at, n);
        ASSERT_LE(step.consumed, n);
        if (step.status == FrameStatus::error) {
          EXPECT_FALSE(framer.error().empty());
          framer.reset();
          at += n;
          continue;
        }
        if (step.status == FrameStatus::more) {
          ASSERT_EQ(step.consumed, n);
        } else {
          ASSERT_GT(step.consumed, 0u);
        }
        at += step.consumed;
      }
    }
  }
}

}  // namespace
}  // namespace ringsock::tool
