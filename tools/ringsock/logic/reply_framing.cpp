#include "logic/reply_framing.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

#include "logic/escape.hpp"

namespace ringsock::tool {

namespace {

// Parser states (ReplyFramer::state_).
enum HttpState : std::uint8_t {
  kStatusLine,
  kHeaders,
  kBody,
  kChunkSize,
  kChunkData,
  kChunkEnd,
  kTrailers,
};
enum RespState : std::uint8_t { kType, kLine, kBulk, kBulkCr, kBulkLf };
enum Transfer : std::uint8_t { kIdentity, kChunked, kOtherCoding };

constexpr std::uint64_t kMaxSpecNumber = std::uint64_t(1) << 40;  // offsets, adjusts, sizes

std::string_view as_text(const std::uint8_t* text, std::size_t size) {
  return {reinterpret_cast<const char*>(text), size};
}

// A decimal number in [min, max], the whole of text; false otherwise.
bool parse_decimal(std::string_view text, std::uint64_t min, std::uint64_t max,
                   std::uint64_t& out) {
  if (text.empty() || text.size() > 15) return false;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + std::uint64_t(c - '0');
  }
  if (value < min || value > max) return false;
  out = value;
  return true;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// `lower_b` is in lower case. A byte that is already equal is not folded:
// most servers send the names as written in the RFCs, Content-Length.
bool equals_nocase(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != lower_b[i] && lower(a[i]) != lower_b[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool is_resp_type(std::uint8_t c) {
  switch (c) {
    case '+': case '-': case ':': case '$': case '*':                      // RESP2
    case '_': case '#': case ',': case '(': case '=': case '!':            // RESP3
    case '%': case '~': case '>': case '|':
      return true;
    default:
      return false;
  }
}
bool resp_is_bulk(std::uint8_t t) { return t == '$' || t == '=' || t == '!'; }
bool resp_is_aggregate(std::uint8_t t) {
  return t == '*' || t == '~' || t == '>' || t == '%' || t == '|';
}

}  // namespace

// ---- specs ----------------------------------------------------------------

std::string FramingSpec::describe() const {
  switch (kind) {
    case FramingKind::bytes: return "bytes " + std::to_string(bytes);
    case FramingKind::until: return "until " + escape_for_display(delimiter);
    case FramingKind::length: {
      std::string text = "length " + std::to_string(width) + (endian == Endian::big ? "be" : "le");
      if (offset != 0) text += "@" + std::to_string(offset);
      if (adjust > 0) text += "+" + std::to_string(adjust);
      if (adjust < 0) text += "-" + std::to_string(-adjust);
      return text;
    }
    case FramingKind::http: return "http";
    case FramingKind::resp: return "resp";
  }
  return "?";
}

bool parse_reply_bytes(const std::uint8_t* text, std::size_t size, FramingSpec& out,
                       std::string& error) {
  std::uint64_t n = 0;
  if (!parse_decimal(as_text(text, size), 1, kMaxSpecNumber, n)) {
    error = "--reply-bytes takes a number of bytes >= 1, e.g. 64; got \"" +
            escape_for_display(text, size, 40) + "\"";
    return false;
  }
  out = FramingSpec{};
  out.kind = FramingKind::bytes;
  out.bytes = n;
  return true;
}

bool parse_reply_until(const std::uint8_t* text, std::size_t size, FramingSpec& out,
                       std::string& error) {
  std::string delimiter;
  if (!decode_escapes(text, size, delimiter, error)) {
    error = "--reply-until: " + error;
    return false;
  }
  if (delimiter.empty()) {
    error = "--reply-until needs at least one byte, e.g. '\\r\\n'";
    return false;
  }
  out = FramingSpec{};
  out.kind = FramingKind::until;
  out.delimiter = std::move(delimiter);
  return true;
}

bool parse_reply_length(const std::uint8_t* text, std::size_t size, FramingSpec& out,
                        std::string& error) {
  const std::string_view spec = as_text(text, size);
  const std::string shown = "\"" + escape_for_display(text, size, 40) + "\"";
  const char* form = "; the form is WIDTH(be|le)[@OFFSET][+ADJUST|-ADJUST], e.g. 4be or 2le@2+4";
  FramingSpec s;
  s.kind = FramingKind::length;
  std::size_t at = 0;
  if (spec.empty() || std::string_view("1248").find(spec[0]) == std::string_view::npos ||
      (spec.size() > 1 && spec[1] >= '0' && spec[1] <= '9')) {
    error = "--reply-length " + shown + ": the width must be 1, 2, 4 or 8 bytes" + form;
    return false;
  }
  s.width = std::uint8_t(spec[0] - '0');
  at = 1;
  if (spec.substr(at, 2) == "be" || spec.substr(at, 2) == "le") {
    s.endian = spec[at] == 'b' ? Endian::big : Endian::little;
    at += 2;
  } else if (s.width != 1) {
    error = "--reply-length " + shown + ": a width of " + std::to_string(s.width) +
            " bytes needs its byte order, be or le" + form;
    return false;
  }
  std::string_view rest = spec.substr(at);
  if (!rest.empty() && rest[0] == '@') {
    const std::size_t end = std::min(rest.find_first_of("+-"), rest.size());
    if (!parse_decimal(rest.substr(1, end - 1), 0, kMaxSpecNumber, s.offset)) {
      error = "--reply-length " + shown + ": the offset after @ must be a number of bytes" + form;
      return false;
    }
    rest = rest.substr(end);
  }
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    std::uint64_t adjust = 0;
    if (!parse_decimal(rest.substr(1), 0, kMaxSpecNumber, adjust)) {
      error = "--reply-length " + shown + ": the adjustment after " + rest[0] +
              " must be a number of bytes" + form;
      return false;
    }
    s.adjust = rest[0] == '+' ? std::int64_t(adjust) : -std::int64_t(adjust);
    rest = {};
  }
  if (!rest.empty()) {
    error = "--reply-length " + shown + ": cannot read \"" + escape_for_display(rest, 20) + "\"" +
            form;
    return false;
  }
  out = std::move(s);
  return true;
}

bool parse_reply_protocol(const std::uint8_t* text, std::size_t size, FramingSpec& out,
                          std::string& error) {
  const std::string_view name = as_text(text, size);
  FramingSpec s;
  if (name == "http") {
    s.kind = FramingKind::http;
  } else if (name == "resp") {
    s.kind = FramingKind::resp;
  } else {
    error = "--reply takes http or resp; got \"" + escape_for_display(text, size, 40) + "\"";
    return false;
  }
  out = std::move(s);
  return true;
}

bool parse_reply_bytes(std::string_view t, FramingSpec& out, std::string& error) {
  return parse_reply_bytes(reinterpret_cast<const std::uint8_t*>(t.data()), t.size(), out, error);
}
bool parse_reply_until(std::string_view t, FramingSpec& out, std::string& error) {
  return parse_reply_until(reinterpret_cast<const std::uint8_t*>(t.data()), t.size(), out, error);
}
bool parse_reply_length(std::string_view t, FramingSpec& out, std::string& error) {
  return parse_reply_length(reinterpret_cast<const std::uint8_t*>(t.data()), t.size(), out,
                            error);
}
bool parse_reply_protocol(std::string_view t, FramingSpec& out, std::string& error) {
  return parse_reply_protocol(reinterpret_cast<const std::uint8_t*>(t.data()), t.size(), out,
                              error);
}

bool validate_framing(const FramingSpec& spec, std::size_t max_reply_bytes, std::string& error) {
  const std::string most = std::to_string(max_reply_bytes);
  if (spec.kind == FramingKind::bytes && spec.bytes > max_reply_bytes) {
    error = "--reply-bytes " + std::to_string(spec.bytes) +
            " is larger than the largest reply the tool holds (" + most + " bytes)";
    return false;
  }
  if (spec.kind == FramingKind::until && spec.delimiter.size() > max_reply_bytes) {
    error = "the --reply-until delimiter is longer than the largest reply (" + most + " bytes)";
    return false;
  }
  if (spec.kind == FramingKind::length && spec.offset + spec.width > max_reply_bytes) {
    error = "the --reply-length field ends past the largest reply (" + most + " bytes)";
    return false;
  }
  return true;
}

// ---- the framer -------------------------------------------------------------

ReplyFramer::ReplyFramer(const FramingSpec& spec, std::size_t max_reply_bytes)
    : spec_(spec), max_(max_reply_bytes) {
  if (spec_.kind == FramingKind::until && !spec_.delimiter.empty()) {
    // KMP: failure_[i] is the longest proper prefix of delimiter[0..i] that is also its suffix.
    const std::string& d = spec_.delimiter;
    failure_.reset(new std::size_t[d.size()]);
    failure_[0] = 0;
    for (std::size_t i = 1, k = 0; i < d.size(); ++i) {
      while (k > 0 && d[i] != d[k]) k = failure_[k - 1];
      if (d[i] == d[k]) ++k;
      failure_[i] = k;
    }
  }
  start_reply();
}

void ReplyFramer::start_reply() noexcept {
  done_ = false;
  taken_ = 0;
  matched_ = 0;
  total_ = 0;
  field_ = 0;
  state_ = spec_.kind == FramingKind::resp ? std::uint8_t(kType) : std::uint8_t(kStatusLine);
  status_ = 0;
  content_length_ = -1;
  transfer_ = kIdentity;
  left_ = 0;
  line_length_ = 0;
  pending_ = 1;
  resp_type_ = 0;
}

void ReplyFramer::reset() noexcept {
  failed_ = false;
  error_length_ = 0;
  start_reply();
}

void ReplyFramer::finish() noexcept { done_ = true; }

void ReplyFramer::fail(const char* format, ...) noexcept {
  if (failed_) return;  // the first reason is the one that counts
  failed_ = true;
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(error_, sizeof error_, format, args);
  va_end(args);
  error_length_ = n < 0 ? 0 : std::min(std::size_t(n), sizeof error_ - 1);
}

// "what: \"escaped bytes\"" without allocating, escaped as escape_for_display does.
void ReplyFramer::fail_with_bytes(const char* what, const std::uint8_t* bytes,
                                  std::size_t size) noexcept {
  char shown[100];
  std::size_t n = 0;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < size && n + 5 < sizeof shown; ++i) {
    const std::uint8_t c = bytes[i];
    const char named = c == '\r' ? 'r' : c == '\n' ? 'n' : c == '\t' ? 't' : c == '\\' ? '\\'
                     : c == '"'  ? '"' : 0;
    if (named != 0) {
      shown[n++] = '\\';
      shown[n++] = named;
    } else if (c >= 0x20 && c < 0x7f) {
      shown[n++] = char(c);
    } else {
      shown[n++] = '\\';
      shown[n++] = 'x';
      shown[n++] = kHex[c >> 4];
      shown[n++] = kHex[c & 15];
    }
  }
  fail("%s: \"%.*s\"", what, int(n), shown);
}

FrameStep ReplyFramer::feed(const std::uint8_t* data, std::size_t size) noexcept {
  if (failed_) return {0, FrameStatus::error};
  const std::size_t given = std::min(size, max_ - taken_);
  std::size_t used = 0;
  read_now_ = 0;
  switch (spec_.kind) {
    case FramingKind::bytes: used = feed_bytes(data, given); break;
    case FramingKind::until: used = feed_until(data, given); break;
    case FramingKind::length: used = feed_length(data, given); break;
    case FramingKind::http: used = feed_http(data, given); break;
    case FramingKind::resp: used = feed_resp(data, given); break;
  }
  if (failed_) return {used, FrameStatus::error};
  taken_ += used;
  if (done_) {
    last_size_ = taken_;
    last_status_ = status_;
    start_reply();
    return {used, FrameStatus::complete};
  }
  if (size > given) {
    fail("a reply is larger than the largest the tool holds (%zu bytes)", max_);
    return {used, FrameStatus::error};
  }
  return {used, FrameStatus::more};
}

std::size_t ReplyFramer::feed_bytes(const std::uint8_t*, std::size_t size) noexcept {
  if (spec_.bytes == 0 || spec_.bytes > max_) {
    fail("--reply-bytes %llu cannot be framed within %zu bytes",
         static_cast<unsigned long long>(spec_.bytes), max_);
    return 0;
  }
  const std::size_t take = std::min<std::uint64_t>(size, spec_.bytes - taken_);
  if (taken_ + take == spec_.bytes) finish();
  return take;
}

std::size_t ReplyFramer::feed_until(const std::uint8_t* data, std::size_t size) noexcept {
  const std::string& d = spec_.delimiter;
  if (d.empty()) {
    fail("an empty --reply-until delimiter cannot end a reply");
    return 0;
  }
  std::size_t i = 0;
  while (i < size) {
    if (matched_ == 0) {  // skip to the delimiter's first byte
      const void* p = std::memchr(data + i, static_cast<unsigned char>(d[0]), size - i);
      if (p == nullptr) return size;
      i = std::size_t(static_cast<const std::uint8_t*>(p) - data);
    }
    const char c = char(data[i++]);
    while (matched_ > 0 && c != d[matched_]) matched_ = failure_[matched_ - 1];
    if (c == d[matched_]) ++matched_;
    if (matched_ == d.size()) {
      matched_ = 0;
      finish();
      return i;
    }
  }
  return size;
}

std::size_t ReplyFramer::feed_length(const std::uint8_t* data, std::size_t size) noexcept {
  const std::uint64_t header = spec_.offset + spec_.width;
  std::size_t i = 0;
  while (total_ == 0 && i < size) {
    const std::uint64_t at = taken_ + i;
    if (at < spec_.offset) {  // bytes before the field
      i += std::size_t(std::min<std::uint64_t>(size - i, spec_.offset - at));
      continue;
    }
    const std::uint64_t k = at - spec_.offset;  // byte k of the field
    const std::uint64_t byte = data[i++];
    field_ = spec_.endian == Endian::big ? (field_ << 8) | byte : field_ | (byte << (8 * k));
    if (k + 1 < spec_.width) continue;
    if (field_ > kMaxSpecNumber * 1024) {
      fail("the length field says %llu bytes, more than the largest reply (%zu bytes)",
           static_cast<unsigned long long>(field_), max_);
      return i;
    }
    const std::int64_t total = std::int64_t(header + field_) + spec_.adjust;
    if (total < std::int64_t(header)) {
      fail("the length field says %llu, which with the adjustment %lld ends the reply before "
           "its own length field",
           static_cast<unsigned long long>(field_), static_cast<long long>(spec_.adjust));
      return i;
    }
    if (std::uint64_t(total) > max_) {
      fail("the length field makes a reply of %lld bytes, more than the largest the tool holds "
           "(%zu bytes)",
           static_cast<long long>(total), max_);
      return i;
    }
    total_ = std::uint64_t(total);
  }
  if (total_ == 0) return i;
  const std::size_t take = std::size_t(std::min<std::uint64_t>(size - i, total_ - (taken_ + i)));
  if (taken_ + i + take == total_) finish();
  return i + take;
}

// ---- HTTP -------------------------------------------------------------------

// The current line without its line end; cut to kLineKeep bytes.
static std::string_view kept_line(const char* line, std::size_t length, std::size_t keep) {
  std::string_view s(line, std::min(length, keep));
  if (length <= keep) {
    if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  }
  return s;
}

// A line whole in this chunk is read in place; one split across chunks is
// gathered in line_ (its first kLineKeep bytes). Either way line_view_ is
// the same once the line is complete.
bool ReplyFramer::take_line(const std::uint8_t* data, std::size_t size, std::size_t& used) noexcept {
  const void* lf = std::memchr(data, '\n', size);
  used = lf == nullptr ? size : std::size_t(static_cast<const std::uint8_t*>(lf) - data) + 1;
  if (lf != nullptr && line_length_ == 0) {
    line_length_ = used;
    line_view_ = kept_line(reinterpret_cast<const char*>(data), used, kLineKeep);
    return true;
  }
  const std::size_t keep = std::min(used, kLineKeep - std::min(line_length_, kLineKeep));
  std::memcpy(line_ + std::min(line_length_, kLineKeep), data, keep);
  line_length_ += used;
  if (lf == nullptr) return false;
  line_view_ = kept_line(line_, line_length_, kLineKeep);
  return true;
}

void ReplyFramer::on_status_line() noexcept {
  const std::string_view line = line_view_;
  const auto digit = [&](std::size_t i) { return line[i] >= '0' && line[i] <= '9'; };
  const bool ok = line.size() >= 12 && line.substr(0, 7) == "HTTP/1." && digit(7) &&
                  line[8] == ' ' && digit(9) && digit(10) && digit(11) &&
                  (line.size() == 12 || line[12] == ' ');
  if (!ok) {
    return fail_with_bytes("not an HTTP/1.x status line",
                           reinterpret_cast<const std::uint8_t*>(line.data()),
                           std::min<std::size_t>(line.size(), 60));
  }
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status_ < 100 || status_ > 599) return fail("HTTP status %d is not in 100..599", status_);
  state_ = kHeaders;
}

