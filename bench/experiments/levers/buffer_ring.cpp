#include "buffer_ring.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>

#include "uring_compat.hpp"

namespace levers {

int BufferRing::init(io_uring* ring, uint16_t group, uint32_t count, uint32_t size_bytes,
                     bool incremental) {
  count_ = count;
  size_ = size_bytes;
  mask_ = static_cast<uint32_t>(io_uring_buf_ring_mask(count));
  group_ = group;
  incremental_ = incremental;
  size_t ring_bytes = count * sizeof(io_uring_buf);
  void* mem = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return -errno;
  br_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(br_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br_);
  reg.ring_entries = count;
  reg.bgid = group;
  reg.pad = incremental ? kPbufRingIncremental : 0;  // `flags` in newer headers
  int ret = io_uring_register_buf_ring(ring, &reg, 0);
  if (ret < 0) return ret;
  base_ = static_cast<char*>(std::aligned_alloc(4096, static_cast<size_t>(count) * size_bytes));
  if (base_ == nullptr) return -ENOMEM;
  bid_at_.assign(count, 0);
  slot_of_.assign(count, 0);
  consumed_.assign(count, 0);
  for (uint32_t bid = 0; bid < count; ++bid) recycle(bid);
  publish();
  recycled_ = 0;
  return 0;
}

void BufferRing::recycle(uint32_t bid) {
  uint16_t pos = static_cast<uint16_t>(br_->tail + unpublished_);
  io_uring_buf_ring_add(br_, data(bid), size_, static_cast<unsigned short>(bid), mask_,
                        unpublished_);
  bid_at_[pos & mask_] = static_cast<uint16_t>(bid);
  slot_of_[bid] = pos;
  ++unpublished_;
  ++recycled_;
}

void BufferRing::publish() {
  if (unpublished_ == 0) return;
  io_uring_buf_ring_advance(br_, unpublished_);
  unpublished_ = 0;
}

}  // namespace levers
