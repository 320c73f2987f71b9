#include "fd_table.hpp"

#include <unistd.h>

#include <cstdlib>

namespace ringsock::detail {

int FdTable::init(uint32_t max_fds) noexcept {
  records_ = static_cast<FdRecord*>(calloc(max_fds, sizeof(FdRecord)));
  if (records_ == nullptr) return -ENOMEM;
  max_fds_ = max_fds;
  return 0;
}

void FdTable::deinit() noexcept {
  free(records_);
  records_ = nullptr;
  max_fds_ = 0;
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
  records_[fd] = FdRecord{};
  return result;
}

void FdTable::close_waiting() noexcept {
  for (uint32_t fd = 0; fd < max_fds_; ++fd) {
    if (records_[fd].closer != nullptr) close_now(int(fd));
  }
}

int32_t FdTable::admit_accepted(int32_t result) noexcept {
  if (result < 0) return result;
  if (uint32_t(result) >= max_fds_) {
    ::close(result);  // beyond the table: refuse it rather than lose track
    return -EMFILE;
  }
  records_[result].send_path = SendPath::unknown;  // a new socket
  return result;
}

}  // namespace ringsock::detail