void ReplyFramer::on_header_line() noexcept {
  const std::string_view line = line_view_;
  if (line.empty()) return on_headers_end();
  if (line[0] == ' ' || line[0] == '\t') return;  // an obsolete folded continuation
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return fail_with_bytes("an HTTP header line without a colon",
                           reinterpret_cast<const std::uint8_t*>(line.data()),
                           std::min<std::size_t>(line.size(), 60));
  }
  const std::string_view name = line.substr(0, colon);
  const bool length = equals_nocase(name, "content-length");
  const bool transfer = equals_nocase(name, "transfer-encoding");
  if (!length && !transfer) return;
  if (line_length_ > kLineKeep) {
    return fail("the %.*s header is longer than %zu bytes", int(name.size()), name.data(),
                kLineKeep);
  }
  const std::string_view value = trim(line.substr(colon + 1));
  if (length) {
    std::uint64_t n = 0;
    if (!parse_decimal(value, 0, kMaxSpecNumber * 1024, n)) {
      return fail_with_bytes("a Content-Length that is not a number",
                             reinterpret_cast<const std::uint8_t*>(value.data()),
                             std::min<std::size_t>(value.size(), 40));
    }
    if (content_length_ >= 0 && std::uint64_t(content_length_) != n) {
      return fail("two different Content-Length headers (%lld and %llu)",
                  static_cast<long long>(content_length_), static_cast<unsigned long long>(n));
    }
    content_length_ = std::int64_t(n);
    return;
  }
  // Chunked must be the last coding for the body's end to be known.
  const std::size_t comma = value.rfind(',');
  const std::string_view last = trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
  transfer_ = equals_nocase(last, "chunked") ? kChunked : kOtherCoding;
}

