// The raw liburing cases (raw_bench.cpp), registered next to their engine
// twins in engine_bench.cpp.
#pragma once

#include <benchmark/benchmark.h>

namespace bench {

void raw_nop(benchmark::State& state);
void raw_nop_batch32(benchmark::State& state);
/// `multishot`: side B receives with a multishot recv into provided buffers.
void raw_echo(benchmark::State& state, bool multishot);

}  // namespace bench
