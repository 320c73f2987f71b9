#include "logic/message.hpp"
#include "logic/pacing.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ringsock::tool {
namespace {

constexpr std::uint64_t kSeed = 0xC0FFEE;

std::vector<std::uint8_t> make(std::uint64_t seq, std::uint32_t conn, std::uint32_t length,
                               std::uint64_t seed = kSeed) {
  std::vector<std::uint8_t> buf(length);
  MessageHeader h{.sequence = seq, .connection = conn, .length = length, .send_ns = 777};
  EXPECT_TRUE(encode(h, buf.data(), buf.size(), seed));
  return buf;
}

Verdict check(const std::vector<std::uint8_t>& m, std::uint32_t conn,
              std::optional<std::uint64_t> seq, std::uint64_t seed = kSeed) {
  return verify(m.data(), m.size(), conn, seq, seed).verdict;
}

TEST(Crc32c, KnownVectors) {
  const char* s = "123456789";
  EXPECT_EQ(crc32c(reinterpret_cast<const std::uint8_t*>(s), 9), 0xE3069283u);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
  std::vector<std::uint8_t> zeros(32, 0);
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
  // Chained equals whole, at every split.
  std::vector<std::uint8_t> data(100);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
  const auto whole = crc32c(data.data(), data.size());
  for (std::size_t k = 0; k <= data.size(); ++k)
    ASSERT_EQ(crc32c(data.data() + k, data.size() - k, crc32c(data.data(), k)), whole) << k;
}

// The CPU instruction (where there is one) and the table agree on every
// length and alignment, chained or not.
TEST(Crc32c, CpuAndPortableAgree) {
  std::vector<std::uint8_t> data(4096 + 16);
  std::uint64_t state = 7;
  for (auto& b : data) b = std::uint8_t(ringsock::tool::splitmix64(state));
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t length : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4096}) {
      const std::uint8_t* p = data.data() + offset;
      ASSERT_EQ(crc32c(p, length), ringsock::tool::crc32c_portable(p, length)) << offset << " " << length;
      ASSERT_EQ(crc32c(p, length, 0x12345678u),
                ringsock::tool::crc32c_portable(p, length, 0x12345678u));
    }
  }
#if defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) {
    EXPECT_TRUE(ringsock::tool::crc32c_accelerated());
  }
#endif
}

TEST(Message, RoundTripsAtEverySize) {
  for (std::uint32_t len = kHeaderSize; len < kHeaderSize + 70; ++len) {
    const auto m = make(5, 3, len);
    const auto v = verify(m.data(), m.size(), 3, 5, kSeed);
    ASSERT_EQ(v.verdict, Verdict::ok) << len;
    EXPECT_EQ(v.header.sequence, 5u);
    EXPECT_EQ(v.header.connection, 3u);
    EXPECT_EQ(v.header.length, len);
    EXPECT_EQ(v.header.send_ns, 777u);
    EXPECT_EQ(check(m, 3, std::nullopt), Verdict::ok);
  }
}

TEST(Message, PayloadIsDeterministicAndDependsOnEveryInput) {
  EXPECT_EQ(make(1, 2, 200), make(1, 2, 200));
  const auto base = make(1, 2, 200);
  auto payload = [](const std::vector<std::uint8_t>& m) {
    return std::vector<std::uint8_t>(m.begin() + kHeaderSize, m.end());
  };
  EXPECT_NE(payload(base), payload(make(2, 2, 200)));
  EXPECT_NE(payload(base), payload(make(1, 3, 200)));
  EXPECT_NE(payload(base), payload(make(1, 2, 200, kSeed + 1)));
}

TEST(Message, EncodeRejectsBadLengths) {
  std::vector<std::uint8_t> buf(100, 0xAB);
  MessageHeader h{.length = 39};
  EXPECT_FALSE(encode(h, buf.data(), buf.size(), kSeed));
  h.length = 101;
  EXPECT_FALSE(encode(h, buf.data(), buf.size(), kSeed));
  EXPECT_EQ(buf[0], 0xAB);
}

TEST(Message, Verdicts) {
  const auto m = make(10, 4, 128);
  EXPECT_EQ(verify(m.data(), 39, 4, 10, kSeed).verdict, Verdict::truncated);
  EXPECT_EQ(verify(m.data(), 127, 4, 10, kSeed).verdict, Verdict::wrong_length);
  EXPECT_EQ(check(m, 5, 10), Verdict::wrong_connection);
  EXPECT_EQ(check(m, 4, 9), Verdict::sequence_gap);
  EXPECT_EQ(check(m, 4, 11), Verdict::sequence_behind);
  EXPECT_EQ(check(m, 4, 10, kSeed + 1), Verdict::payload_mismatch);
  auto bad = m;
  bad[0] ^= 1;
  EXPECT_EQ(check(bad, 4, 10), Verdict::bad_magic);
  bad = m;
  bad[4] = std::uint8_t(kMessageVersion + 1);
  EXPECT_EQ(check(bad, 4, 10), Verdict::bad_version);
  bad = m;
  bad[100] ^= 0x10;
  EXPECT_EQ(check(bad, 4, 10), Verdict::checksum_mismatch);
  for (auto v : {Verdict::ok, Verdict::checksum_mismatch, Verdict::sequence_behind})
    EXPECT_FALSE(to_string(v).empty());
}