void ReplyFramer::on_headers_end() noexcept {
  if (status_ == 101) return fail("101 Switching Protocols: the connection leaves HTTP");
  if (status_ < 200) {  // an interim response; the final one follows in this reply
    state_ = kStatusLine;
    content_length_ = -1;
    transfer_ = kIdentity;
    return;
  }
  if (status_ == 204 || status_ == 304) return finish();
  if (transfer_ == kOtherCoding) {
    return fail("a Transfer-Encoding whose last coding is not chunked: the body's end cannot "
                "be told");
  }
  if (transfer_ == kChunked) {
    state_ = kChunkSize;
    return;
  }
  if (content_length_ < 0) {
    return fail("an HTTP %d response with neither Content-Length nor chunked "
                "Transfer-Encoding: its end cannot be told on a kept-alive connection",
                status_);
  }
  if (std::uint64_t(content_length_) > room()) {
    return fail("a Content-Length of %lld makes a reply larger than the largest the tool "
                "holds (%zu bytes)",
                static_cast<long long>(content_length_), max_);
  }
  if (content_length_ == 0) return finish();
  left_ = std::uint64_t(content_length_);
  state_ = kBody;
}

void ReplyFramer::on_chunk_size_line() noexcept {
  const std::string_view line = line_view_;
  std::size_t i = 0;
  std::uint64_t size = 0;
  for (; i < line.size() && hex_digit(line[i]) >= 0 && i < 16; ++i) {
    size = size * 16 + std::uint64_t(hex_digit(line[i]));
  }
  const std::string_view rest = trim(line.substr(i));
  if (i == 0 || i == 16 || (!rest.empty() && rest[0] != ';') || line_length_ > kLineKeep) {
    return fail_with_bytes("a bad chunk size line",
                           reinterpret_cast<const std::uint8_t*>(line.data()),
                           std::min<std::size_t>(line.size(), 40));
  }
  if (size > room()) {
    return fail("a chunk of %llu bytes makes a reply larger than the largest the tool holds "
                "(%zu bytes)",
                static_cast<unsigned long long>(size), max_);
  }
  left_ = size;
  state_ = size == 0 ? kTrailers : kChunkData;
}

