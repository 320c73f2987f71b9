#include "logic/hlog.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <string>

#include "logic/pacing.hpp"

namespace ringsock::tool {
namespace {

#if RINGSOCK_HAVE_ZLIB
#define REQUIRE_ZLIB() (void)0
#else
#define REQUIRE_ZLIB() GTEST_SKIP() << "built without zlib"
#endif

// HdrHistogram's counts index for lowest discernible 1 and 3 significant
// digits, computed as its documentation describes it: sub_bucket_count 2048
// (2 * 10^3 rounded up to a power of two), half count 1024, unit magnitude 0.
std::size_t hdr_counts_index(std::uint64_t v) {
  const unsigned pow2ceiling = 64 - static_cast<unsigned>(std::countl_zero(v | 2047));
  const unsigned bucket = pow2ceiling - 11;           // - (log2(half count) + 1)
  const std::uint64_t sub = v >> bucket;              // in [1024, 2048) past bucket 0
  return static_cast<std::size_t>(((bucket + 1) << 10) + sub - 1024);
}

TEST(Hlog, OurBucketsAreHdrHistogramsCountsIndices) {
  for (std::uint64_t v = 0; v < 100'000; ++v) ASSERT_EQ(Histogram::index_of(v), hdr_counts_index(v)) << v;
  Rng rng(5);
  for (int i = 0; i < 200'000; ++i) {
    const std::uint64_t v = rng.next() >> (rng.next() % 64);
    ASSERT_EQ(Histogram::index_of(v), hdr_counts_index(v)) << v;
  }
  for (unsigned shift = 0; shift < 63; ++shift) {
    const std::uint64_t v = 1ULL << shift;
    EXPECT_EQ(Histogram::index_of(v - 1), hdr_counts_index(v - 1));
    EXPECT_EQ(Histogram::index_of(v), hdr_counts_index(v));
  }
}

TEST(Hlog, Base64MatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded).value_or("?"), plain);
  }
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zm9v!A==", "=Zm9", "Zg==Zg==", "Zm 9v"})
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
}

// Found by the hlog_read fuzz harness: bits below the last byte that are not
// zero made a second encoding of the same bytes ("aGV=" read as "he").
TEST(Hlog, Base64RefusesNonZeroPadBits) {
  EXPECT_EQ(base64_decode("aGU=").value_or("?"), "he");
  for (const char* bad : {"aGV=", "aGW=", "Zh==", "Zv==", "Zm9vYh=="})
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
}

TEST(Hlog, EncodesTheV2HeaderAndZigZagCounts) {
  Histogram h(3'600'000'000'000ULL);
  h.record_n(1, 1);      // index 1
  h.record_n(3, 64);     // index 3, count 64: zigzag 128 = 0x80 0x01
  const std::string raw = encode_hdr_v2(h);
  ASSERT_GE(raw.size(), 40u);
  auto be = [&](std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(raw[at + i]);
    return v;
  };
  EXPECT_EQ(be(0, 4), 0x1c849313u);
  EXPECT_EQ(be(8, 4), 0u);                      // normalizing index offset
  EXPECT_EQ(be(12, 4), 3u);                     // significant digits
  EXPECT_EQ(be(16, 8), 1u);                     // lowest discernible
  EXPECT_EQ(be(24, 8), 3'600'000'000'000ULL);   // highest trackable
  EXPECT_EQ(be(32, 8), std::bit_cast<std::uint64_t>(1.0));
  // -1 (one empty bucket) -> 0x01, 1 -> 0x02, -1 -> 0x01, 64 -> 0x80 0x01.
  EXPECT_EQ(raw.substr(40), std::string("\x01\x02\x01\x80\x01", 5));
  EXPECT_EQ(be(4, 4), 5u);
}

