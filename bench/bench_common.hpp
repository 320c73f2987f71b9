// Google Benchmark glue shared by the engine and raw cases.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

namespace bench {

/// Marks the run failed with "what: strerror(-error)".
void skip(benchmark::State& state, const char* what, int error);

/// Names the ring's IORING_SETUP_* flags in the benchmark's label, to show
/// that both sides run on the same kind of ring.
std::string setup_label(unsigned setup_flags, bool registered_fd);

/// `ops_per_iteration` operations (NOPs or echo round trips) per iteration:
/// the items/s that micro.sh turns into ns/op.
void report(benchmark::State& state, int64_t ops_per_iteration);

}  // namespace bench