// The header lines that cannot change how the reply ends, whole in this
// chunk, passed over in place: one memchr for the line end and one for the
// colon. It stops before the first line that on_header_line() must read (the
// empty line, a folded or colon-less line, a name as long as Content-Length
// or Transfer-Encoding, a line longer than kLineKeep) or that is not whole.
// Returns the bytes passed over. With equals_nocase's exact-byte test it
// took the framer from 2222 to 1483 instructions per nginx reply
// (bench/README.md).
std::size_t ReplyFramer::skim_header_lines(const std::uint8_t* data, std::size_t size) noexcept {
  static constexpr std::size_t kContentLength = 14, kTransferEncoding = 17;  // name lengths
  std::size_t at = 0;
  while (at < size) {
    const std::uint8_t* line = data + at;
    const std::size_t rest = std::min(size - at, kLineKeep);
    const void* lf = std::memchr(line, '\n', rest);
    if (lf == nullptr) break;
    const std::size_t length = std::size_t(static_cast<const std::uint8_t*>(lf) - line);
    if (length == 0 || line[0] == '\r' || line[0] == ' ' || line[0] == '\t') break;
    const void* colon = std::memchr(line, ':', length);
    if (colon == nullptr) break;
    const std::size_t name = std::size_t(static_cast<const std::uint8_t*>(colon) - line);
    if (name == kContentLength || name == kTransferEncoding) break;
    at += length + 1;
  }
  return at;
}