TEST(Hlog, DecodesWhatHdrHistogramJsWrote) {
  REQUIRE_ZLIB();
  // hdr-histogram-js 3.0.1: build({lowestDiscernibleValue: 1, highestTrackableValue:
  // 3600000000000, numberOfSignificantValueDigits: 3, bitBucketSize: 64}), then
  // recordValueWithCount(1, 3), recordValue(2047), (2048), (2049),
  // recordValueWithCount(1000000, 5), recordValue(123456789), encodeIntoCompressedBase64.
  auto decoded = decode_hdr_base64(
      "HISTFAAAADJ4nJNpmSzMwMDAy8DAwMjAwMDMAAGMDAzMbgY7FjDA+Ww/5ZlY9vcxcn3MYwIAiXkHCA==");
  ASSERT_TRUE(std::holds_alternative<Histogram>(decoded)) << std::get<std::string>(decoded);
  const Histogram& h = std::get<Histogram>(decoded);
  EXPECT_EQ(h.count(), 12u);
  EXPECT_EQ(h.highest_trackable(), 3'600'000'000'000ULL);
  EXPECT_EQ(h.count_at(1), 3u);
  EXPECT_EQ(h.count_at(2047), 1u);
  EXPECT_EQ(h.count_at(Histogram::index_of(2048)), 2u);  // 2048 and 2049 share a bucket
  EXPECT_EQ(h.count_at(Histogram::index_of(1'000'000)), 5u);
  EXPECT_EQ(h.count_at(Histogram::index_of(123'456'789)), 1u);
  // The JavaScript reader's answers for the same data: p50 2049, p90 1000447.
  EXPECT_EQ(h.value_at_percentile(50), 2049u);
  EXPECT_EQ(h.value_at_percentile(90), 1'000'447u);
}

Histogram sample_histogram(std::uint64_t seed, std::size_t n) {
  Histogram h;
  Rng rng(seed);
  for (std::size_t i = 0; i < n; ++i) h.record(1000 + (rng.next() % 5'000'000) * (i % 7 == 0 ? 100 : 1));
  h.record(7);
  h.record(99'000'000'000ULL);
  return h;
}

TEST(Hlog, RoundTripKeepsEveryBucket) {
  REQUIRE_ZLIB();
  const Histogram h = sample_histogram(3, 50'000);
  auto decoded = decode_hdr_base64(encode_hdr_base64(h));
  ASSERT_TRUE(std::holds_alternative<Histogram>(decoded)) << std::get<std::string>(decoded);
  Histogram& d = std::get<Histogram>(decoded);
  ASSERT_EQ(d.bucket_count(), h.bucket_count());
  for (std::size_t i = 0; i < h.bucket_count(); ++i) ASSERT_EQ(d.count_at(i), h.count_at(i)) << i;
  ASSERT_TRUE(d.restore_stats(h.min(), h.max(), h.sum()));
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0})
    EXPECT_EQ(d.value_at_percentile(p), h.value_at_percentile(p)) << p;
  EXPECT_EQ(d.mean(), h.mean());
}

TEST(Hlog, EmptyAndOverflowHistogramsRoundTrip) {
  REQUIRE_ZLIB();
  Histogram empty(5000);
  auto d = decode_hdr_base64(encode_hdr_base64(empty));
  ASSERT_TRUE(std::holds_alternative<Histogram>(d));
  EXPECT_EQ(std::get<Histogram>(d).count(), 0u);
  Histogram small(5000);
  small.record(1'000'000);  // above highest trackable: the last bucket
  d = decode_hdr_base64(encode_hdr_base64(small));
  ASSERT_TRUE(std::holds_alternative<Histogram>(d));
  EXPECT_EQ(std::get<Histogram>(d).count_at(small.bucket_count() - 1), 1u);
  EXPECT_TRUE(std::get<Histogram>(d).restore_stats(1'000'000, 1'000'000, 1'000'000));
}

TEST(Hlog, RestoreStatsRefusesImpossibleExtremes) {
  Histogram h;
  ASSERT_TRUE(h.add_to_bucket(Histogram::index_of(5000), 2));
  EXPECT_FALSE(h.restore_stats(4000, 5000, 10000));   // min below its bucket
  EXPECT_FALSE(h.restore_stats(5000, 9000, 10000));   // max above its bucket
  EXPECT_FALSE(h.restore_stats(5001, 5000, 10000));   // min > max
  EXPECT_FALSE(h.restore_stats(5000, 5000, 30000));   // sum beyond count * max
  EXPECT_TRUE(h.restore_stats(5000, 5001, 10001));
  EXPECT_FALSE(h.add_to_bucket(h.bucket_count(), 1));
  EXPECT_FALSE(h.add_to_bucket(0, UINT64_MAX));
}

