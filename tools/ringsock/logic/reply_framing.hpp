// Where a reply ends, on a stream: `ringsock load`'s --reply-bytes,
// --reply-until, --reply-length, --reply http and --reply resp. (On datagram
// sockets one datagram is one reply and no framer runs.)
//
// A ReplyFramer reads a stream in chunks of any size, split anywhere, with
// several replies in one chunk (pipelining), and says per call how many of
// the chunk's bytes complete the current reply. It keeps no copy of the
// bytes: only counters and a short line buffer taken at construction, so
// feed() never allocates. A ReplyAssembler adds a buffer of the largest
// reply and hands out whole replies (in place when they arrive whole).
//
// Specs, as the options take them:
//   --reply-bytes N        every reply is N bytes (N >= 1)
//   --reply-until DELIM    a reply ends with DELIM (C escapes, e.g. \r\n), included
//   --reply-length SPEC    a length field: WIDTH ENDIAN [@OFFSET] [+ADJUST | -ADJUST]
//       WIDTH 1, 2, 4 or 8 bytes; ENDIAN be or le (may be left out for 1);
//       OFFSET where the field starts (default 0); the reply's size is
//       OFFSET + WIDTH + value + ADJUST, i.e. by default the value counts the
//       bytes after the field; a field that counts the whole reply is -WIDTH
//       (e.g. 4be-4), one that counts a 2-byte trailer too is +2.
//   --reply http           an HTTP/1.x response: status line, headers, then a
//       Content-Length body or a chunked one (trailers included); 204, 304 and
//       1xx have no body, and a 1xx (100 Continue) is followed by the final
//       response in the same reply. A response with neither length nor
//       chunking cannot end on a kept-alive connection: an error.
//   --reply resp           one Redis RESP value: + - : $ * with nested arrays
//       and the null bulk string and array; RESP3's _ # , ( = ! % ~ > | too.
// Caveats: the HTTP framer cannot know a request was HEAD (whose response
// has a Content-Length but no body); 101 Switching Protocols is an error.
// A RESP3 push (>) is framed as a reply like any other value.
// Header lines longer than kLineKeep bytes are fine, unless they are the
// status line, Content-Length or Transfer-Encoding (then an error). A reply
// larger than max_reply_bytes is an error, never a silent cut.
// Parsers take (const uint8_t*, size_t) and accept any bytes (fuzzed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ringsock::tool {

enum class FramingKind : std::uint8_t { bytes, until, length, http, resp };
enum class Endian : std::uint8_t { big, little };

struct FramingSpec {
  FramingKind kind = FramingKind::bytes;
  std::uint64_t bytes = 0;      // bytes: every reply's size
  std::string delimiter;        // until: the decoded bytes, not empty
  std::uint8_t width = 4;       // length: 1, 2, 4, 8
  Endian endian = Endian::big;  // length
  std::uint64_t offset = 0;     // length: where the field starts
  std::int64_t adjust = 0;      // length: added to OFFSET + WIDTH + value

  // As the user would write it: "bytes 64", "until \r\n", "length 2le@2+4", "http", "resp".
  std::string describe() const;
};

// The option parsers: each returns false with `error` set to a sentence.
bool parse_reply_bytes(const std::uint8_t* text, std::size_t size, FramingSpec& out,
                       std::string& error);
// The delimiter in C escapes (decoded here).
bool parse_reply_until(const std::uint8_t* text, std::size_t size, FramingSpec& out,
                       std::string& error);
bool parse_reply_length(const std::uint8_t* text, std::size_t size, FramingSpec& out,
                        std::string& error);
// "http" or "resp".
bool parse_reply_protocol(const std::uint8_t* text, std::size_t size, FramingSpec& out,
                          std::string& error);
bool parse_reply_bytes(std::string_view text, FramingSpec& out, std::string& error);
bool parse_reply_until(std::string_view text, FramingSpec& out, std::string& error);
bool parse_reply_length(std::string_view text, FramingSpec& out, std::string& error);
bool parse_reply_protocol(std::string_view text, FramingSpec& out, std::string& error);

// Set-up check of a spec against the largest reply the tool holds (a fixed
// size bigger than it, a delimiter that cannot fit).
bool validate_framing(const FramingSpec& spec, std::size_t max_reply_bytes, std::string& error);

enum class FrameStatus : std::uint8_t {
  more,      // every byte given belongs to the current reply; it goes on
  complete,  // the first `consumed` bytes end the current reply
  error,     // the stream cannot be framed: error() says why; sticky until reset()
};

struct FrameStep {
  std::size_t consumed = 0;
  FrameStatus status = FrameStatus::more;
};

class ReplyFramer {
 public:
  static constexpr std::size_t kLineKeep = 256;  // bytes of a header line kept to read it

  ReplyFramer(const FramingSpec& spec, std::size_t max_reply_bytes);

  // Reads data as the continuation of the stream. After `complete` the
  // framer starts the next reply: call again with the bytes left.
  FrameStep feed(const std::uint8_t* data, std::size_t size) noexcept;

