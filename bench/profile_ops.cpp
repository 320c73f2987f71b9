// profile_ops: a fixed number of operations, engine or raw liburing, for
// instruction counting with callgrind (callgrind.sh runs it):
//
//   valgrind --tool=callgrind --toggle-collect='*bench::measured_*' profile_ops nop engine 100000
//
// Only the measured_* loops are counted, so set-up is left out and Ir / count
// is the user-space instructions per operation (NOP or echo round trip) (the kernel's share is not
// seen by callgrind). The loop bodies are the ones engine_bench times. echo64_copied and
// echo64_sendv (engine only) are echo64 with side A's message made of a header and a body:
// copied into one buffer and sent, or sent as two pieces with sendv.
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine_echo.hpp"
#include "nop_cases.hpp"
#include "raw_echo.hpp"
#include "raw_uring.hpp"

namespace bench {

__attribute__((noinline)) bool measured_engine_nops(ringsock::Loop& loop, ringsock::Operation& op,
                                                    NopCount& count, long n) {
  for (long i = 0; i < n; ++i) {
    if (!engine_nop_round_trip(loop, op, count)) return false;
  }
  return count.failed == 0;
}

__attribute__((noinline)) bool measured_raw_nops(io_uring* ring, NopCount& count, long n) {
  for (long i = 0; i < n; ++i) {
    if (!raw_nop_round_trip(ring, count)) return false;
  }
  return count.failed == 0;
}

__attribute__((noinline)) bool measured_engine_batches(ringsock::Loop& loop,
                                                       std::array<ringsock::Operation, kBatch>& ops,
                                                       NopCount& count, long batches) {
  for (long i = 0; i < batches; ++i) {
    if (!engine_nop_batch(loop, ops, count)) return false;
  }
  return count.failed == 0;
}

__attribute__((noinline)) bool measured_raw_batches(io_uring* ring, NopCount& count, long batches) {
  for (long i = 0; i < batches; ++i) {
    if (!raw_nop_batch(ring, count)) return false;
  }
  return count.failed == 0;
}

template <class Echo>
__attribute__((noinline)) bool measured_echoes(Echo& e, long n) {
  for (long i = 0; i < n; ++i) {
    if (!round_trip(e)) return false;
  }
  return e.intact();
}

int engine_nops(long n) {
  ringsock::Loop loop;
  int rc = loop.init();
  if (rc < 0) return rc;
  ringsock::Operation op;
  NopCount count;
  return measured_engine_nops(loop, op, count, n) ? 0 : -EIO;
}

int raw_nops(long n) {
  RawRing ring;
  int rc = ring.init();
  if (rc < 0) return rc;
  NopCount count;
  return measured_raw_nops(ring.get(), count, n) ? 0 : -EIO;
}

// n NOPs in batches of kBatch (n a multiple of kBatch).
int engine_batches(long n) {
  ringsock::Loop loop;
  int rc = loop.init();
  if (rc < 0) return rc;
  std::array<ringsock::Operation, kBatch> ops;
  NopCount count;
  return measured_engine_batches(loop, ops, count, n / kBatch) ? 0 : -EIO;
}

int raw_batches(long n) {
  RawRing ring;
  int rc = ring.init();
  if (rc < 0) return rc;
  NopCount count;
  return measured_raw_batches(ring.get(), count, n / kBatch) ? 0 : -EIO;
}

template <class Echo>
int echoes(bool multishot, long n, Framing framing = Framing::whole) {
  Echo e;
  if constexpr (requires { e.framing; }) e.framing = framing;
  int rc = setup_echo(e, multishot);
  if (rc < 0) return rc;
  if (measured_echoes(e, n)) return 0;
  fprintf(stderr, "echo failed: %s\n", e.error ? e.error : "came back different");
  return -EIO;
}

}  // namespace bench

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "";
  const char* side = argc > 2 ? argv[2] : "";
  long n = argc > 3 ? strtol(argv[3], nullptr, 10) : 100000;
  bool engine = strcmp(side, "engine") == 0;
  bool multishot = strcmp(what, "echo64_multishot") == 0;
  int rc = -EINVAL;
  if (n <= 0 || (!engine && strcmp(side, "raw") != 0)) {
    rc = -EINVAL;
  } else if (strcmp(what, "nop") == 0) {
    rc = engine ? bench::engine_nops(n) : bench::raw_nops(n);
  } else if (strcmp(what, "nop_batch32") == 0 && n % bench::kBatch == 0) {
    rc = engine ? bench::engine_batches(n) : bench::raw_batches(n);
  } else if (multishot || strcmp(what, "echo64") == 0) {
    rc = engine ? bench::echoes<bench::EngineEcho>(multishot, n)
                : bench::echoes<bench::RawEcho>(multishot, n);
  } else if (engine && strcmp(what, "echo64_copied") == 0) {
    rc = bench::echoes<bench::EngineEcho>(false, n, bench::Framing::copied);
  } else if (engine && strcmp(what, "echo64_sendv") == 0) {
    rc = bench::echoes<bench::EngineEcho>(false, n, bench::Framing::pieces);
  }
  if (rc == -EINVAL) {
    fprintf(stderr, "usage: %s nop|nop_batch32|echo64|echo64_multishot engine|raw [count]\n"
                    "       %s echo64_copied|echo64_sendv engine [count]\n"
                    "(nop_batch32: count a multiple of 32)\n", argv[0], argv[0]);
    return 2;
  }
  if (rc < 0) {
    fprintf(stderr, "%s %s: %s\n", what, side, strerror(-rc));
    return 1;
  }
  printf("%s %s: %ld done\n", what, side, n);
  return 0;
}
