// The raw liburing twins of the engine cases: the same SQEs on the same kind
// of ring, completions handled inline with no engine in between.
#include "raw_bench.hpp"

#include "bench_common.hpp"
#include "nop_cases.hpp"
#include "raw_echo.hpp"
#include "raw_uring.hpp"

namespace bench {

namespace {

bool init_ring(benchmark::State& state, RawRing& ring) {
  int rc = ring.init();
  if (rc < 0) {
    skip(state, "io_uring_queue_init_params", rc);
    return false;
  }
  state.SetLabel(setup_label(ring.setup_flags(), ring.registered_fd()));
  return true;
}

void check_nops(benchmark::State& state, const NopCount& count) {
  if (count.failed != 0) state.SkipWithError("a NOP completed with an error");
}

}  // namespace

void raw_nop(benchmark::State& state) {
  RawRing ring;
  if (!init_ring(state, ring)) return;
  NopCount count;
  for (auto _ : state) {
    if (!raw_nop_round_trip(ring.get(), count)) {
      state.SkipWithError("raw NOP round trip failed");
      break;
    }
  }
  check_nops(state, count);
  report(state, 1);
}

void raw_nop_batch32(benchmark::State& state) {
  RawRing ring;
  if (!init_ring(state, ring)) return;
  NopCount count;
  for (auto _ : state) {
    if (!raw_nop_batch(ring.get(), count)) {
      state.SkipWithError("raw NOP batch failed");
      break;
    }
  }
  check_nops(state, count);
  report(state, kBatch);
}

void raw_echo(benchmark::State& state, bool multishot) {
  RawEcho e;
  if (int rc = setup_echo(e, multishot); rc < 0) return skip(state, "raw echo set-up", rc);
  state.SetLabel(setup_label(e.ring.setup_flags(), e.ring.registered_fd()));
  for (auto _ : state) {
    if (!round_trip(e)) {
      state.SkipWithError(e.error);
      break;
    }
  }
  if (!state.error_occurred() && !e.intact()) state.SkipWithError("echo came back different");
  report(state, 1);
}

}  // namespace bench
