#include "sockperf.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

namespace sp = ringsock_cli::sockperf;

std::vector<uint8_t> message(uint64_t sequence, uint16_t flags, uint32_t body, uint8_t fill) {
  std::vector<uint8_t> m(sp::kHeaderBytes + body, fill);
  sp::encode(sp::Header{sequence, flags, uint32_t(m.size())}, m.data());
  return m;
}

TEST(Sockperf, EncodeIsBigEndian) {
  uint8_t out[sp::kHeaderBytes];
  sp::encode(sp::Header{0x0102030405060708ull, 0x0a0b, 0x11223344}, out);
  const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x11, 0x22, 0x33, 0x44};
  EXPECT_EQ(std::memcmp(out, want, sizeof want), 0);
  sp::Header h = sp::decode(out);
  EXPECT_EQ(h.sequence, 0x0102030405060708ull);
  EXPECT_EQ(h.flags, 0x0a0b);
  EXPECT_EQ(h.length, 0x11223344u);
}

TEST(Sockperf, ReplyOnlyWithPongAndClientCleared) {
  auto ping = message(5, sp::kFlagClient | sp::kFlagPong | sp::kFlagWarmup, 4, 0xab);
  ASSERT_TRUE(sp::make_reply(ping.data()));
  sp::Header h = sp::decode(ping.data());
  EXPECT_EQ(h.flags, sp::kFlagPong | sp::kFlagWarmup);
  EXPECT_EQ(h.sequence, 5u);
  EXPECT_EQ(h.length, 18u);
  EXPECT_EQ(ping[17], 0xab);

  auto no_pong = message(6, sp::kFlagClient, 4, 0);
  auto before = no_pong;
  EXPECT_FALSE(sp::make_reply(no_pong.data()));
  EXPECT_EQ(no_pong, before);
}

struct Seen {
  std::vector<std::vector<uint8_t>> messages;
};

bool collect(void* context, uint8_t* m, uint32_t length) {
  static_cast<Seen*>(context)->messages.emplace_back(m, m + length);
  return true;
}

TEST(Sockperf, ReassemblesAcrossEverySplit) {
  auto a = message(1, sp::kFlagPong, 20, 0x11);
  auto b = message(2, sp::kFlagClient, 0, 0x22);
  auto c = message(3, sp::kFlagPong, 100, 0x33);
  std::vector<uint8_t> stream;
  for (const auto* m : {&a, &b, &c}) stream.insert(stream.end(), m->begin(), m->end());
  // Every chunk size, from byte by byte to all at once (coalesced).
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    uint8_t storage[256];
    sp::Reassembler framer(storage, sizeof storage);
    Seen seen;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      size_t n = std::min(chunk, stream.size() - at);
      ASSERT_EQ(framer.feed(stream.data() + at, n, collect, &seen), sp::Reassembler::Status::ok);
    }
    ASSERT_EQ(seen.messages.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(seen.messages[0], a);
    EXPECT_EQ(seen.messages[1], b);
    EXPECT_EQ(seen.messages[2], c);
    EXPECT_EQ(framer.pending(), 0u);
  }
}

TEST(Sockperf, HoldsAPartialMessage) {
  auto a = message(1, sp::kFlagPong, 10, 0x44);
  uint8_t storage[64];
  sp::Reassembler framer(storage, sizeof storage);
  Seen seen;
  framer.feed(a.data(), 20, collect, &seen);
  EXPECT_TRUE(seen.messages.empty());
  EXPECT_EQ(framer.pending(), 20u);
  framer.reset();
  EXPECT_EQ(framer.pending(), 0u);
  framer.feed(a.data(), a.size(), collect, &seen);
  EXPECT_EQ(seen.messages.size(), 1u);
}

TEST(Sockperf, RejectsBadLengths) {
  uint8_t storage[64];
  Seen seen;
  auto small = message(1, 0, 0, 0);
  sp::encode(sp::Header{1, 0, 13}, small.data());
  sp::Reassembler framer(storage, sizeof storage);
  EXPECT_EQ(framer.feed(small.data(), small.size(), collect, &seen),
            sp::Reassembler::Status::bad_length);
  auto big = message(1, 0, 60, 0);  // 74 bytes > 64 of storage
  sp::Reassembler framer2(storage, sizeof storage);
  EXPECT_EQ(framer2.feed(big.data(), big.size(), collect, &seen),
            sp::Reassembler::Status::bad_length);
  EXPECT_TRUE(seen.messages.empty());
}

bool stop_after_one(void* context, uint8_t*, uint32_t) {
  ++*static_cast<int*>(context);
  return false;
}

TEST(Sockperf, SinkCanStop) {
  auto a = message(1, 0, 0, 0);
  std::vector<uint8_t> two(a);
  two.insert(two.end(), a.begin(), a.end());
  uint8_t storage[64];
  sp::Reassembler framer(storage, sizeof storage);
  int calls = 0;
  EXPECT_EQ(framer.feed(two.data(), two.size(), stop_after_one, &calls),
            sp::Reassembler::Status::stopped);
  EXPECT_EQ(calls, 1);
}

}  // namespace
