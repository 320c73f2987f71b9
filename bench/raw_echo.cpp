#include "raw_echo.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace bench {

namespace {

// user_data of each SQE: what it is in the low byte, a buffer id above it.
enum Tag : uint64_t { kASend = 1, kARecv, kBSend, kBRecv, kWatchdog };
constexpr unsigned kTagBits = 8;

void fail(RawEcho& e, const char* why) {
  if (e.error == nullptr) e.error = why;
}

io_uring_sqe* next_sqe(RawEcho& e, uint64_t user_data) {
  io_uring_sqe* sqe = io_uring_get_sqe(e.ring.get());
  if (sqe == nullptr) {
    fail(e, "submission queue full");
    return nullptr;
  }
  io_uring_sqe_set_data64(sqe, user_data);
  return sqe;
}

void prep_send(RawEcho& e, int fd, const void* data, size_t length, uint64_t user_data) {
  if (io_uring_sqe* sqe = next_sqe(e, user_data)) {
    io_uring_prep_send(sqe, fd, data, length, MSG_NOSIGNAL);
  }
}

void prep_recv(RawEcho& e, int fd, void* data, size_t length, uint64_t user_data) {
  if (io_uring_sqe* sqe = next_sqe(e, user_data)) io_uring_prep_recv(sqe, fd, data, length, 0);
}

// B's receive: one recv into its own buffer, or a multishot recv that picks
// provided buffers (the SQE the engine builds for recv_multishot).
void arm_b(RawEcho& e) {
  if (!e.multishot) return prep_recv(e, e.pair.b, e.b_buffer, kMessageBytes, kBRecv);
  if (io_uring_sqe* sqe = next_sqe(e, kBRecv)) {
    io_uring_prep_recv_multishot(sqe, e.pair.b, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
  }
}

void arm_watchdog(RawEcho& e) {
  if (io_uring_sqe* sqe = next_sqe(e, kWatchdog)) {
    io_uring_prep_timeout(sqe, &e.watchdog_after, 0, 0);
  }
}

void b_received(RawEcho& e, const io_uring_cqe& cqe) {
  if (!e.multishot) {
    if (cqe.res <= 0) return fail(e, "side B: recv failed or EOF");
    return prep_send(e, e.pair.b, e.b_buffer, size_t(cqe.res), kBSend);
  }
  // The kernel ended the multishot recv (it may, e.g. on a full CQ): arm it again.
  if (!(cqe.flags & IORING_CQE_F_MORE)) arm_b(e);
  if (!(cqe.flags & IORING_CQE_F_BUFFER)) {
    if (cqe.res != -ENOBUFS) fail(e, "side B: multishot recv failed or EOF");
    return;
  }
  auto id = uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  if (cqe.res <= 0) return e.ring.recycle(id);
  prep_send(e, e.pair.b, e.ring.buffer(id), size_t(cqe.res), kBSend | (uint64_t(id) << kTagBits));
}

void b_sent(RawEcho& e, const io_uring_cqe& cqe) {
  if (cqe.res < 0) fail(e, "side B: send failed");
  if (e.multishot) return e.ring.recycle(uint16_t(cqe.user_data >> kTagBits));
  arm_b(e);
}

void watchdog_fired(RawEcho& e, const io_uring_cqe& cqe) {
  if (cqe.res != -ETIME) return;  // cancelled at teardown
  if (!e.stall.fire()) return fail(e, "stalled: no round trip for 5 s");
  arm_watchdog(e);
}

void on_completion(RawEcho& e, const io_uring_cqe& cqe) {
  switch (cqe.user_data & ((1u << kTagBits) - 1)) {
    case kASend:
    case kARecv:
      if (cqe.res != int32_t(kMessageBytes)) fail(e, "side A: send/recv failed or short");
      --e.pending;
      break;
    case kBRecv:
      b_received(e, cqe);
      break;
    case kBSend:
      b_sent(e, cqe);
      break;
    case kWatchdog:
      watchdog_fired(e, cqe);
      break;
    default:
      fail(e, "unknown completion");
  }
}

// The engine's turn, by hand: submit what is queued, wait for one, reap all.
void turn(RawEcho& e) {
  io_uring* ring = e.ring.get();
  int rc = io_uring_submit_and_wait(ring, 1);
  if (rc < 0 && rc != -EINTR) return fail(e, "io_uring_submit_and_wait failed");
  unsigned head;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(ring, head, cqe) {
    ++seen;
    on_completion(e, *cqe);
  }
  io_uring_cq_advance(ring, seen);
}

}  // namespace

bool round_trip(RawEcho& e) noexcept {
  e.pending = 2;
  prep_recv(e, e.pair.a, e.a_in, kMessageBytes, kARecv);
  prep_send(e, e.pair.a, e.a_out, kMessageBytes, kASend);
  while (e.pending != 0 && e.error == nullptr) turn(e);
  ++e.stall.progress;
  return e.error == nullptr;
}

int setup_echo(RawEcho& e, bool multishot) noexcept {
  if (e.pair.error < 0) return e.pair.error;
  fill_message(e.a_out);
  e.multishot = multishot;
  int rc = e.ring.init();
  if (rc == 0 && multishot) rc = e.ring.init_buffers();
  if (rc < 0) return rc;
  arm_watchdog(e);
  arm_b(e);
  return 0;
}

}  // namespace bench
