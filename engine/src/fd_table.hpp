// The loop's fd table, the ground of cancel-safe close.
//
// Per fd number it keeps the operations in flight (an intrusive list through
// Operation::fd_prev / fd_next), the close waiting for them to end, and how
// sends go out on the fd. A close never closes an fd with an operation still
// in flight: the core cancels them, each one ends once, and the last one to
// leave the list hands the waiting close back to the core, which closes the
// fd and clears its record in the same step. So a reused fd number can never
// receive a stale completion. The core decides what happens to operations;
// the table only keeps the records. Direct descriptors (io_uring's fixed
// files, LoopOptions::direct_descriptors) have records too, after the fds':
// slot s is record max_fds + s, and the loop hands it out as
// kDirectDescriptor + max_fds + s, so that every record is at the number
// with its kDirectDescriptor bit cleared (an AND, no branch).
#pragma once

#include <cerrno>
#include <cstdint>

#include "assert.hpp"
#include "hot_path.hpp"
#include "ringsock/loop.hpp"
#include "ringsock/operation.hpp"

namespace ringsock::detail {

/// How sends go out on an fd, learned at its first send (unix_dgram_send.hpp).
enum class SendPath : uint8_t { unknown, ring, direct };

/// How a multishot receive is armed on an fd, learned at its first one
/// (unix_stream_recv.hpp): as the kernel's multishot; as that with a watch
/// for the peer's hang-up (a UNIX stream on io_uring); or one result per
/// arming (such a stream once its peer hung up).
enum class RecvPath : uint8_t { unknown, multishot, watched, one_at_a_time };

/// The operations in flight on one fd, and a close waiting for them to end.
struct FdRecord {
  Operation* head = nullptr;
  Operation* closer = nullptr;
  SendPath send_path = SendPath::unknown;  // reset when the fd is closed or accepted anew
  RecvPath recv_path = RecvPath::unknown;  // the same
  bool copies = false;  // zero-copy sends stopped on it (zero_copy.hpp); the same
  bool occupied = false;  // a direct descriptor's slot holds a connection (fds: unused)
  uint32_t lent = 0;  // pool buffers its receives hold lent (counted only under a cap)
};

class FdTable {
 public:
  /// The most fds a table holds (LoopOptions::max_fds is at most this).
  static constexpr uint32_t kMaxFds = 1u << 24;

  FdTable() noexcept = default;
  ~FdTable() { deinit(); }
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;

  /// Takes the records of fds 0 .. max_fds - 1 and of as many direct
  /// descriptors as the loop may have (direct), and with a per-fd cap on
  /// lent buffers (max_lent_per_fd != 0) the owner of each of buffer_count
  /// pool buffers. Returns 0 or -ENOMEM.
  int init(uint32_t max_fds, uint32_t direct, uint32_t buffer_count,
           uint32_t max_lent_per_fd) noexcept;
  void deinit() noexcept;
  /// The direct descriptor of slot 0; slot s is direct_base() + s.
  uint32_t direct_base() const noexcept { return uint32_t(kDirectDescriptor) + max_fds_; }
  /// The direct descriptors the backend did register (at most init's).
  void use_direct(uint32_t direct) noexcept {
    RINGSOCK_ASSERT(direct <= direct_capacity_);
    direct_ = direct;
    claimed_ = 0;
  }

  /// 0 if an operation may be submitted on fd now, else -EBADF (out of the
  /// table, an empty slot of the direct descriptors, or a close of it is
  /// under way).
  int check(int fd) const noexcept {
    // fd < 0 spelled out: a caller inlining this then knows an accepted fd is >= 0.
    if (fd < 0) return -EBADF;
    if (__builtin_expect(uint32_t(fd) < max_fds_, 1)) return records_[fd].closer != nullptr ? -EBADF : 0;
    return check_direct(uint32_t(fd));
  }
  SendPath send_path(int fd) const noexcept { return at(fd).send_path; }
  void set_send_path(int fd, SendPath path) noexcept { at(fd).send_path = path; }
  RecvPath recv_path(int fd) const noexcept { return at(fd).recv_path; }
  void set_recv_path(int fd, RecvPath path) noexcept { at(fd).recv_path = path; }
  /// Whether sends on fd stopped asking for zero-copy (zero_copy.hpp).
  bool copies(int fd) const noexcept { return at(fd).copies; }
  void set_copies(int fd) noexcept { at(fd).copies = true; }

  /// Puts a started operation on its fd's list (a close is never on it: it
  /// waits for the list to empty).
  RINGSOCK_HOT void link(Operation& op, int fd) noexcept {
    RINGSOCK_ASSERT(check(fd) == 0);  // checked at submit, and no close since
    FdRecord& record = at(fd);
    op.fd_prev = nullptr;
    op.fd_next = record.head;
    if (record.head != nullptr) record.head->fd_prev = &op;
    record.head = &op;
  }
  /// Takes an ended operation off its fd's list. Returns the close that was
  /// waiting for that list to empty, now that it has, or nullptr.
  RINGSOCK_HOT Operation* unlink(Operation& op) noexcept {
    RINGSOCK_ASSERT(valid(op.fd));
    FdRecord& record = at(op.fd);
    RINGSOCK_ASSERT(op.fd_prev != nullptr || record.head == &op);  // op is on this list
    if (op.fd_prev != nullptr) {
      op.fd_prev->fd_next = op.fd_next;
    } else {
      record.head = op.fd_next;
    }
    if (op.fd_next != nullptr) op.fd_next->fd_prev = op.fd_prev;
    op.fd_prev = op.fd_next = nullptr;
    if (__builtin_expect(record.closer != nullptr, 0)) return close_ready(record);
    return nullptr;
  }