std::size_t ReplyFramer::feed_http(const std::uint8_t* data, std::size_t size) noexcept {
  std::size_t at = 0;
  while (at < size && !done_ && !failed_) {
    if (state_ == kHeaders && line_length_ == 0) {
      at += skim_header_lines(data + at, size - at);
      if (at == size) break;
    }
    if (state_ == kBody || state_ == kChunkData) {
      const std::size_t take = std::size_t(std::min<std::uint64_t>(left_, size - at));
      left_ -= take;
      at += take;
      if (left_ == 0) {
        if (state_ == kBody) {
          finish();
        } else {
          state_ = kChunkEnd;
        }
      }
      continue;
    }
    std::size_t used = 0;
    const bool whole = take_line(data + at, size - at, used);
    at += used;
    if (!whole) break;
    read_now_ = at;
    switch (state_) {
      case kStatusLine: on_status_line(); break;
      case kHeaders: on_header_line(); break;
      case kChunkSize: on_chunk_size_line(); break;
      case kChunkEnd:
        if (line_length_ > 2 || !line_view_.empty()) {
          fail("a chunk's data is not followed by its line end");
        } else {
          state_ = kChunkSize;
        }
        break;
      case kTrailers:
        if (line_length_ <= 2 && line_view_.empty()) finish();
        break;
      default: break;
    }
    line_length_ = 0;
  }
  return at;
}

