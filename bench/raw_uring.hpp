// The raw liburing side: a ring set up exactly as the engine sets up its own
// (same sizes, same setup flags tried in the same order, registered ring fd,
// same provided-buffer ring), so that engine/raw ratios measure the engine's
// code and nothing else.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>

namespace bench {

// The engine's LoopOptions defaults, mirrored here.
inline constexpr unsigned kRingEntries = 256;
inline constexpr unsigned kCompletionEntries = 4 * kRingEntries;
inline constexpr unsigned kBufferCount = 512;
inline constexpr unsigned kBufferSize = 4096;
inline constexpr uint16_t kBufferGroup = 0;

class RawRing {
 public:
  RawRing() noexcept = default;
  ~RawRing() { deinit(); }
  RawRing(const RawRing&) = delete;
  RawRing& operator=(const RawRing&) = delete;

  /// Sets the ring up like UringBackend::setup_ring. Returns 0 or -errno.
  int init() noexcept;
  /// Registers a provided-buffer ring of kBufferCount x kBufferSize in group 0,
  /// like UringBackend::setup_buffer_ring. Returns 0 or -errno.
  int init_buffers() noexcept;
  void deinit() noexcept;

  io_uring* get() noexcept { return &ring_; }
  unsigned setup_flags() const noexcept { return setup_flags_; }
  bool registered_fd() const noexcept { return registered_fd_; }

  uint8_t* buffer(uint16_t id) const noexcept { return pool_ + size_t(id) * kBufferSize; }
  /// Offers buffer `id` to the kernel again (what Loop::release_buffer does).
  void recycle(uint16_t id) noexcept {
    io_uring_buf_ring_add(buffer_ring_, buffer(id), kBufferSize, id,
                          io_uring_buf_ring_mask(kBufferCount), 0);
    io_uring_buf_ring_advance(buffer_ring_, 1);
  }

 private:
  io_uring ring_{};
  bool ready_ = false;
  bool registered_fd_ = false;
  unsigned setup_flags_ = 0;
  io_uring_buf_ring* buffer_ring_ = nullptr;
  size_t buffer_ring_bytes_ = 0;
  uint8_t* pool_ = nullptr;
};

}  // namespace bench
