// engine_bench: the engine's per-operation cost next to raw liburing 2.3.
//
// Every case exists twice, "<case>/engine" and "<case>/raw", doing the same
// kernel work on the same kind of ring; micro.sh divides one by the other.
//   nop         one NOP: submit, wait, reap, callback
//   nop_batch32 32 NOPs submitted, then run until all 32 are back (per NOP)
//   echo64      64-byte ping-pong over a UNIX stream socketpair: A sends,
//               B receives and sends it back, A receives (per round trip)
//   echo64_multishot  the same, B on a multishot recv with pool buffers
#include <benchmark/benchmark.h>
#include <liburing.h>

#include <array>
#include <string>

#include "bench_common.hpp"
#include "engine_echo.hpp"
#include "nop_cases.hpp"
#include "raw_bench.hpp"
#include "ringsock/loop.hpp"

namespace bench {
namespace {

using ringsock::Loop;
using ringsock::Operation;

// The ring flags the engine ended up with, in the raw side's words; another
// backend (RINGSOCK_BACKEND) is named instead, and then engine/raw compares
// that backend with raw io_uring.
void label_engine(benchmark::State& state, const Loop& loop) {
  const ringsock::Capabilities& caps = loop.capabilities();
  if (caps.backend != ringsock::BackendKind::uring) {
    state.SetLabel(std::string("backend: ") + loop.backend_reason());
    return;
  }
  unsigned flags = (caps.submit_all ? IORING_SETUP_SUBMIT_ALL : 0) |
                   (caps.single_issuer ? IORING_SETUP_SINGLE_ISSUER : 0) |
                   (caps.defer_taskrun ? IORING_SETUP_DEFER_TASKRUN : 0) |
                   (caps.coop_taskrun ? IORING_SETUP_COOP_TASKRUN : 0);
  state.SetLabel(setup_label(flags, caps.registered_ring_fd));
}

// Loop::init with the defaults the raw ring mirrors; false = run skipped.
bool init_loop(benchmark::State& state, Loop& loop) {
  int rc = loop.init();
  if (rc < 0) {
    skip(state, "Loop::init", rc);
    return false;
  }
  label_engine(state, loop);
  return true;
}

void check_nops(benchmark::State& state, const NopCount& count) {
  if (count.failed != 0) state.SkipWithError("a NOP completed with an error");
}

void engine_nop(benchmark::State& state) {
  Loop loop;
  if (!init_loop(state, loop)) return;
  Operation op;
  NopCount count;
  for (auto _ : state) {
    if (!engine_nop_round_trip(loop, op, count)) {
      state.SkipWithError("engine NOP round trip failed");
      break;
    }
  }
  check_nops(state, count);
  report(state, 1);
}

void engine_nop_batch32(benchmark::State& state) {
  Loop loop;
  if (!init_loop(state, loop)) return;
  std::array<Operation, kBatch> ops;
  NopCount count;
  for (auto _ : state) {
    if (!engine_nop_batch(loop, ops, count)) {
      state.SkipWithError("engine NOP batch failed");
      break;
    }
  }
  check_nops(state, count);
  report(state, kBatch);
}

void engine_echo(benchmark::State& state, bool multishot) {
  EngineEcho e;
  if (int rc = setup_echo(e, multishot); rc < 0) return skip(state, "engine echo set-up", rc);
  label_engine(state, e.loop);
  for (auto _ : state) {
    if (!round_trip(e)) {
      state.SkipWithError(e.error);
      break;
    }
  }
  if (!state.error_occurred() && !e.intact()) state.SkipWithError("echo came back different");
  report(state, 1);
}

}  // namespace

// Engine and raw twins back to back, so both see the same machine state.
BENCHMARK(engine_nop)->Name("nop/engine")->UseRealTime();
BENCHMARK(raw_nop)->Name("nop/raw")->UseRealTime();
BENCHMARK(engine_nop_batch32)->Name("nop_batch32/engine")->UseRealTime();
BENCHMARK(raw_nop_batch32)->Name("nop_batch32/raw")->UseRealTime();
BENCHMARK_CAPTURE(engine_echo, single, false)->Name("echo64/engine")->UseRealTime();
BENCHMARK_CAPTURE(raw_echo, single, false)->Name("echo64/raw")->UseRealTime();
BENCHMARK_CAPTURE(engine_echo, multishot, true)->Name("echo64_multishot/engine")->UseRealTime();
BENCHMARK_CAPTURE(raw_echo, multishot, true)->Name("echo64_multishot/raw")->UseRealTime();

}  // namespace bench

BENCHMARK_MAIN();