TEST(Message, EverySingleByteCorruptionIsDetected) {
  const auto m = make(123456, 9, 97);
  for (std::size_t i = 0; i < m.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = m;
      bad[i] ^= static_cast<std::uint8_t>(1U << bit);
      ASSERT_NE(check(bad, 9, 123456), Verdict::ok) << "byte " << i << " bit " << bit;
    }
    auto bad = m;
    bad[i] = static_cast<std::uint8_t>(~bad[i]);
    ASSERT_NE(check(bad, 9, 123456), Verdict::ok) << "byte " << i;
  }
}

// A stream of messages of varied sizes.
std::vector<std::uint8_t> stream_of(std::size_t n, std::vector<std::size_t>* sizes) {
  std::vector<std::uint8_t> s;
  for (std::size_t i = 0; i < n; ++i) {
    const auto len = static_cast<std::uint32_t>(kHeaderSize + (i * 13) % 50);
    const auto m = make(i, 1, len);
    s.insert(s.end(), m.begin(), m.end());
    sizes->push_back(len);
  }
  return s;
}

TEST(StreamAssembler, SplitAtEveryByteBoundary) {
  std::vector<std::size_t> sizes;
  const auto s = stream_of(4, &sizes);
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    StreamAssembler a(256);
    std::uint64_t next = 0;
    auto on = [&](std::span<const std::uint8_t> m) {
      ASSERT_EQ(verify(m.data(), m.size(), 1, next, kSeed).verdict, Verdict::ok) << cut;
      ++next;
    };
    ASSERT_EQ(a.feed({s.data(), cut}, on), StreamAssembler::Status::ok);
    ASSERT_EQ(a.feed({s.data() + cut, s.size() - cut}, on), StreamAssembler::Status::ok);
    ASSERT_EQ(next, 4u) << cut;
    ASSERT_EQ(a.buffered(), 0u);
  }
}

TEST(StreamAssembler, ChunksOfEverySize) {
  std::vector<std::size_t> sizes;
  const auto s = stream_of(20, &sizes);
  for (std::size_t chunk = 1; chunk <= 120; ++chunk) {
    StreamAssembler a(256);
    std::size_t got = 0;
    for (std::size_t off = 0; off < s.size(); off += chunk) {
      const std::size_t n = std::min(chunk, s.size() - off);
      a.feed({s.data() + off, n}, [&](std::span<const std::uint8_t> m) {
        ASSERT_EQ(m.size(), sizes[got]);
        ASSERT_EQ(verify(m.data(), m.size(), 1, got, kSeed).verdict, Verdict::ok);
        ++got;
      });
    }
    ASSERT_EQ(got, 20u) << chunk;
  }
}

TEST(StreamAssembler, RejectsBadMagicAndLength) {
  auto m = make(0, 1, 64);
  StreamAssembler a(64);
  m[1] ^= 0xFF;
  int calls = 0;
  auto on = [&](std::span<const std::uint8_t>) { ++calls; };
  EXPECT_EQ(a.feed(m, on), StreamAssembler::Status::bad_magic);
  EXPECT_EQ(a.feed(make(1, 1, 64), on), StreamAssembler::Status::bad_magic);  // stays broken
  EXPECT_EQ(calls, 0);
  a.reset();
  EXPECT_EQ(a.feed(make(1, 1, 64), on), StreamAssembler::Status::ok);
  EXPECT_EQ(calls, 1);
  // Longer than the maximum, detected even when the header arrives in pieces.
  const auto big = make(2, 1, 65);
  EXPECT_EQ(a.feed({big.data(), 10}, on), StreamAssembler::Status::ok);
  EXPECT_EQ(a.feed({big.data() + 10, 55}, on), StreamAssembler::Status::bad_length);
  EXPECT_EQ(calls, 1);
}

TEST(StreamAssembler, RejectsLengthBelowHeader) {
  auto m = make(0, 1, 64);
  m[20] = 10;  // length field 10
  m[21] = m[22] = m[23] = 0;
  StreamAssembler a(1024);
  EXPECT_EQ(a.feed(m, [](auto) {}), StreamAssembler::Status::bad_length);
}

TEST(DatagramTracker, InOrder) {
  DatagramTracker t;
  for (std::uint64_t s = 0; s < 5000; ++s) ASSERT_EQ(t.on_receive(s), DatagramTracker::Event::in_order);
  EXPECT_EQ(t.received(), 5000u);
  EXPECT_EQ(t.lost(), 0u);
  EXPECT_EQ(t.duplicates(), 0u);
  EXPECT_EQ(t.reordered(), 0u);
}

