// One provided buffer ring: registration (plain or incremental), and which
// bytes a receive completion delivered, in single-buffer, bundle and
// incremental form. Buffers go back to the ring as soon as their bytes have
// been handed on; publish() makes them visible to the kernel once per turn.
#pragma once

#include <cstdint>
#include <vector>

#include <liburing.h>

namespace levers {

class BufferRing {
 public:
  // Returns 0 or -errno (e.g. -EINVAL: the kernel has no incremental rings).
  int init(io_uring* ring, uint16_t group, uint32_t count, uint32_t size_bytes, bool incremental);

  uint16_t group() const { return group_; }

  // Calls fn(data, length) for every piece of the `res` bytes a completion
  // with `cqe_flags` delivered, then recycles the buffers the kernel is done
  // with. A completion without IORING_CQE_F_BUFFER delivers nothing.
  template <class Fn>
  void consume(uint32_t cqe_flags, int res, Fn&& fn);

  // consume() without the recycling: fn(bid, data, length) for every piece,
  // and each buffer stays out of the ring until give_back(bid) (a send
  // bundle sends straight from it). Not with incremental rings.
  template <class Fn>
  void hold(uint32_t cqe_flags, int res, Fn&& fn);
  void give_back(uint32_t bid) { recycle(bid); }

  // Makes the recycled buffers visible to the kernel.
  void publish();

  uint64_t buffers_recycled() const { return recycled_; }

 private:
  char* data(uint32_t bid) { return base_ + static_cast<uint64_t>(bid) * size_; }
  void recycle(uint32_t bid);

  io_uring_buf_ring* br_ = nullptr;
  char* base_ = nullptr;
  uint32_t count_ = 0;
  uint32_t size_ = 0;
  uint32_t mask_ = 0;
  uint16_t group_ = 0;
  bool incremental_ = false;
  uint16_t unpublished_ = 0;            // adds since the last publish()
  std::vector<uint16_t> bid_at_;        // ring slot (masked) -> buffer id put there
  std::vector<uint16_t> slot_of_;       // buffer id -> ring position (16-bit, unmasked)
  std::vector<uint32_t> consumed_;      // incremental: bytes of the buffer already delivered
  uint64_t recycled_ = 0;
};

template <class Fn>
void BufferRing::consume(uint32_t cqe_flags, int res, Fn&& fn) {
  if (!(cqe_flags & IORING_CQE_F_BUFFER)) return;
  uint32_t bid = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
  uint32_t left = res > 0 ? static_cast<uint32_t>(res) : 0;
  if (incremental_) {
    // The kernel advanced the buffer's address by what it used; the data
    // starts where the previous completion from this buffer ended.
    if (left) fn(data(bid) + consumed_[bid], left);
    consumed_[bid] += left;
    if (!(cqe_flags & (1u << 4)) /* IORING_CQE_F_BUF_MORE */) {
      consumed_[bid] = 0;
      recycle(bid);
    }
    return;
  }
  // Single buffer or a bundle: hold()'s walk, each buffer recycled once its
  // bytes are handed on.
  hold(cqe_flags, res, [&](uint32_t b, const char* d, uint32_t n) {
    fn(d, n);
    recycle(b);
  });
}

// Consecutive ring entries from the first one, every buffer filled before
// the next is used.
template <class Fn>
void BufferRing::hold(uint32_t cqe_flags, int res, Fn&& fn) {
  if (!(cqe_flags & IORING_CQE_F_BUFFER)) return;
  uint32_t bid = cqe_flags >> IORING_CQE_BUFFER_SHIFT;
  uint32_t left = res > 0 ? static_cast<uint32_t>(res) : 0;
  uint16_t pos = slot_of_[bid];
  do {
    uint32_t b = bid_at_[pos & mask_];
    uint32_t n = left < size_ ? left : size_;
    if (n) {
      fn(b, data(b), n);
    } else {
      recycle(b);  // an empty result's buffer: nothing to send from it
    }
    left -= n;
    ++pos;
  } while (left > 0);
}

}  // namespace levers
