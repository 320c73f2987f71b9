// Fuzzes what `ringsock merge` reads from an HdrHistogram interval log
// (tools/ringsock/logic/hlog.hpp): the .hlog reader, the base64 and
// compressed V2 histogram decoders under it, and base64 itself.
//
// Input: byte 0 picks what the rest is (% 4): 0 an interval log, 1 a base64
// histogram (as in an interval line), 2 a compressed histogram, 3 any bytes
// for base64.
// Properties: a log that reads has intervals whose histograms decode, with
// the count the reader gave; writing it and reading it back is a fixed
// point after one round (numbers are written to 3 decimals); a histogram
// that decodes encodes to one that decodes to the same buckets
// (decode(encode(x)) == x); base64_decode(base64_encode(x)) == x.
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "logic/hlog.hpp"

namespace tool = ringsock::tool;

namespace {

bool same_buckets(const tool::Histogram& a, const tool::Histogram& b) {
  if (a.count() != b.count() || a.highest_trackable() != b.highest_trackable() ||
      a.bucket_count() != b.bucket_count()) {
    return false;
  }
  for (std::size_t i = 0; i < a.bucket_count(); ++i) {
    if (a.count_at(i) != b.count_at(i)) return false;
  }
  return true;
}

void check_histogram(const std::variant<tool::Histogram, std::string>& decoded) {
  if (const auto* error = std::get_if<std::string>(&decoded)) {
    FUZZ_CHECK(!error->empty());
    return;
  }
  const tool::Histogram& h = std::get<tool::Histogram>(decoded);
  const auto again = tool::decode_hdr_base64(tool::encode_hdr_base64(h));
  FUZZ_CHECK(std::holds_alternative<tool::Histogram>(again));
  FUZZ_CHECK(same_buckets(h, std::get<tool::Histogram>(again)));
  const auto raw = tool::decode_hdr_v2(tool::encode_hdr_v2(h));
  FUZZ_CHECK(std::holds_alternative<tool::Histogram>(raw));
  FUZZ_CHECK(same_buckets(h, std::get<tool::Histogram>(raw)));
}

void check_log(std::string_view text) {
  const auto read = tool::read_hlog(text);
  if (const auto* error = std::get_if<std::string>(&read)) {
    FUZZ_CHECK(!error->empty());
    return;
  }
  const tool::HlogFile& file = std::get<tool::HlogFile>(read);
  FUZZ_CHECK(file.major == 1);
  for (const tool::HlogInterval& interval : file.intervals) {
    const auto h = interval.histogram();
    FUZZ_CHECK(std::holds_alternative<tool::Histogram>(h));
    FUZZ_CHECK(std::get<tool::Histogram>(h).count() == interval.count);
  }
  // Written and read back: the same intervals, and a fixed point after one round.
  const std::string written = tool::write_hlog(file, "");
  const auto reread = tool::read_hlog(written);
  FUZZ_CHECK(std::holds_alternative<tool::HlogFile>(reread));
  const tool::HlogFile& second = std::get<tool::HlogFile>(reread);
  FUZZ_CHECK(second.intervals.size() == file.intervals.size());
  for (std::size_t i = 0; i < file.intervals.size(); ++i) {
    FUZZ_CHECK(second.intervals[i].tag == file.intervals[i].tag);
    FUZZ_CHECK(second.intervals[i].encoded == file.intervals[i].encoded);
    FUZZ_CHECK(second.intervals[i].count == file.intervals[i].count);
  }
  FUZZ_CHECK(tool::write_hlog(second, "") == written);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: check_log(rest); break;
    case 1: check_histogram(tool::decode_hdr_base64(rest)); break;
    case 2: check_histogram(tool::decode_hdr_compressed(rest)); break;
    default: {
      const auto decoded = tool::base64_decode(rest);
      if (decoded) FUZZ_CHECK(tool::base64_encode(*decoded) == rest);  // canonical only
      const auto back = tool::base64_decode(tool::base64_encode(rest));
      FUZZ_CHECK(back && *back == rest);
      break;
    }
  }
  return 0;
}
