#include "logic/hlog.hpp"

#if RINGSOCK_HAVE_ZLIB
#include <zlib.h>
#endif

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace ringsock::tool {
namespace {

constexpr std::size_t kHeaderBytes = 40;     // the V2 encoding's header
constexpr std::size_t kCompressedHeader = 8;  // cookie + compressed length
constexpr std::size_t kMaxLeb128 = 9;
constexpr std::uint64_t kHalfBuckets = 1024;  // sub-buckets per power of two past the first

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(in[at + i]);
  return v;
}

// HdrHistogram's LEB128 of a ZigZag-encoded 64-bit value: 7 bits a byte with
// a continuation bit for the first 8 bytes, and all 8 bits in a 9th.
void put_zigzag(std::string& out, std::int64_t value) {
  std::uint64_t u = (static_cast<std::uint64_t>(value) << 1) ^
                    static_cast<std::uint64_t>(value >> 63);
  for (int i = 0; i < 8; ++i) {
    if ((u >> 7) == 0) {
      out += static_cast<char>(u);
      return;
    }
    out += static_cast<char>((u & 0x7F) | 0x80);
    u >>= 7;
  }
  out += static_cast<char>(u);
}

// False when the input ends inside a value.
bool get_zigzag(std::string_view in, std::size_t& at, std::int64_t& value) {
  std::uint64_t u = 0;
  for (int i = 0; i < 9; ++i) {
    if (at >= in.size()) return false;
    const auto b = static_cast<unsigned char>(in[at++]);
    if (i == 8) {
      u |= static_cast<std::uint64_t>(b) << 56;
      break;
    }
    u |= static_cast<std::uint64_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) break;
  }
  value = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

// The counts array length HdrHistogram allocates for lowest 1, 3 digits and
// this highest trackable value: (buckets + 1) * 1024.
std::uint64_t hdr_counts_length(std::uint64_t highest) {
  std::uint64_t smallest_untrackable = 2048, buckets = 1;
  while (smallest_untrackable <= highest) {
    if (smallest_untrackable > (UINT64_MAX >> 2)) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  return (buckets + 1) * kHalfBuckets;
}

std::string fail(const std::string& what) { return "bad histogram encoding: " + what; }

}  // namespace

std::string encode_hdr_v2(const Histogram& h) {
  // Counts up to the last non-empty bucket; trailing empty ones are implied.
  std::size_t end = h.bucket_count();
  while (end > 0 && h.count_at(end - 1) == 0) --end;
  std::string payload;
  for (std::size_t i = 0; i < end;) {
    if (h.count_at(i) != 0) {
      // Counts are int64 in HdrHistogram; 2^63 samples cannot be recorded.
      put_zigzag(payload, static_cast<std::int64_t>(std::min<std::uint64_t>(h.count_at(i), INT64_MAX)));
      ++i;
      continue;
    }
    std::size_t zeros = 0;
    while (i < end && h.count_at(i) == 0) ++zeros, ++i;
    put_zigzag(payload, -static_cast<std::int64_t>(zeros));
  }
  std::string out;
  out.reserve(kHeaderBytes + payload.size());
  put_be(out, kHdrEncodingCookie, 4);
  put_be(out, payload.size(), 4);
  put_be(out, 0, 4);  // normalizing index offset
  put_be(out, kHdrSignificantDigits, 4);
  put_be(out, kHdrLowestDiscernible, 8);
  put_be(out, h.highest_trackable(), 8);
  put_be(out, std::bit_cast<std::uint64_t>(1.0), 8);  // integer to double ratio
  out += payload;
  return out;
}

#if RINGSOCK_HAVE_ZLIB
std::string encode_hdr_compressed(const Histogram& h) {
  const std::string raw = encode_hdr_v2(h);
  uLongf length = compressBound(static_cast<uLong>(raw.size()));
  std::string out(kCompressedHeader + length, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data() + kCompressedHeader), &length,
                           reinterpret_cast<const Bytef*>(raw.data()),
                           static_cast<uLong>(raw.size()), Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) return {};  // only on out-of-memory: an empty encoding decodes as an error
  out.resize(kCompressedHeader + length);
  std::string header;
  put_be(header, kHdrCompressedCookie, 4);
  put_be(header, length, 4);
  out.replace(0, kCompressedHeader, header);
  return out;
}
#else
// Built without zlib (a cross target that lacks it): no compressed form.
std::string encode_hdr_compressed(const Histogram&) { return {}; }
#endif