  /// A close of close_op.fd begins: no new operation is taken on the fd from
  /// now on. Returns the first operation in flight on it (the caller cancels
  /// them all, following fd_next), or nullptr if the fd can be closed now.
  Operation* begin_close(Operation& close_op) noexcept {
    FdRecord& record = at(close_op.fd);
    record.closer = &close_op;
    return record.head;
  }
  /// The waiting close of fd was cancelled: the fd stays open and usable.
  void abandon_close(int fd) noexcept { at(fd).closer = nullptr; }
  /// Closes fd now and clears its record in the same step. Returns 0 or -errno.
  int32_t close_now(int fd) noexcept;
  /// Starts fd's record afresh (and disowns the buffers it had lent).
  void clear(int fd) noexcept;
  /// Clears a direct descriptor's record, in the step that empties its slot
  /// (the backend's close_direct), and gives its claim back.
  void clear_direct(int fd) noexcept {
    RINGSOCK_ASSERT(is_direct_descriptor(fd) && at(fd).occupied && claimed_ > 0);
    clear(fd);
    --claimed_;
  }

  // Claims on direct descriptors (direct_descriptors.cpp): one per slot in
  // use and one per accept in the kernel, never more than there are slots.
  /// Claims a slot for an accept about to go into the kernel; false if
  /// every slot is in use or claimed by another accept.
  bool claim_slot() noexcept {
    if (claimed_ == direct_) return false;
    ++claimed_;
    return true;
  }
  /// An accept's claim that brought no connection (an error, a cancel).
  void release_slot() noexcept {
    RINGSOCK_ASSERT(claimed_ > 0);
    --claimed_;
  }
  /// At loop deinit: closes every fd whose close still waits for its
  /// operations (they are dropped with the loop; direct descriptors go with
  /// the ring). Walks the whole table.
  void close_waiting() noexcept;

  /// What the kernel just accepted: an fd, or with direct a slot of the
  /// direct descriptors, returned as direct_base() + slot. Inside the
  /// table its record starts afresh (the number may be a closed socket's);
  /// an fd beyond it is closed and -EMFILE returned. Errors (< 0) pass through.
  int32_t admit_accepted(int32_t result, bool direct) noexcept;

  // The per-fd cap on lent pool buffers (LoopOptions::max_lent_per_fd).
  bool capped() const noexcept { return max_lent_per_fd_ != 0; }
  /// Whether fd holds as many lent buffers as the cap allows.
  bool at_cap(int fd) const noexcept {
    return capped() && at(fd).lent >= max_lent_per_fd_;
  }
  /// How many more buffers fd may be lent under the cap, beside `unseen`
  /// lent to it that are not counted yet (capped() only).
  uint32_t lend_room(int fd, uint32_t unseen) const noexcept {
    uint32_t held = at(fd).lent + unseen;
    return held < max_lent_per_fd_ ? max_lent_per_fd_ - held : 0;
  }
  /// Buffer `id` was lent from a receive on fd.
  void note_lent(int fd, uint16_t id) noexcept {
    lent_owner_[id] = fd;
    ++at(fd).lent;
  }
  /// Buffer `id` came back; returns the fd that held it, or -1 (its fd closed meanwhile).
  int note_returned(uint16_t id) noexcept {
    int fd = lent_owner_[id];
    lent_owner_[id] = -1;
    if (fd >= 0) --at(fd).lent;
    return fd;
  }

 private:
  /// A closed or reused fd number no longer holds the buffers its old socket had lent.
  void disown_lent(int fd) noexcept;
  Operation* close_ready(const FdRecord& record) noexcept;

  /// check() past the fds: a direct descriptor of an occupied slot, whose close has not begun.
  int check_direct(uint32_t n) const noexcept {
    uint32_t slot = n - direct_base();  // wraps for all below the first direct descriptor
    if (slot >= direct_) return -EBADF;  // and for negative numbers, and fds past max_fds
    const FdRecord& record = records_[max_fds_ + slot];
    return record.occupied && record.closer == nullptr ? 0 : -EBADF;
  }
  /// Whether fd has a record (an fd below max_fds, or a slot of the table).
  bool valid(int fd) const noexcept {
    uint32_t n = uint32_t(fd);
    return n < max_fds_ || n - direct_base() < direct_;
  }
  /// The record of a valid fd or direct descriptor.
  FdRecord& at(int fd) const noexcept {
    RINGSOCK_ASSERT(valid(fd));
    return records_[uint32_t(fd) & (uint32_t(kDirectDescriptor) - 1)];
  }

  FdRecord* records_ = nullptr;
  uint32_t max_fds_ = 0;
  uint32_t direct_capacity_ = 0;  // direct descriptors records were taken for
  uint32_t direct_ = 0;           // of those, the ones the backend registered
  uint32_t claimed_ = 0;          // direct slots in use or claimed by an accept
  int32_t* lent_owner_ = nullptr;  // per pool buffer: the fd it is lent from, or -1
  uint32_t buffer_count_ = 0;
  uint32_t max_lent_per_fd_ = 0;
};

}  // namespace ringsock::detail
