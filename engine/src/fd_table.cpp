#include "fd_table.hpp"

#include <unistd.h>

#include <cstdlib>

namespace ringsock::detail {

int FdTable::init(uint32_t max_fds, uint32_t direct, uint32_t buffer_count,
                  uint32_t max_lent_per_fd) noexcept {
  records_ = static_cast<FdRecord*>(calloc(size_t(max_fds) + direct, sizeof(FdRecord)));
  if (records_ == nullptr) return -ENOMEM;
  max_fds_ = max_fds;
  direct_capacity_ = direct;
  direct_ = 0;
  if (max_lent_per_fd != 0) {
    lent_owner_ = static_cast<int32_t*>(malloc(buffer_count * sizeof(int32_t)));
    if (lent_owner_ == nullptr) {
      deinit();
      return -ENOMEM;
    }
    for (uint32_t id = 0; id < buffer_count; ++id) lent_owner_[id] = -1;
    buffer_count_ = buffer_count;
    max_lent_per_fd_ = max_lent_per_fd;
  }
  return 0;
}

void FdTable::deinit() noexcept {
  free(records_);
  records_ = nullptr;
  max_fds_ = direct_capacity_ = direct_ = claimed_ = 0;
  free(lent_owner_);
  lent_owner_ = nullptr;
  buffer_count_ = max_lent_per_fd_ = 0;
}

// Only when the fd still holds lent buffers: a walk over the pool's owners.
void FdTable::disown_lent(int fd) noexcept {
  if (!capped() || at(fd).lent == 0) return;
  for (uint32_t id = 0; id < buffer_count_; ++id) {
    if (lent_owner_[id] == fd) lent_owner_[id] = -1;
  }
  at(fd).lent = 0;
}

Operation* FdTable::close_ready(const FdRecord& record) noexcept {
  Operation* closer = record.closer;
  bool ready = record.head == nullptr && closer->state == OpState::close_wait;
  return ready ? closer : nullptr;
}

// Synchronous, and the record cleared in the same step: the kernel may hand
// the number to the next socket() at once. An asynchronous close
// (IORING_OP_CLOSE, or epoll's close at the next turn) left a window between
// the kernel freeing the number and the loop clearing its record, in which a
// new socket with that number was refused (-EBADF).
int32_t FdTable::close_now(int fd) noexcept {
  int rc = ::close(fd);
  // Linux releases the fd even when close reports EINTR: that is success here.
  int32_t result = rc == 0 || errno == EINTR ? 0 : -errno;
  clear(fd);
  return result;
}

void FdTable::clear(int fd) noexcept {
  disown_lent(fd);
  at(fd) = FdRecord{};
}

void FdTable::close_waiting() noexcept {
  for (uint32_t fd = 0; fd < max_fds_; ++fd) {
    if (records_[fd].closer != nullptr) close_now(int(fd));
  }
}

int32_t FdTable::admit_accepted(int32_t result, bool direct) noexcept {
  if (result < 0) return result;
  int fd = result;
  if (direct) {
    fd = int(direct_base() + uint32_t(result));
    RINGSOCK_ASSERT(valid(fd));  // the kernel allocates inside the table
  } else if (uint32_t(result) >= max_fds_) {
    ::close(result);  // beyond the table: refuse it rather than lose track
    return -EMFILE;
  }
  FdRecord& record = at(fd);
  record.send_path = SendPath::unknown;  // a new socket
  record.recv_path = RecvPath::unknown;
  record.copies = false;
  record.occupied = direct;
  disown_lent(fd);
  return fd;
}

}  // namespace ringsock::detail
