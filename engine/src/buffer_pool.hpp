// The buffer pool: fixed-size buffers taken at init, lent to multishot
// receives and given back by the caller. The pool tracks which buffers are
// lent so that a wrong or double release is refused instead of corrupting
// the kernel's buffer ring.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringsock::detail {

class BufferPool {
 public:
  BufferPool() noexcept = default;
  ~BufferPool() { deinit(); }
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  /// count: power of two 1..32768; size_bytes: 256..1 MiB. Returns 0 or -errno.
  int init(uint32_t count, uint32_t size_bytes) noexcept;
  void deinit() noexcept;

  uint32_t count() const noexcept { return count_; }
  uint32_t size_bytes() const noexcept { return size_bytes_; }
  /// Buffer `id`: size_bytes() long, 16-byte aligned (buffers are spaced by
  /// size_bytes rounded up to 16).
  uint8_t* data(uint16_t id) const noexcept { return memory_ + size_t(id) * stride_bytes_; }
  /// Buffers currently with the caller.
  uint32_t lent() const noexcept { return lent_count_; }

  /// The backend handed buffer `id` to a completion. Returns false if it was already lent.
  bool mark_lent(uint16_t id) noexcept;
  /// The caller gives `id` back. Returns false if `id` is out of range or not lent.
  bool mark_returned(uint16_t id) noexcept;

  // A LIFO of free ids, for backends that pick buffers themselves (epoll).
  bool pop_free(uint16_t& id) noexcept;
  void push_free(uint16_t id) noexcept;

 private:
  uint8_t* memory_ = nullptr;
  uint8_t* lent_ = nullptr;  // one byte per buffer: 1 = with the caller
  uint16_t* free_ids_ = nullptr;
  uint32_t free_top_ = 0;
  uint32_t count_ = 0;
  uint32_t size_bytes_ = 0;
  uint32_t stride_bytes_ = 0;  // size_bytes_ rounded up to 16
  uint32_t lent_count_ = 0;
};

}  // namespace ringsock::detail
