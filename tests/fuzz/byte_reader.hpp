// Takes typed values off the front of a fuzz input, and zeros once it is used
// up, so a harness can read "the next opcode" without checking sizes. (clang's
// FuzzedDataProvider does this too, but the replay build also compiles with GCC.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringsock_fuzz {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) noexcept : data_(data), size_(size) {}

  bool empty() const noexcept { return size_ == 0; }
  size_t remaining() const noexcept { return size_; }

  template <class T>
  T take() noexcept {
    T value{};
    size_t n = size_ < sizeof(T) ? size_ : sizeof(T);
    if (n > 0) std::memcpy(&value, data_, n);
    data_ += n;
    size_ -= n;
    return value;
  }

  /// Up to `length` bytes (fewer at the end of the input).
  std::string_view bytes(size_t length) noexcept {
    size_t n = size_ < length ? size_ : length;
    std::string_view out(reinterpret_cast<const char*>(data_), n);
    data_ += n;
    size_ -= n;
    return out;
  }

  /// Whatever is left.
  std::string_view rest() noexcept { return bytes(size_); }

 private:
  const uint8_t* data_;
  size_t size_;
};

}  // namespace ringsock_fuzz