TEST(Hlog, RefusesEveryTruncation) {
  REQUIRE_ZLIB();
  const std::string bytes = encode_hdr_compressed(sample_histogram(9, 2000));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto d = decode_hdr_compressed(std::string_view(bytes).substr(0, n));
    EXPECT_TRUE(std::holds_alternative<std::string>(d)) << n;
  }
  const std::string raw = encode_hdr_v2(sample_histogram(9, 2000));
  for (std::size_t n = 0; n < raw.size(); ++n)
    EXPECT_TRUE(std::holds_alternative<std::string>(decode_hdr_v2(raw.substr(0, n)))) << n;
}

TEST(Hlog, CorruptedInputNeverCrashes) {
  REQUIRE_ZLIB();
  const std::string bytes = encode_hdr_compressed(sample_histogram(11, 3000));
  const std::string raw = encode_hdr_v2(sample_histogram(11, 3000));
  Rng rng(1);
  int refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string b = round % 2 ? bytes : raw;
    const int flips = 1 + static_cast<int>(rng.next() % 4);
    for (int f = 0; f < flips; ++f) b[rng.next() % b.size()] ^= static_cast<char>(1 + rng.next() % 255);
    auto d = round % 2 ? decode_hdr_compressed(b) : decode_hdr_v2(b);
    refused += std::holds_alternative<std::string>(d);
  }
  EXPECT_GT(refused, 1000);  // zlib's checksum catches nearly every flip
}

TEST(Hlog, RefusesForeignLayoutsAndCookies) {
  std::string raw = encode_hdr_v2(sample_histogram(2, 10));
  std::string e;
  auto error_of = [](const std::variant<Histogram, std::string>& d) {
    return std::holds_alternative<std::string>(d) ? std::get<std::string>(d) : std::string("decoded");
  };
  std::string other = raw;
  other[15] = 2;  // 2 significant digits
  EXPECT_NE(error_of(decode_hdr_v2(other)).find("ringsock reads 3 digits"), std::string::npos);
  other = raw;
  other[3] = 0x03;  // the uncompressed V2 cookie without the word size
  EXPECT_NE(error_of(decode_hdr_v2(other)).find("cookie"), std::string::npos);
  other = raw;
  other[11] = 1;  // a normalizing offset, as hdr-histogram-js writes: ignored
  EXPECT_EQ(error_of(decode_hdr_v2(other)), "decoded");
  other = raw;
  other[24] = 0x7f;  // highest trackable beyond 2^62
  EXPECT_NE(error_of(decode_hdr_v2(other)).find("out of range"), std::string::npos);
  // A zero run past the end of the counts array.
  other = raw.substr(0, 40) + std::string("\xff\xff\xff\x0f", 4);
  other[4] = other[5] = other[6] = 0;
  other[7] = 4;
  EXPECT_NE(error_of(decode_hdr_v2(other)).find("passes the end"), std::string::npos);
  // A count past the end of the stated range.
  Histogram tiny(2048);
  other = encode_hdr_v2(tiny);
  other += std::string("\xff\xff\x01\x02", 4);  // -16384 empty, then a count
  other[7] = 4;
  EXPECT_NE(error_of(decode_hdr_v2(other)).find("end"), std::string::npos);
  EXPECT_NE(error_of(decode_hdr_base64("not base64!")).find("not base64"), std::string::npos);
}