std::string encode_hdr_base64(const Histogram& h) { return base64_encode(encode_hdr_compressed(h)); }

std::variant<Histogram, std::string> decode_hdr_v2(std::string_view in) {
  if (in.size() < kHeaderBytes) return fail("shorter than its 40-byte header");
  const auto cookie = static_cast<std::uint32_t>(get_be(in, 0, 4));
  if (cookie != kHdrEncodingCookie) {
    char buf[96];
    snprintf(buf, sizeof buf, "cookie 0x%08x is not HdrHistogram's V2 encoding (0x%08x)", cookie,
             kHdrEncodingCookie);
    return fail(buf);
  }
  const std::uint64_t payload = get_be(in, 4, 4);
  const std::uint64_t offset = get_be(in, 8, 4);
  const std::uint64_t digits = get_be(in, 12, 4);
  const std::uint64_t lowest = get_be(in, 16, 8);
  const std::uint64_t highest = get_be(in, 24, 8);
  if (payload != in.size() - kHeaderBytes)
    return fail("payload of " + std::to_string(in.size() - kHeaderBytes) + " bytes, header says " +
                std::to_string(payload) + " (truncated or padded)");
  // The normalizing index offset and the integer-to-double ratio serve
  // HdrHistogram's DoubleHistogram only; integer histograms leave them
  // unused (hdr-histogram-js writes 1 in both), so they are not checked.
  (void)offset;
  if (digits != kHdrSignificantDigits || lowest != kHdrLowestDiscernible)
    return fail("layout of " + std::to_string(digits) + " significant digits, lowest " +
                std::to_string(lowest) + ": ringsock reads 3 digits, lowest 1");
  if (highest < 2 || highest > kHdrMaxHighestTrackable)
    return fail("highest trackable value " + std::to_string(highest) + " is out of range");
  Histogram h(highest);
  const std::uint64_t limit = hdr_counts_length(highest);
  const std::string_view counts = in.substr(kHeaderBytes);
  std::uint64_t index = 0;
  for (std::size_t at = 0; at < counts.size();) {
    std::int64_t v = 0;
    if (!get_zigzag(counts, at, v)) return fail("truncated inside a count");
    if (v < 0) {
      const std::uint64_t zeros = v == INT64_MIN ? UINT64_MAX : static_cast<std::uint64_t>(-v);
      if (zeros > limit - index) return fail("a run of empty buckets passes the end");
      index += zeros;
      continue;
    }
    if (index >= limit) return fail("more buckets than the stated range holds");
    // Past our last bucket (HdrHistogram rounds its array up to a whole
    // power of two): values above highest trackable, kept in the last one.
    const std::size_t ours = static_cast<std::size_t>(std::min<std::uint64_t>(index, h.bucket_count() - 1));
    if (!h.add_to_bucket(ours, static_cast<std::uint64_t>(v))) return fail("the total count overflows");
    ++index;
  }
  return h;
}

