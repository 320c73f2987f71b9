// The io_uring backend's hot path, inline: how an operation becomes SQEs
// (start), and one turn (submit, wait, copy the CQEs out). A Loop call
// (validate, fill, start) compiles into one function, and so does a loop turn
// up to liburing's submit call. Included by uring.hpp only.
#pragma once

#include <poll.h>

#include "assert.hpp"
#include "backend/uring.hpp"
#include "sendv.hpp"
#include "user_data.hpp"
#include "zero_copy.hpp"

namespace ringsock::detail {

inline constexpr uint16_t kBufferGroup = 0;
// Newer than liburing 2.3's headers: a multishot receive that fills several
// ring buffers per completion (6.10; caps.recv_bundle).
inline constexpr uint16_t kRecvSendBundle = 1u << 4;

// liburing's io_uring_get_sqe, for the rings we set up (kSetupAttempts): no
// SQPOLL, so the head is ours to read plainly; no SQE128.
inline bool UringBackend::has_room(unsigned count) const noexcept {
  RINGSOCK_ASSERT(!(ring_.flags & IORING_SETUP_SQPOLL));
  const io_uring_sq& sq = ring_.sq;
  return sq.sqe_tail + count - IO_URING_READ_ONCE(*sq.khead) <= sq.ring_entries;
}

// An entry is reused: the fields io_uring_prep_rw does not set in liburing
// >= 2.6 (io_uring_get_sqe clears them there) are cleared here, so no link,
// buffer-select or bundle bit of its last use survives. With 2.3's prep_rw,
// which clears them too, the compiler drops these stores.
inline io_uring_sqe* UringBackend::next_sqe() noexcept {
  RINGSOCK_ASSERT(!(ring_.flags & IORING_SETUP_SQE128));  // one io_uring_sqe per entry
  io_uring_sq& sq = ring_.sq;
  RINGSOCK_ASSERT(sq.sqe_tail - IO_URING_READ_ONCE(*sq.khead) < sq.ring_entries);  // has_room
  unsigned tail = sq.sqe_tail++;
  io_uring_sqe* sqe = &sq.sqes[tail & sq.ring_mask];
  sqe->flags = 0;
  sqe->ioprio = 0;
  sqe->rw_flags = 0;
  sqe->buf_index = 0;
  sqe->personality = 0;
  sqe->file_index = 0;
  sqe->addr3 = 0;
  sqe->__pad2[0] = 0;
  return sqe;
}

// Room for `count` SQEs in a row (an operation and its linked deadline), the
// first one taken; nullptr if even a flush made no room.
inline io_uring_sqe* UringBackend::get_sqes(unsigned count) noexcept {
  if (__builtin_expect(!has_room(count), 0) && !make_room(count)) return nullptr;
  return next_sqe();
}

// Receives into pool buffers (multishot) need the buffer ring, and recvfrom's
// the kernel's multishot recvmsg: without them they are refused (-EOPNOTSUPP).
inline bool UringBackend::startable(OpKind kind) const noexcept {
  if (lends_buffers(kind)) {
    if (buffer_ring_ == nullptr) return false;
    if (kind == OpKind::recvfrom_multishot && !caps_->multishot_recv) return false;
  }
  return true;
}

RINGSOCK_HOT inline int UringBackend::start(Operation& op) noexcept {
  // Read once, before any store to the ring: the compiler cannot tell those
  // from stores to op, and the kind is often a constant in the Loop call.
  const OpKind kind = op.kind;
  const uint8_t flags = op.flags;
  bool linked = flags & kHasDeadline;
  if (!startable(kind)) return -EOPNOTSUPP;
  io_uring_sqe* sqe = get_sqes(linked ? 2 : 1);
  if (sqe == nullptr) return -EAGAIN;
  prep(sqe, op, kind, flags);
  fix_file(sqe, op.fd);
  io_uring_sqe_set_data64(sqe, encode(&op, Tag::operation));
  if (linked) {
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe* timer = next_sqe();
    io_uring_prep_link_timeout(timer, reinterpret_cast<__kernel_timespec*>(&op.deadline),
                               IORING_TIMEOUT_ABS);
    io_uring_sqe_set_data64(timer, encode(&op, Tag::link_timeout));
  }
  return 0;
}

// A restart never jumps the queue: behind operations already waiting for SQ
// room it waits too, and so it does when even a flush made no room.
RINGSOCK_HOT inline int UringBackend::restart(Operation& op) noexcept {
  int rc = __builtin_expect(waiting_head_ == nullptr, 1) ? start(op) : -EAGAIN;
  if (__builtin_expect(rc != -EAGAIN, 1)) return rc;
  wait_for_room(op, kWaitingStart);
  return 0;
}

// A full SQ is not flushed here: the Loop call then takes the ordinary start,
// which flushes it or refuses.
RINGSOCK_HOT inline bool UringBackend::reserve(OpKind kind) const noexcept {
  return startable(kind) && has_room(1);
}

RINGSOCK_HOT inline void UringBackend::start_reserved(Operation& op) noexcept {
  const OpKind kind = op.kind;
  io_uring_sqe* sqe = next_sqe();
  prep(sqe, op, kind, 0);
  fix_file(sqe, op.fd);
  io_uring_sqe_set_data64(sqe, encode(&op, Tag::operation));
}

inline void UringBackend::prep_sendmsg(io_uring_sqe* sqe, Operation& op, uint8_t flags) noexcept {
  if (flags & kZeroCopy) {
    io_uring_prep_sendmsg_zc(sqe, op.fd, &op.args.message.header, kZeroCopySendFlags);
    sqe->ioprio |= kZeroCopyReportUsage;
  } else {
    io_uring_prep_sendmsg(sqe, op.fd, &op.args.message.header, MSG_NOSIGNAL);
  }
}

RINGSOCK_HOT inline void UringBackend::prep(io_uring_sqe* sqe, Operation& op, OpKind kind,
                                            uint8_t flags) noexcept {
  constexpr int kAcceptFlags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  OpArgs& a = op.args;
  if (flags & kAwaitReady) {
    // The kernel answered -EAGAIN: wait until the socket is ready, then run again.
    io_uring_prep_poll_add(sqe, op.fd, is_send(kind) ? POLLOUT : POLLIN);
    return;
  }
  switch (kind) {
    case OpKind::accept: {
      Endpoint* peer = a.accept.peer;
      if (peer != nullptr) peer->length = sizeof(peer->storage);
      if (__builtin_expect(direct_, 0)) {
        // Into any free slot; the kernel refuses SOCK_CLOEXEC for a direct
        // descriptor. The field is set here: liburing 2.3's accept_direct
        // turns IORING_FILE_INDEX_ALLOC into 0, which is no slot at all.
        io_uring_prep_accept(sqe, op.fd, peer ? peer->address() : nullptr,
                             peer ? &peer->length : nullptr, SOCK_NONBLOCK);
        sqe->file_index = IORING_FILE_INDEX_ALLOC;
        break;
      }
      io_uring_prep_accept(sqe, op.fd, peer ? peer->address() : nullptr,
                           peer ? &peer->length : nullptr, kAcceptFlags);
      break;
    }
    case OpKind::accept_multishot:
      if (__builtin_expect(direct_, 0)) {
        // One connection per arming, each with a slot the core claimed for
        // it (direct_descriptors.cpp); the core re-arms it.
        io_uring_prep_accept(sqe, op.fd, nullptr, nullptr, SOCK_NONBLOCK);
        sqe->file_index = IORING_FILE_INDEX_ALLOC;
      } else if (caps_->multishot_accept) {
        io_uring_prep_multishot_accept(sqe, op.fd, nullptr, nullptr, kAcceptFlags);
      } else {
        io_uring_prep_accept(sqe, op.fd, nullptr, nullptr, kAcceptFlags);
      }
      break;
    case OpKind::connect:
      io_uring_prep_connect(sqe, op.fd, a.connect.peer->address(), a.connect.peer->length);
      break;
    case OpKind::send: {
      uint8_t* rest = static_cast<uint8_t*>(a.message.vector.iov_base) + op.transferred;
      size_t rest_length = a.message.vector.iov_len - op.transferred;
      if (__builtin_expect(flags & kZeroCopy, 0)) {
        io_uring_prep_send_zc(sqe, op.fd, rest, rest_length, kZeroCopySendFlags,
                              kZeroCopyReportUsage);
      } else {
        io_uring_prep_send(sqe, op.fd, rest, rest_length, MSG_NOSIGNAL);
      }
      break;
    }
    case OpKind::recv:
      io_uring_prep_recv(sqe, op.fd, a.io.data, a.io.length, 0);
      break;
    case OpKind::recv_multishot:
      // Under a per-fd cap one buffer per arming, re-armed by the core: the
      // kernel's multishot loop (and a bundle) could fill dozens at once. A
      // UNIX stream (kOneAtATime) is re-armed after each result too, so that
      // its end is never lost (unix_stream_recv.hpp).
      if (caps_->multishot_recv && !one_buffer_per_recv_ && !(flags & kOneAtATime)) {
        io_uring_prep_recv_multishot(sqe, op.fd, nullptr, 0, 0);
        // One receive fills as many ring buffers as the data needs; the core
        // hands them out one callback each (LoopCore::dispatch_bundle).
        if (caps_->recv_bundle) sqe->ioprio |= kRecvSendBundle;
      } else {
        if (caps_->recv_bundle && !one_buffer_per_recv_) {
          io_uring_prep_recv(sqe, op.fd, nullptr, 0, 0);
          sqe->ioprio |= kRecvSendBundle;
        } else {
          io_uring_prep_recv(sqe, op.fd, nullptr, pool_->size_bytes(), 0);
        }
        // Re-armed from the dispatch of a result that left the socket empty
        // (drained_): a read now would find nothing, so the kernel polls first.
        if (encode(&op, Tag::operation) == drained_) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
      }
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = kBufferGroup;
      break;
    case OpKind::sendto:
    case OpKind::sendtov:
      prep_sendmsg(sqe, op, flags);
      break;
    case OpKind::sendv:
      // Inside a piece after a short send: its rest alone (sendv.hpp).
      if (!in_piece(op)) {
        prep_sendmsg(sqe, op, flags);
      } else if (flags & kZeroCopy) {
        io_uring_prep_send_zc(sqe, op.fd, piece_rest(op), piece_rest_length(op),
                              kZeroCopySendFlags, kZeroCopyReportUsage);
      } else {
        io_uring_prep_send(sqe, op.fd, piece_rest(op), piece_rest_length(op), MSG_NOSIGNAL);
      }
      break;
    case OpKind::recvfrom:
      // The kernel shrinks msg_namelen to the sender's size: reset it for a restart.
      a.message.header.msg_namelen = a.message.peer ? sizeof(a.message.peer->storage) : 0;
      a.message.header.msg_flags = 0;
      io_uring_prep_recvmsg(sqe, op.fd, &a.message.header, 0);
      break;
    case OpKind::recvfrom_multishot:
      io_uring_prep_recvmsg_multishot(sqe, op.fd, &a.message.header, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = kBufferGroup;
      break;
    case OpKind::shutdown:
      io_uring_prep_shutdown(sqe, op.fd, a.io.how);
      break;
    case OpKind::timeout:
      io_uring_prep_timeout(sqe, reinterpret_cast<__kernel_timespec*>(&op.deadline), 0,
                            IORING_TIMEOUT_ABS);
      break;
    case OpKind::nop:
    case OpKind::none:
    case OpKind::post:   // never started here: posts come by the post box or MSG_RING
    case OpKind::close:  // never started here: the core closes synchronously (close_now)
      RINGSOCK_ASSERT(kind == OpKind::nop);
      io_uring_prep_nop(sqe);
      break;
  }
}

// One submit per turn: everything queued since the last turn goes in with the
// wait. The completions stay on the ring until next_event reads them.
RINGSOCK_HOT inline int UringBackend::turn(EventQueue& queue, bool wait) noexcept {
  if (__builtin_expect(prepare_turn_, 0)) return turn_prepared(queue, wait);
  int rc = enter(wait);
  if (__builtin_expect(rc < 0, 0)) return turn_retry(queue, wait, rc);
  return int(observe());
}

// Submits what is queued and, if asked to wait, sleeps for the first
// completion, or for a batch of them (LoopOptions::batch_wait_us).
RINGSOCK_HOT inline int UringBackend::enter(bool wait) noexcept {
  if (!wait) return io_uring_submit_and_get_events(&ring_);
  if (__builtin_expect(batch_wait_us_ != 0, 0)) return submit_and_wait_batch();
  return io_uring_submit_and_wait(&ring_, 1);
}

// Marks the CQEs ready now as this turn's batch and returns their count. The
// acquire orders next_event's CQE reads after the tail read. CQEs the kernel
// posts later (a submit from a callback that found the SQ full) wait for the
// next turn, so one turn runs a bounded number of callbacks.
RINGSOCK_HOT inline unsigned UringBackend::observe() noexcept {
  batch_end_ = io_uring_smp_load_acquire(ring_.cq.ktail);
  return batch_end_ - *ring_.cq.khead;
}

// The next completion for the core: first any the SQ-full path spilled into
// the queue (they are older), then the ring's, in order, up to the batch end.
// Each CQE is copied out and its entry given back to the kernel before the
// callback runs, so callbacks may submit freely. Wake and internal CQEs are
// consumed here. At the batch end, a CQ that overflowed is flushed (nothing
// is lost: the kernel kept the extra CQEs) and reading goes on.
RINGSOCK_HOT inline bool UringBackend::next_event(EventQueue& queue, RawEvent& event) noexcept {
  if (__builtin_expect(!queue.empty(), 0)) {
    event = queue.pop();
    return true;
  }
  io_uring_cq& cq = ring_.cq;
  for (;;) {
    unsigned head = *cq.khead;  // ours alone to write: a plain read
    if (head == batch_end_) {
      if (__builtin_expect(!io_uring_cq_has_overflow(&ring_), 1) || !flush_overflow()) {
        return false;
      }
      continue;
    }
    // One io_uring_cqe per entry: the ring is set up without CQE32.
    RINGSOCK_ASSERT(!(ring_.flags & IORING_SETUP_CQE32));
    const io_uring_cqe& cqe = cq.cqes[head & cq.ring_mask];
    event = RawEvent{cqe.user_data, cqe.res, cqe.flags};
    // A one-shot receive into a pool buffer that left its socket empty (drained_).
    constexpr unsigned kDrained =
        IORING_CQE_F_BUFFER | IORING_CQE_F_MORE | IORING_CQE_F_SOCK_NONEMPTY;
    drained_ = (cqe.flags & kDrained) == IORING_CQE_F_BUFFER ? cqe.user_data : 0;
    // The kernel may reuse the entry once it sees the new head.
    io_uring_smp_store_release(cq.khead, head + 1);
    if (__builtin_expect(for_core(event.user_data), 1)) return true;
  }
}

// Whether a CQE is for the core: an operation's result, and the post path's
// (wakes, posts, failed posts: for_core_rare). A linked deadline's and a
// cancel request's are read for their tag alone.
RINGSOCK_HOT inline bool UringBackend::for_core(uint64_t user_data) noexcept {
  if (__builtin_expect(tag_of(user_data) == Tag::operation, 1)) return true;
  return for_core_rare(user_data);
}

// SQEs queued since the last submit after which a long batch of callbacks
// submits them at once instead of at the next turn.
inline constexpr unsigned kEarlySubmit = 32;

// Called after each callback of a batch. Without it the replies a batch's
// callbacks queue leave together only after the last callback: a peer that
// has answered everything sleeps meanwhile, and the two sides fall into
// lock-step (UNIX echo, 50 connections x 8: the client slept 14k times in
// 6M messages against 400-700 with this; rate +20%, server CPU lower).
RINGSOCK_HOT inline void UringBackend::submit_early() noexcept {
  const io_uring_sq& sq = ring_.sq;
  if (__builtin_expect(sq.sqe_tail - sq.sqe_head >= kEarlySubmit, 0)) submit_now();
}

RINGSOCK_HOT inline bool UringBackend::has_events(const EventQueue& queue) const noexcept {
  return !queue.empty() || *ring_.cq.khead != batch_end_;
}

}  // namespace ringsock::detail
