// CRC32C (Castagnoli), the checksum of every load message. The CPU's own
// instruction where it has one (x86-64 SSE4.2, AArch64 CRC32), chosen once at
// run time; a portable slicing-by-8 table elsewhere. Both give the same result.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringsock::tool {

/// Chainable: pass the previous result as crc.
std::uint32_t crc32c(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0) noexcept;

/// The table version, always (tests compare the two).
std::uint32_t crc32c_portable(const std::uint8_t* data, std::size_t size,
                              std::uint32_t crc = 0) noexcept;

/// Whether crc32c uses a CPU instruction here.
bool crc32c_accelerated() noexcept;

}  // namespace ringsock::tool