#if !RINGSOCK_HAVE_ZLIB
std::variant<Histogram, std::string> decode_hdr_compressed(std::string_view) {
  return fail("this ringsock was built without zlib");
}
#else
std::variant<Histogram, std::string> decode_hdr_compressed(std::string_view in) {
  if (in.size() < kCompressedHeader) return fail("shorter than its 8-byte header");
  const auto cookie = static_cast<std::uint32_t>(get_be(in, 0, 4));
  if (cookie != kHdrCompressedCookie) {
    char buf[112];
    snprintf(buf, sizeof buf, "cookie 0x%08x is not HdrHistogram's compressed V2 encoding (0x%08x)",
             cookie, kHdrCompressedCookie);
    return fail(buf);
  }
  const std::uint64_t length = get_be(in, 4, 4);
  if (length != in.size() - kCompressedHeader)
    return fail("compressed length " + std::to_string(length) + ", but " +
                std::to_string(in.size() - kCompressedHeader) + " bytes follow");
  // A bound on what any valid histogram inflates to: header plus 9 bytes for
  // each count of the widest layout.
  const std::size_t max_out = kHeaderBytes + kMaxLeb128 * hdr_counts_length(kHdrMaxHighestTrackable);
  // Deflate expands at most about 1032 times: a buffer past that bound
  // would never fill, so small inputs get small buffers.
  const std::size_t bound = std::min<std::size_t>(max_out, length * 1032 + 64);
  std::string out(bound + 1, '\0');
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return fail("zlib cannot start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + kCompressedHeader));
  z.avail_in = static_cast<uInt>(length);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const std::size_t produced = out.size() - z.avail_out;
  const uInt left = z.avail_in;
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    if (produced > bound) return fail("inflates to more than any histogram holds");
    return fail(rc == Z_DATA_ERROR ? "corrupted zlib data" : "truncated zlib data");
  }
  if (left != 0) return fail("data after the end of the zlib stream");
  out.resize(produced);
  return decode_hdr_v2(out);
}
#endif

std::variant<Histogram, std::string> decode_hdr_base64(std::string_view text) {
  std::optional<std::string> bytes = base64_decode(text);
  if (!bytes) return fail("not base64");
  return decode_hdr_compressed(*bytes);
}

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k)
      v = v << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0U);
    for (std::size_t k = 0; k < 4; ++k)
      out += k <= n ? kBase64[(v >> (18 - 6 * k)) & 0x3F] : '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const bool padding = i + k >= text.size() - pad;
      const int d = padding ? 0 : base64_value(text[i + k]);
      if (d < 0) return std::nullopt;
      v = v << 6 | static_cast<std::uint32_t>(d);
    }
    const std::size_t n = i + 4 == text.size() ? 3 - pad : 3;
    // Bits below the last byte must be zero (RFC 4648 3.5), so that one byte
    // string has one encoding: "aGV=" is refused, not read as "aGU=".
    if (n < 3 && (v & (0xFFFFFFu >> (8 * n))) != 0) return std::nullopt;
    for (std::size_t k = 0; k < n; ++k) out += static_cast<char>((v >> (16 - 8 * k)) & 0xFF);
  }
  return out;
}

std::string hlog_header(const HlogHeader& header) {
  std::string out;
  char buf[256];
  if (!header.comment.empty()) {
    std::string c = header.comment;
    std::replace(c.begin(), c.end(), '\n', ' ');
    out += "#[" + c + "]\n";
  }
  out += "#[Histogram log format version 1.3]\n";
  std::time_t seconds = static_cast<std::time_t>(header.start_unix_s);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char date[64];
  std::strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &utc);
  snprintf(buf, sizeof buf, "#[StartTime: %.3f (seconds since epoch), %s]\n", header.start_unix_s,
           date);
  out += buf;
  snprintf(buf, sizeof buf, "#[BaseTime: %.3f (seconds since epoch)]\n", header.start_unix_s);
  out += buf;
  out += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";
  return out;
}

std::string hlog_interval(std::string_view tag, double start_s, double length_s,
                          const Histogram& h) {
  std::string clean(tag.empty() ? std::string_view("_") : tag);
  for (char& c : clean)
    if (c == ',' || c == ' ' || c == '\n' || c == '\r') c = '_';
  char buf[128];
  snprintf(buf, sizeof buf, ",%.3f,%.3f,%.3f,", start_s, length_s, static_cast<double>(h.max()) / 1e6);
  return "Tag=" + clean + buf + encode_hdr_base64(h) + "\n";
}

namespace {

// Times and maxima beyond this (30 million years in seconds, 2^62 ns is
// 4.6e12 ms) are no log's: refused, so that writing them back stays within
// its line buffers and a time converts to time_t.
constexpr double kMaxLogNumber = 1e15;

// `out` is changed only when the whole text is such a number.
bool parse_double(std::string_view text, double& out) {
  if (text.empty()) return false;
  double value = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(value) ||
      std::fabs(value) > kMaxLogNumber) {
    return false;
  }
  out = value;
  return true;
}