// ---- RESP -------------------------------------------------------------------

void ReplyFramer::resp_value_done() noexcept {
  if (pending_ == 0) return finish();
  state_ = kType;
}

void ReplyFramer::resp_header_done() noexcept {
  const std::uint8_t t = resp_type_;
  if (!resp_is_bulk(t) && !resp_is_aggregate(t)) return resp_value_done();
  if (!resp_digits_) return fail("a RESP '%c' header without its length", char(t));
  if (resp_negative_) {
    // -1 is RESP2's null bulk string ($-1) and null array (*-1).
    if (resp_number_ == 1 && (t == '$' || t == '*')) return resp_value_done();
    return fail("a RESP '%c' header with a negative length", char(t));
  }
  const std::uint64_t n = resp_number_;
  if (resp_is_bulk(t)) {
    if (n > room()) {
      return fail("a RESP string of %llu bytes is larger than the largest reply the tool holds "
                  "(%zu bytes)",
                  static_cast<unsigned long long>(n), max_);
    }
    left_ = n;
    state_ = n == 0 ? kBulkCr : kBulk;
    return;
  }
  const std::uint64_t values = (t == '%' || t == '|') ? 2 * n : n;
  pending_ += values;
  if (pending_ > max_) {  // each value takes 3 bytes at least
    return fail("a RESP aggregate of %llu values is larger than the largest reply the tool "
                "holds (%zu bytes)",
                static_cast<unsigned long long>(n), max_);
  }
  if (values == 0 && t != '|') return resp_value_done();
  state_ = kType;
}