TEST(Hlog, WritesAndReadsAnIntervalLog) {
  REQUIRE_ZLIB();
  std::string log = hlog_header({.start_unix_s = 1796407200.25, .comment = "ringsock load test"});
  EXPECT_NE(log.find("#[Histogram log format version 1.3]\n"), std::string::npos);
  EXPECT_NE(log.find("#[StartTime: 1796407200.250 (seconds since epoch), Fri Dec 04 18:00:00 UTC 2026]"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"),
            std::string::npos);
  const Histogram a = sample_histogram(1, 100), b = sample_histogram(2, 200);
  log += hlog_interval("latency", 0, 1, a);
  log += hlog_interval("connect time", 0, 1, b);  // the space becomes '_'
  log += hlog_interval("latency", 1, 1.5, b);
  EXPECT_NE(log.find("Tag=latency,0.000,1.000,99000.000,HISTF"), std::string::npos) << log;
  auto read = read_hlog(log);
  ASSERT_TRUE(std::holds_alternative<HlogFile>(read)) << std::get<std::string>(read);
  const HlogFile& f = std::get<HlogFile>(read);
  EXPECT_EQ(f.major, 1);
  EXPECT_EQ(f.minor, 3);
  EXPECT_DOUBLE_EQ(f.start_time_s, 1796407200.25);
  EXPECT_DOUBLE_EQ(f.base_time_s, 1796407200.25);
  ASSERT_EQ(f.intervals.size(), 3u);
  EXPECT_EQ(f.intervals[1].tag, "connect_time");
  EXPECT_DOUBLE_EQ(f.intervals[2].start_s, 1);
  EXPECT_DOUBLE_EQ(f.intervals[2].length_s, 1.5);
  EXPECT_EQ(f.intervals[0].count, a.count());
  auto third = f.intervals[2].histogram();
  ASSERT_TRUE(std::holds_alternative<Histogram>(third));
  EXPECT_EQ(std::get<Histogram>(third).value_at_percentile(99), b.value_at_percentile(99));
  // Written back, the log reads the same.
  auto again = read_hlog(write_hlog(f, "again"));
  ASSERT_TRUE(std::holds_alternative<HlogFile>(again));
  ASSERT_EQ(std::get<HlogFile>(again).intervals.size(), 3u);
  EXPECT_EQ(std::get<HlogFile>(again).intervals[1].encoded, f.intervals[1].encoded);
  EXPECT_EQ(std::get<HlogFile>(again).intervals[1].tag, "connect_time");
}

TEST(Hlog, ReaderRefusesBrokenLogsWithTheLine) {
  REQUIRE_ZLIB();
  const std::string head = hlog_header({.start_unix_s = 1});
  const std::string good = hlog_interval("latency", 0, 1, sample_histogram(1, 10));
  auto error_of = [](std::string_view text) {
    auto r = read_hlog(text);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("read");
  };
  EXPECT_NE(error_of("hello,world\n").find("not an HdrHistogram interval log"), std::string::npos);
  EXPECT_NE(error_of("").find("no version"), std::string::npos);
  EXPECT_NE(error_of("#[Histogram log format version 2.0]\n" + good).find("not 1.x"),
            std::string::npos);
  EXPECT_NE(error_of(head + good.substr(0, good.size() - 9) + "\n").find("line 5"),
            std::string::npos);
  EXPECT_NE(error_of(head + "Tag=x,1,2\n").find("4 fields"), std::string::npos);
  EXPECT_NE(error_of(head + "Tag=x,a,1,1,HISTFAAA\n").find("numbers"), std::string::npos);
  EXPECT_NE(error_of(head + "Tag=,1,1,1,HISTFAAA\n").find("Tag="), std::string::npos);
  EXPECT_EQ(error_of(head + good + "\r\n\n" + good), "read");
}

// Found with the hlog_read harness: a start of 1e300 s was read, then written
// back cut by its line buffer (and cast to time_t for the header's date).
TEST(Hlog, ReaderRefusesNumbersNoLogHas) {
  REQUIRE_ZLIB();
  const std::string head = hlog_header({.start_unix_s = 1});
  const std::string encoded = encode_hdr_base64(sample_histogram(1, 10));
  for (const char* fields : {"1e300,1.000,0.010,", "0.000,-1e16,0.010,", "0.000,1.000,2e15,"}) {
    const auto r = read_hlog(head + "Tag=latency," + fields + encoded + "\n");
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << fields;
    EXPECT_NE(std::get<std::string>(r).find("must be numbers"), std::string::npos) << fields;
  }
  const auto r = read_hlog("#[Histogram log format version 1.3]\n#[StartTime: 1e300 (s)]\n");
  ASSERT_TRUE(std::holds_alternative<HlogFile>(r));
  EXPECT_EQ(std::get<HlogFile>(r).start_time_s, 0);  // not a time: left out, as a broken one is
  const auto big = read_hlog(head + "Tag=latency,1e14,1.000,4611686018427.000," + encoded + "\n");
  EXPECT_TRUE(std::holds_alternative<HlogFile>(big));
}

// Found by the hlog_read fuzz harness: a log of another version with no
// interval line was read as an empty 1.x log.
TEST(Hlog, ReaderRefusesAnotherVersionWithoutIntervals) {
  for (const char* version : {"0.3", "2.0"}) {
    const auto r = read_hlog("#[Histogram log format version " + std::string(version) + "]\n");
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << version;
    EXPECT_EQ(std::get<std::string>(r), "log format version " + std::string(version) + " is not 1.x");
  }
  EXPECT_TRUE(std::holds_alternative<HlogFile>(read_hlog("#[Histogram log format version 1.2]\n")));
}

}  // namespace
}  // namespace ringsock::tool
