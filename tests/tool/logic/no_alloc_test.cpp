// The per-message hot path must not allocate: counts operator new calls
// around each operation. Not under ASan, which owns operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "logic/histogram.hpp"
#include "logic/interval_recorder.hpp"
#include "logic/message.hpp"
#include "logic/pacing.hpp"

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)

// GCC sees through the inlined replacement operators and takes the
// malloc/free pairing for a new/free mismatch: it is the replacement itself.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace ringsock::tool {
namespace {

template <class F>
long allocations_during(F&& f) {
  const long before = g_allocations.load();
  f();
  return g_allocations.load() - before;
}

TEST(NoAlloc, CounterSeesAllocations) {
  EXPECT_GT(allocations_during([] { std::vector<int> v(10); (void)v; }), 0);
}

TEST(NoAlloc, HotPathDoesNotAllocate) {
  Histogram h, other;
  LatencyPair pair;
  Pacer constant(PacingConfig{.total_rate = 1e5, .connections = 2}, 1);
  Pacer poisson(PacingConfig{.total_rate = 1e5, .arrival = Arrival::poisson}, 0);
  StreamAssembler assembler(4096);
  DatagramTracker tracker;
  std::vector<std::uint8_t> buf(1000);
  std::size_t messages = 0;

  const long n = allocations_during([&] {
    for (std::uint64_t i = 0; i < 1000; ++i) {
      h.record(i * 997);
      other.record(i);
      pair.record(constant.next(), poisson.next(), i * 1'000'000);
      const auto len = static_cast<std::uint32_t>(kHeaderSize + i % 900);
      encode({.sequence = i, .connection = 1, .length = len}, buf.data(), buf.size(), 9);
      if (!verify(buf.data(), len, 1, i, 9).ok()) std::abort();
      // Split in two reads so the copying path runs too.
      assembler.feed({buf.data(), 17}, [&](auto) { ++messages; });
      assembler.feed({buf.data() + 17, len - 17}, [&](auto) { ++messages; });
      tracker.on_receive(i % 7 == 0 ? i + 3 : i);
    }
    h.merge(other);
    (void)h.value_at_percentile(99.9);
    (void)h.mean();
  });
  EXPECT_EQ(n, 0);
  EXPECT_EQ(messages, 1000u);
}

TEST(NoAlloc, IntervalRecordingDoesNotAllocate) {
  IntervalRecorder recorder(3, 0, 1'000'000, 3);
  const long n = allocations_during([&] {
    // Crosses many intervals with nobody collecting: the ring fills and the
    // held interval widens, still without allocating.
    for (std::uint64_t i = 0; i < 10'000; ++i) {
      recorder.record(i % 3, i * 2'000, i);
      if (i % 100 == 0) recorder.roll(i * 2'000);
    }
    recorder.finish();
  });
  EXPECT_EQ(n, 0);
}

}  // namespace
}  // namespace ringsock::tool

#endif
