// HdrHistogram's interchange formats, written and read by ringsock:
//
// - the compressed V2 histogram encoding (what every HdrHistogram port
//   decodes): a 40-byte big-endian header (cookie 0x1c849313, payload length,
//   normalizing index offset 0, significant digits, lowest discernible value,
//   highest trackable value, integer-to-double ratio 1.0) followed by the
//   bucket counts as ZigZag LEB128 (at most 9 bytes each; a negative value N
//   stands for -N empty buckets), the whole deflated by zlib behind an 8-byte
//   header (cookie 0x1c849314, compressed length), then base64;
// - the interval log, format version 1.3 (.hlog): '#' header lines, a legend,
//   then one line per interval and metric:
//     Tag=latency,0.000,1.000,0.153,HISTFAAAA...
//   (start relative to #[BaseTime], length in seconds, the interval's max in
//   milliseconds, the compressed histogram).
//
// The reader ignores the normalizing index offset and the ratio, which only
// HdrHistogram's DoubleHistogram uses (hdr-histogram-js writes 1 in both).
//
// Our Histogram (logic/histogram.hpp) has exactly HdrHistogram's layout for a
// lowest discernible value of 1 and 3 significant digits: 2048 sub-buckets,
// values below 2048 exact, then 1024 linear buckets per power of two; bucket
// i of ours is counts index i of HdrHistogram, so counts map index by index.
// Encoded histograms state lowest 1, our highest trackable value and 3
// digits. The reader takes only that layout (any highest trackable value up
// to 2^62), which is what ringsock and any reader with those settings write.
//
// Every reader here is fed untrusted files: a truncated, corrupted or foreign
// input is an error sentence, never a crash, and nothing is allocated from a
// size the input claims before it is checked against a limit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "logic/histogram.hpp"

namespace ringsock::tool {

inline constexpr std::uint32_t kHdrEncodingCookie = 0x1c849303 | 0x10;     // V2, word size 1
inline constexpr std::uint32_t kHdrCompressedCookie = 0x1c849304 | 0x10;   // V2 compressed
inline constexpr std::int32_t kHdrSignificantDigits = 3;
inline constexpr std::int64_t kHdrLowestDiscernible = 1;
// The largest highest-trackable value a decoded histogram may state.
inline constexpr std::uint64_t kHdrMaxHighestTrackable = 1ULL << 62;

// The uncompressed V2 encoding of h (header and counts).
std::string encode_hdr_v2(const Histogram& h);
// The compressed V2 encoding (zlib).
std::string encode_hdr_compressed(const Histogram& h);
// Compressed and base64: the form in .hlog lines and in the JSON result.
std::string encode_hdr_base64(const Histogram& h);

// The inverses. The result holds bucket counts only (see
// Histogram::add_to_bucket); min, max and mean are bucket estimates.
std::variant<Histogram, std::string> decode_hdr_v2(std::string_view bytes);
std::variant<Histogram, std::string> decode_hdr_compressed(std::string_view bytes);
std::variant<Histogram, std::string> decode_hdr_base64(std::string_view text);

// Standard base64 with padding (RFC 4648 section 4).
std::string base64_encode(std::string_view bytes);
// Refuses characters outside the alphabet, bad padding, bad lengths and
// non-zero bits below the last byte (so that bytes have one encoding).
std::optional<std::string> base64_decode(std::string_view text);

// Writing an interval log: header() once, then interval() per metric and
// interval (each returns the text to append to the file).
struct HlogHeader {
  double start_unix_s = 0;    // #[StartTime] and #[BaseTime]: when the run began
  std::string comment;        // an optional first '#[...]' line, e.g. the command
};
std::string hlog_header(const HlogHeader& header);
// start_s is relative to the header's start; the tag must be non-empty,
// without ',', ' ' or line breaks (it is replaced by '_' otherwise).
std::string hlog_interval(std::string_view tag, double start_s, double length_s,
                          const Histogram& h);

// One interval line. The histogram stays encoded (a dense histogram of a
// long log would not fit in memory); read_hlog() has decoded it once to
// check it, so histogram() fails only when memory does.
struct HlogInterval {
  std::string tag;            // "" when the line has none
  double start_s = 0;         // as written (relative to base_time_s when there is one)
  double length_s = 0;
  double max_ms = 0;
  std::uint64_t count = 0;    // samples in the histogram
  std::string encoded;        // the compressed histogram, base64

  std::variant<Histogram, std::string> histogram() const { return decode_hdr_base64(encoded); }
};

struct HlogFile {
  int major = 0, minor = 0;   // of '#[Histogram log format version M.m]'
  double start_time_s = 0;    // #[StartTime], 0 when absent
  double base_time_s = 0;     // #[BaseTime], 0 when absent
  std::vector<HlogInterval> intervals;
};

// Reads a whole interval log (version 1.x), decoding every histogram once to
// check it. Errors name the line. Times and maxima must be finite and at
// most 1e15 in magnitude; a #[StartTime] or #[BaseTime] that is not such a
// number is left out (0).
std::variant<HlogFile, std::string> read_hlog(std::string_view text);

// The text of a log: header (file.start_time_s as StartTime and BaseTime,
// `comment` first when not empty), then every interval as it is.
std::string write_hlog(const HlogFile& file, const std::string& comment);

}  // namespace ringsock::tool