  // The last completed reply's size and, for http, its (final) status code.
  std::size_t reply_size() const noexcept { return last_size_; }
  int http_status() const noexcept { return last_status_; }
  // Bytes of the current, unfinished reply.
  std::size_t partial_size() const noexcept { return taken_; }
  std::string_view error() const noexcept { return {error_, error_length_}; }
  std::size_t max_reply_bytes() const noexcept { return max_; }

  // Forgets a partial reply and an error: a new connection.
  void reset() noexcept;

 private:
  // Per kind: how many of data's bytes it takes; sets done_ / error.
  std::size_t feed_bytes(const std::uint8_t* data, std::size_t size) noexcept;
  std::size_t feed_until(const std::uint8_t* data, std::size_t size) noexcept;
  std::size_t feed_length(const std::uint8_t* data, std::size_t size) noexcept;
  std::size_t feed_http(const std::uint8_t* data, std::size_t size) noexcept;
  std::size_t feed_resp(const std::uint8_t* data, std::size_t size) noexcept;

  // HTTP: lines, and what each one means.
  bool take_line(const std::uint8_t* data, std::size_t size, std::size_t& used) noexcept;
  std::size_t skim_header_lines(const std::uint8_t* data, std::size_t size) noexcept;
  void on_status_line() noexcept;
  void on_header_line() noexcept;
  void on_headers_end() noexcept;
  void on_chunk_size_line() noexcept;
  // RESP: one byte of a value's header line.
  void resp_line_byte(std::uint8_t c) noexcept;
  void resp_header_done() noexcept;
  void resp_value_done() noexcept;
  std::size_t skip_resp_text(const std::uint8_t* data, std::size_t size, std::size_t at) noexcept;

  // Bytes the current reply may still take, counting those this feed() has
  // read so far: a size check then says the same however the stream was split.
  std::size_t room() const noexcept { return max_ - taken_ - read_now_; }

  void fail(const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));
  void fail_with_bytes(const char* what, const std::uint8_t* bytes, std::size_t size) noexcept;
  void finish() noexcept;
  void start_reply() noexcept;

  FramingSpec spec_;
  std::size_t max_;
  std::size_t taken_ = 0;        // bytes of the current reply so far, before this feed()
  std::size_t read_now_ = 0;     // http, resp: bytes of this feed() read before a check
  std::size_t last_size_ = 0;
  int last_status_ = 0;
  bool done_ = false;            // the current reply is complete
  bool failed_ = false;

  // until: KMP over the delimiter.
  std::size_t matched_ = 0;
  std::unique_ptr<std::size_t[]> failure_;

  // length and bytes: the reply's total size once known (0: not yet).
  std::uint64_t total_ = 0;
  std::uint64_t field_ = 0;  // length: the value read so far

  // http and resp: a parser state and counters.
  std::uint8_t state_ = 0;
  int status_ = 0;
  std::int64_t content_length_ = -1;
  std::uint8_t transfer_ = 0;      // http: Transfer-Encoding none, chunked, other
  std::uint64_t left_ = 0;         // body or chunk bytes still to come
  char line_[kLineKeep];
  std::size_t line_length_ = 0;    // bytes of the current line (may exceed kLineKeep)
  std::string_view line_view_;     // the line just completed, valid until the next feed
  std::uint64_t pending_ = 0;      // resp: values still to read
  std::uint8_t resp_type_ = 0;
  bool resp_negative_ = false;
  bool resp_digits_ = false;
  bool resp_cr_ = false;
  std::uint64_t resp_number_ = 0;

  char error_[200];
  std::size_t error_length_ = 0;
};

// A framer and a buffer of the largest reply: hands out whole replies, in
// place when they arrive whole in one chunk, copied when split across chunks.
class ReplyAssembler {
 public:
  ReplyAssembler(const FramingSpec& spec, std::size_t max_reply_bytes);

  // Calls on_reply(std::span<const uint8_t> reply, const ReplyFramer&) per
  // whole reply, in order; the span is valid during the call only. Returns
  // false once the stream cannot be framed (framer().error() says why).
  template <class F>
  bool feed(std::span<const std::uint8_t> data, F&& on_reply);

  const ReplyFramer& framer() const noexcept { return framer_; }
  std::size_t buffered() const noexcept { return buffered_; }
  void reset() noexcept {
    framer_.reset();
    buffered_ = 0;
  }

 private:
  ReplyFramer framer_;
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::size_t buffered_ = 0;
};

template <class F>
bool ReplyAssembler::feed(std::span<const std::uint8_t> data, F&& on_reply) {
  while (!data.empty()) {
    const FrameStep step = framer_.feed(data.data(), data.size());
    if (step.status == FrameStatus::error) return false;
    if (step.status == FrameStatus::complete && buffered_ == 0) {
      on_reply(data.first(step.consumed), framer_);  // whole in this chunk: no copy
    } else {
      std::memcpy(buffer_.get() + buffered_, data.data(), step.consumed);
      buffered_ += step.consumed;
      if (step.status == FrameStatus::complete) {
        on_reply(std::span<const std::uint8_t>(buffer_.get(), buffered_), framer_);
        buffered_ = 0;
      }
    }
    data = data.subspan(step.consumed);
  }
  return true;
}

}  // namespace ringsock::tool
