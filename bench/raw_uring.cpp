#include "raw_uring.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace bench {

namespace {

// Copy of kSetupAttempts in engine/src/backend/uring.cpp (internal there):
// keep the two in step, or the comparison is between different rings.
constexpr unsigned kSetupAttempts[] = {
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
    IORING_SETUP_SUBMIT_ALL,
    0,
};

void* map_anonymous(size_t bytes) {
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return memory == MAP_FAILED ? nullptr : memory;
}

}  // namespace

int RawRing::init() noexcept {
  int rc = -EINVAL;
  for (unsigned flags : kSetupAttempts) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE;
    params.cq_entries = kCompletionEntries;
    rc = io_uring_queue_init_params(kRingEntries, &ring_, &params);
    if (rc == -EINVAL) continue;  // kernel lacks a flag: try the next set
    if (rc < 0) return rc;
    ready_ = true;
    setup_flags_ = flags;
    registered_fd_ = io_uring_register_ring_fd(&ring_) == 1;
    return 0;
  }
  return rc;
}

int RawRing::init_buffers() noexcept {
  size_t page = size_t(sysconf(_SC_PAGESIZE));
  size_t ring_bytes = (kBufferCount * sizeof(io_uring_buf) + page - 1) / page * page;
  void* ring_memory = map_anonymous(ring_bytes);
  void* pool_memory = map_anonymous(size_t(kBufferCount) * kBufferSize);
  if (ring_memory != nullptr) {
    buffer_ring_ = static_cast<io_uring_buf_ring*>(ring_memory);
    buffer_ring_bytes_ = ring_bytes;
  }
  pool_ = static_cast<uint8_t*>(pool_memory);
  if (buffer_ring_ == nullptr || pool_ == nullptr) return -ENOMEM;
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(ring_memory);
  reg.ring_entries = kBufferCount;
  reg.bgid = kBufferGroup;
  int rc = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (rc != 0) return rc < 0 ? rc : -EOPNOTSUPP;
  io_uring_buf_ring_init(buffer_ring_);
  int mask = io_uring_buf_ring_mask(kBufferCount);
  for (unsigned id = 0; id < kBufferCount; ++id) {
    io_uring_buf_ring_add(buffer_ring_, buffer(uint16_t(id)), kBufferSize, uint16_t(id), mask,
                          int(id));
  }
  io_uring_buf_ring_advance(buffer_ring_, int(kBufferCount));
  return 0;
}

void RawRing::deinit() noexcept {
  // The ring goes first: it cancels what is in flight and drops its use of the buffers.
  if (ready_) io_uring_queue_exit(&ring_);
  ready_ = false;
  if (buffer_ring_ != nullptr) munmap(buffer_ring_, buffer_ring_bytes_);
  if (pool_ != nullptr) munmap(pool_, size_t(kBufferCount) * kBufferSize);
  buffer_ring_ = nullptr;
  pool_ = nullptr;
}

}  // namespace bench
