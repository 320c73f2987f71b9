#include "logic/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

namespace ringsock::tool {
namespace {

using Table = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Table make_table() {
  Table t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78U : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t s = 1; s < 8; ++s)
    for (std::size_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  return t;
}

constexpr Table kTable = make_table();

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}

using Impl = std::uint32_t (*)(const std::uint8_t*, std::size_t, std::uint32_t) noexcept;

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_cpu(const std::uint8_t* data,
                                                             std::size_t size,
                                                             std::uint32_t crc) noexcept {
  std::uint64_t c = ~crc;
  for (; size >= 8; size -= 8, data += 8) {
    std::uint64_t w;
    std::memcpy(&w, data, 8);
    c = _mm_crc32_u64(c, w);
  }
  auto c32 = std::uint32_t(c);
  for (; size > 0; --size, ++data) c32 = _mm_crc32_u8(c32, *data);
  return ~c32;
}
Impl pick() noexcept {
  __builtin_cpu_init();  // pick() may run before the CPU model is set up
  return __builtin_cpu_supports("sse4.2") ? crc32c_cpu : crc32c_portable;
}
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
__attribute__((target("+crc"))) std::uint32_t crc32c_cpu(const std::uint8_t* data,
                                                         std::size_t size,
                                                         std::uint32_t crc) noexcept {
  std::uint32_t c = ~crc;
  for (; size >= 8; size -= 8, data += 8) {
    std::uint64_t w;
    std::memcpy(&w, data, 8);
    c = __crc32cd(c, w);
  }
  for (; size > 0; --size, ++data) c = __crc32cb(c, *data);
  return ~c;
}
Impl pick() noexcept { return (getauxval(AT_HWCAP) & HWCAP_CRC32) ? crc32c_cpu : crc32c_portable; }
#else
Impl pick() noexcept { return crc32c_portable; }
#endif

// Chosen on first use, so a caller in another static initialiser is safe.
Impl impl() noexcept {
  static const Impl chosen = pick();
  return chosen;
}

}  // namespace

std::uint32_t crc32c_portable(const std::uint8_t* data, std::size_t size,
                              std::uint32_t crc) noexcept {
  crc = ~crc;
  for (; size >= 8; size -= 8, data += 8) {
    const std::uint64_t w = load_le64(data) ^ crc;
    crc = kTable[7][w & 0xFF] ^ kTable[6][(w >> 8) & 0xFF] ^ kTable[5][(w >> 16) & 0xFF] ^
          kTable[4][(w >> 24) & 0xFF] ^ kTable[3][(w >> 32) & 0xFF] ^
          kTable[2][(w >> 40) & 0xFF] ^ kTable[1][(w >> 48) & 0xFF] ^ kTable[0][w >> 56];
  }
  for (; size > 0; --size, ++data) crc = (crc >> 8) ^ kTable[0][(crc ^ *data) & 0xFF];
  return ~crc;
}

std::uint32_t crc32c(const std::uint8_t* data, std::size_t size, std::uint32_t crc) noexcept {
  return impl()(data, size, crc);
}

bool crc32c_accelerated() noexcept { return impl() != crc32c_portable; }

}  // namespace ringsock::tool
