#include "buffer_pool.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "assert.hpp"

namespace ringsock::detail {

namespace {
constexpr uint32_t kMaxBuffers = 32768;
constexpr uint32_t kMinBufferBytes = 256;  // room for a recvfrom header, address and payload
constexpr uint32_t kMaxBufferBytes = 1u << 20;

// Buffers start at multiples of this, whatever size_bytes is: a recvfrom
// result's header and sender address sit at a buffer's start, and the
// strict-alignment targets (armhf) fault on a misaligned one.
constexpr uint32_t kBufferAlignBytes = 16;

bool is_power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }
}  // namespace

int BufferPool::init(uint32_t count, uint32_t size_bytes) noexcept {
  if (!is_power_of_two(count) || count > kMaxBuffers) return -EINVAL;
  if (size_bytes < kMinBufferBytes || size_bytes > kMaxBufferBytes) return -EINVAL;
  const uint32_t stride = (size_bytes + kBufferAlignBytes - 1) & ~(kBufferAlignBytes - 1);
  size_t total = size_t(count) * stride;
  // mmap gives page-aligned, zeroed memory and returns it whole at deinit.
  void* memory = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return -errno;
  auto* lent = static_cast<uint8_t*>(calloc(count, 1));
  auto* ids = static_cast<uint16_t*>(calloc(count, sizeof(uint16_t)));
  if (lent == nullptr || ids == nullptr) {
    free(lent);
    free(ids);
    munmap(memory, total);
    return -ENOMEM;
  }
  memory_ = static_cast<uint8_t*>(memory);
  lent_ = lent;
  free_ids_ = ids;
  count_ = count;
  size_bytes_ = size_bytes;
  stride_bytes_ = stride;
  lent_count_ = 0;
  // Lowest ids on top: buffers are reused from the front of the pool first.
  free_top_ = count;
  for (uint32_t i = 0; i < count; ++i) free_ids_[i] = uint16_t(count - 1 - i);
  return 0;
}

void BufferPool::deinit() noexcept {
  if (memory_ != nullptr) munmap(memory_, size_t(count_) * stride_bytes_);
  free(lent_);
  free(free_ids_);
  memory_ = nullptr;
  lent_ = nullptr;
  free_ids_ = nullptr;
  count_ = size_bytes_ = stride_bytes_ = lent_count_ = free_top_ = 0;
}

bool BufferPool::mark_lent(uint16_t id) noexcept {
  if (id >= count_ || lent_[id]) return false;
  lent_[id] = 1;
  ++lent_count_;
  return true;
}

bool BufferPool::mark_returned(uint16_t id) noexcept {
  if (id >= count_ || !lent_[id]) return false;
  lent_[id] = 0;
  --lent_count_;
  return true;
}

bool BufferPool::pop_free(uint16_t& id) noexcept {
  RINGSOCK_ASSERT(free_top_ <= count_);
  if (free_top_ == 0) return false;
  id = free_ids_[--free_top_];
  return true;
}

// Only ids taken by pop_free come back: the stack never holds more than the pool.
void BufferPool::push_free(uint16_t id) noexcept {
  RINGSOCK_ASSERT(free_top_ < count_ && id < count_);
  free_ids_[free_top_++] = id;
}

}  // namespace ringsock::detail