// Found by the load_replies fuzzer: a reply claiming the largest sequence,
// a little after the expected one, made advance_to loop forever.
TEST(DatagramTracker, TheLargestSequenceEndsTheGapFill) {
  const std::uint64_t last = ~std::uint64_t{0};
  DatagramTracker t(last - 200);
  EXPECT_EQ(t.on_receive(last - 200), DatagramTracker::Event::in_order);
  EXPECT_EQ(t.on_receive(last), DatagramTracker::Event::gap);
  EXPECT_EQ(t.received(), 2U);
  EXPECT_EQ(t.lost(), 199U);
}

TEST(DatagramTracker, LossDuplicatesReordering) {
  using E = DatagramTracker::Event;
  DatagramTracker t;
  EXPECT_EQ(t.on_receive(0), E::in_order);
  EXPECT_EQ(t.on_receive(1), E::in_order);
  EXPECT_EQ(t.on_receive(4), E::gap);  // 2, 3 missing
  EXPECT_EQ(t.lost(), 2u);
  EXPECT_EQ(t.on_receive(2), E::reordered);
  EXPECT_EQ(t.lost(), 1u);
  EXPECT_EQ(t.on_receive(2), E::duplicate);
  EXPECT_EQ(t.on_receive(4), E::duplicate);
  EXPECT_EQ(t.on_receive(5), E::in_order);
  EXPECT_EQ(t.received(), 5u);
  EXPECT_EQ(t.lost(), 1u);
  EXPECT_EQ(t.duplicates(), 2u);
  EXPECT_EQ(t.reordered(), 1u);
  EXPECT_EQ(t.next_expected(), 6u);
}

TEST(DatagramTracker, FirstSequenceGapAndBeforeFirst) {
  using E = DatagramTracker::Event;
  DatagramTracker t(100);
  EXPECT_EQ(t.on_receive(99), E::too_old);
  EXPECT_EQ(t.on_receive(103), E::gap);
  EXPECT_EQ(t.lost(), 3u);
  EXPECT_EQ(t.on_receive(100), E::reordered);
  EXPECT_EQ(t.lost(), 2u);
  EXPECT_EQ(t.too_old(), 1u);
}

TEST(DatagramTracker, WindowBoundsMemory) {
  using E = DatagramTracker::Event;
  constexpr auto W = DatagramTracker::kWindow;
  DatagramTracker t;
  t.on_receive(0);
  EXPECT_EQ(t.on_receive(10 * W), E::gap);
  EXPECT_EQ(t.lost(), 10 * W - 1);
  EXPECT_EQ(t.on_receive(10 * W - W + 1), E::reordered);  // oldest in the window
  EXPECT_EQ(t.on_receive(10 * W - W), E::too_old);        // just out of it
  EXPECT_EQ(t.on_receive(0), E::too_old);
  EXPECT_EQ(t.on_receive(10 * W), E::duplicate);
  // A slot reused by a newer sequence is not mistaken for the old one.
  DatagramTracker u;
  for (std::uint64_t s = 0; s < W; ++s) u.on_receive(s);
  EXPECT_EQ(u.on_receive(W + 5), E::gap);
  EXPECT_EQ(u.on_receive(W + 2), E::reordered);
  EXPECT_EQ(u.on_receive(5), E::too_old);  // W+1 behind the next expected: out of the window
  EXPECT_EQ(u.on_receive(7), E::duplicate);
}

TEST(DatagramTracker, RandomisedAgainstExactSet) {
  // Deterministic shuffle-ish pattern with drops and repeats, checked
  // against a full record.
  DatagramTracker t;
  std::vector<bool> seen(3000, false);
  std::uint64_t x = 12345, dups = 0, lost_expected = 0;
  std::vector<std::uint64_t> order;
  for (std::uint64_t s = 0; s < 3000; ++s) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    if ((x >> 60) == 0) continue;                  // dropped (1/16)
    order.push_back(s);
    if ((x >> 58) % 8 == 1) order.push_back(s);    // duplicated
    if ((x >> 55) % 8 == 2 && order.size() > 3)    // swapped with an earlier one
      std::swap(order[order.size() - 1], order[order.size() - 3]);
  }
  for (auto s : order) {
    if (seen[s]) ++dups;
    seen[s] = true;
    t.on_receive(s);
  }
  std::uint64_t max_seen = 0, unique = 0;
  for (std::uint64_t s = 0; s < 3000; ++s)
    if (seen[s]) max_seen = s, ++unique;
  for (std::uint64_t s = 0; s < max_seen; ++s) lost_expected += !seen[s];
  EXPECT_EQ(t.received(), unique);
  EXPECT_EQ(t.duplicates(), dups);
  EXPECT_EQ(t.lost(), lost_expected);
  EXPECT_EQ(t.too_old(), 0u);
  EXPECT_GT(t.reordered(), 0u);
}

}  // namespace
}  // namespace ringsock::tool