// "#[Histogram log format version 1.3]"
bool parse_version(std::string_view line, HlogFile& file) {
  constexpr std::string_view prefix = "#[Histogram log format version ";
  if (line.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = line.substr(prefix.size());
  const auto dot = rest.find('.');
  const auto close = rest.find(']');
  if (dot == std::string_view::npos || close == std::string_view::npos || close < dot) return false;
  auto number = [](std::string_view s, int& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size() && out >= 0;
  };
  return number(rest.substr(0, dot), file.major) &&
         number(rest.substr(dot + 1, close - dot - 1), file.minor);
}

// "#[StartTime: 1796407200.000 (seconds since epoch), ...]": the number.
bool parse_time_line(std::string_view line, std::string_view prefix, double& out) {
  if (line.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = line.substr(prefix.size());
  const auto end = rest.find_first_of(" ]");
  return parse_double(rest.substr(0, end), out);
}

std::string line_error(std::size_t number, const std::string& what) {
  return "line " + std::to_string(number) + ": " + what;
}

std::variant<HlogInterval, std::string> parse_interval(std::string_view line) {
  HlogInterval iv;
  if (line.substr(0, 4) == "Tag=") {
    const auto comma = line.find(',');
    if (comma == std::string_view::npos || comma == 4) return std::string("a Tag= without a value");
    iv.tag = std::string(line.substr(4, comma - 4));
    line = line.substr(comma + 1);
  }
  std::string_view fields[4];
  for (int i = 0; i < 3; ++i) {
    const auto comma = line.find(',');
    if (comma == std::string_view::npos)
      return std::string("expected 4 fields: start, length, max, histogram");
    fields[i] = line.substr(0, comma);
    line = line.substr(comma + 1);
  }
  fields[3] = line;
  if (!parse_double(fields[0], iv.start_s) || !parse_double(fields[1], iv.length_s) ||
      !parse_double(fields[2], iv.max_ms))
    return std::string("start, length and max must be numbers");
  auto decoded = decode_hdr_base64(fields[3]);
  if (auto* e = std::get_if<std::string>(&decoded)) return *e;
  iv.count = std::get<Histogram>(decoded).count();
  iv.encoded = std::string(fields[3]);
  return iv;
}

}  // namespace

std::variant<HlogFile, std::string> read_hlog(std::string_view text) {
  HlogFile file;
  bool have_version = false;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '"') continue;  // blank, or the legend
    if (line.front() == '#') {
      if (parse_version(line, file)) have_version = true;
      parse_time_line(line, "#[StartTime: ", file.start_time_s);
      parse_time_line(line, "#[BaseTime: ", file.base_time_s);
      continue;
    }
    if (!have_version)
      return line_error(number, "not an HdrHistogram interval log (no '#[Histogram log format "
                                "version' line before the first interval)");
    if (file.major != 1)
      return line_error(number, "log format version " + std::to_string(file.major) + "." +
                                    std::to_string(file.minor) + " is not 1.x");
    auto parsed = parse_interval(line);
    if (auto* e = std::get_if<std::string>(&parsed)) return line_error(number, *e);
    file.intervals.push_back(std::move(std::get<HlogInterval>(parsed)));
  }
  if (!have_version) return std::string("not an HdrHistogram interval log (no version line)");
  // Refused with no interval too, as it is with one.
  if (file.major != 1)
    return "log format version " + std::to_string(file.major) + "." + std::to_string(file.minor) +
           " is not 1.x";
  return file;
}

std::string write_hlog(const HlogFile& file, const std::string& comment) {
  std::string out = hlog_header({.start_unix_s = file.start_time_s, .comment = comment});
  char buf[128];
  for (const HlogInterval& iv : file.intervals) {
    if (!iv.tag.empty()) out += "Tag=" + iv.tag + ",";
    snprintf(buf, sizeof buf, "%.3f,%.3f,%.3f,", iv.start_s, iv.length_s, iv.max_ms);
    out += buf + iv.encoded + "\n";
  }
  return out;
}

}  // namespace ringsock::tool