void ReplyFramer::resp_line_byte(std::uint8_t c) noexcept {
  if (resp_cr_) {
    if (c != '\n') return fail("a RESP line with \\r not followed by \\n");
    return resp_header_done();
  }
  if (c == '\r') {
    resp_cr_ = true;
    return;
  }
  if (c == '\n') return fail("a RESP line that ends in \\n without \\r");
  if (!resp_is_bulk(resp_type_) && !resp_is_aggregate(resp_type_)) return;  // any text
  if (c == '-' && !resp_digits_ && !resp_negative_) {
    resp_negative_ = true;
  } else if (c >= '0' && c <= '9' && resp_number_ < kMaxSpecNumber * 1024) {
    resp_number_ = resp_number_ * 10 + (c - '0');
    resp_digits_ = true;
  } else {
    fail("a RESP '%c' length with the byte 0x%02x in it", char(resp_type_), c);
  }
}

// Skips the text of a simple line (+ - : _ # , () up to its \r; a \n
// before it is an error. Returns where reading goes on.
std::size_t ReplyFramer::skip_resp_text(const std::uint8_t* data, std::size_t size,
                                        std::size_t at) noexcept {
  const void* cr = std::memchr(data + at, '\r', size - at);
  const std::size_t end = cr == nullptr ? size : std::size_t(static_cast<const std::uint8_t*>(cr) - data);
  if (std::memchr(data + at, '\n', end - at) != nullptr) {
    fail("a RESP line that ends in \\n without \\r");
    return end;
  }
  if (cr == nullptr) return size;
  resp_cr_ = true;
  return end + 1;
}

std::size_t ReplyFramer::feed_resp(const std::uint8_t* data, std::size_t size) noexcept {
  std::size_t at = 0;
  while (at < size && !done_ && !failed_) {
    switch (state_) {
      case kType: {
        const std::uint8_t c = data[at++];
        if (!is_resp_type(c)) return fail("not a RESP type byte: 0x%02x", c), at;
        resp_type_ = c;
        if (c != '|') --pending_;  // an attribute comes before the value it describes
        resp_negative_ = resp_digits_ = resp_cr_ = false;
        resp_number_ = 0;
        state_ = kLine;
        break;
      }
      case kLine:
        if (!resp_cr_ && !resp_is_bulk(resp_type_) && !resp_is_aggregate(resp_type_)) {
          at = skip_resp_text(data, size, at);  // a simple line's text, read whole
          break;
        }
        while (at < size && state_ == kLine && !failed_ && !done_) {
          const std::uint8_t c = data[at++];
          read_now_ = at;
          resp_line_byte(c);
        }
        break;
      case kBulk: {
        const std::size_t take = std::size_t(std::min<std::uint64_t>(left_, size - at));
        left_ -= take;
        at += take;
        if (left_ == 0) state_ = kBulkCr;
        break;
      }
      case kBulkCr:
        if (data[at++] != '\r') return fail("a RESP string not followed by \\r\\n"), at;
        state_ = kBulkLf;
        break;
      case kBulkLf:
        if (data[at++] != '\n') return fail("a RESP string not followed by \\r\\n"), at;
        resp_value_done();
        break;
      default: break;
    }
  }
  return at;
}

// ---- the assembler ------------------------------------------------------------

ReplyAssembler::ReplyAssembler(const FramingSpec& spec, std::size_t max_reply_bytes)
    : framer_(spec, max_reply_bytes), buffer_(new std::uint8_t[max_reply_bytes == 0 ? 1 : max_reply_bytes]) {}

}  // namespace ringsock::tool
