// The NOP round trips, engine and raw, as inline functions: the benchmarks
// and the callgrind driver (nop_profile) run exactly the same code.
#pragma once

#include <liburing.h>

#include <array>
#include <cstdint>

#include "ringsock/loop.hpp"
#include "workload.hpp"

namespace bench {

struct NopCount {
  uint64_t done = 0;
  uint64_t failed = 0;
};

inline void count_nop(ringsock::Loop&, ringsock::Operation& op, const ringsock::Completion& c) {
  auto& count = *static_cast<NopCount*>(op.user_data);
  ++count.done;
  count.failed += c.result != 0;
}

/// Engine: submit one NOP, one loop turn, one callback.
inline bool engine_nop_round_trip(ringsock::Loop& loop, ringsock::Operation& op, NopCount& count) {
  return loop.nop(op, count_nop, &count) == 0 && loop.run(ringsock::RunMode::once) == 1;
}

/// Engine: kBatch NOPs, then one run until all of them have called back.
inline bool engine_nop_batch(ringsock::Loop& loop, std::array<ringsock::Operation, kBatch>& ops,
                             NopCount& count) {
  for (ringsock::Operation& op : ops) {
    if (loop.nop(op, count_nop, &count) != 0) return false;
  }
  return loop.run(ringsock::RunMode::until_done) == int(kBatch);
}

/// Raw: the same as engine_nop_round_trip, by hand. A NOP completes inside
/// the submit, so the wait for one completion cannot hang.
inline bool raw_nop_round_trip(io_uring* ring, NopCount& count) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  if (sqe == nullptr) return false;
  io_uring_prep_nop(sqe);
  io_uring_sqe_set_data64(sqe, 1);
  io_uring_cqe* cqe = nullptr;
  if (io_uring_submit_and_wait(ring, 1) < 0 || io_uring_peek_cqe(ring, &cqe) != 0) return false;
  ++count.done;
  count.failed += cqe->res != 0;
  io_uring_cqe_seen(ring, cqe);
  return true;
}

/// Raw: kBatch NOPs, then submit-and-wait and reap until all are back.
inline bool raw_nop_batch(io_uring* ring, NopCount& count) {
  for (unsigned i = 0; i < kBatch; ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (sqe == nullptr) return false;
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, i);
  }
  unsigned reaped = 0;
  while (reaped < kBatch) {
    if (io_uring_submit_and_wait(ring, 1) < 0) return false;
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring, head, cqe) {
      ++seen;
      count.failed += cqe->res != 0;
    }
    io_uring_cq_advance(ring, seen);
    reaped += seen;
  }
  count.done += reaped;
  return true;
}

}  // namespace bench
