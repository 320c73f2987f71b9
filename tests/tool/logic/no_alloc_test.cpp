// The per-message hot path must not allocate: counts operator new calls
// around each operation. Not under ASan, which owns operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "logic/histogram.hpp"
#include "logic/interval_recorder.hpp"
#include "logic/message.hpp"
#include "logic/pacing.hpp"
#include "logic/reply_check.hpp"
#include "logic/reply_framing.hpp"
#include "logic/request_template.hpp"

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


// A user's request rendered, its reply framed (split and pipelined) and
// checked: the per-message path of `ringsock load` against any service.
TEST(NoAlloc, RequestsFramingAndChecksDoNotAllocate) {
  RequestTemplate request;
  std::string error;
  ASSERT_TRUE(RequestTemplate::compile("SET k:{seq}:{conn} {rand:8}\r\n", request, error));
  std::vector<std::uint8_t> out(request.max_size());
  FramingSpec http, resp;
  ASSERT_TRUE(parse_reply_protocol("http", http, error));
  ASSERT_TRUE(parse_reply_protocol("resp", resp, error));
  ReplyAssembler http_replies(http, 4096);
  ReplyAssembler resp_replies(resp, 4096);
  ReplyCheckSpec status, regex;
  ASSERT_TRUE(parse_expect_status("2xx", status, error));
  ASSERT_TRUE(parse_expect_regex("^(HTTP/1.1 200|\\*2)", regex, error));
  ReplyChecker http_check, resp_check;
  ASSERT_TRUE(http_check.init({status, regex}, error));
  ASSERT_TRUE(resp_check.init({regex}, error));
  const std::string http_stream =
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  const std::string resp_stream = "*2\r\n$1\r\na\r\n*1\r\n:1\r\n";
  const auto bytes = [](const std::string& s) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  std::size_t replies = 0;
  const auto on_http = [&](std::span<const std::uint8_t> r, const ReplyFramer& f) {
    replies += http_check.check(r.data(), r.size(), f.http_status());
  };
  const auto on_resp = [&](std::span<const std::uint8_t> r, const ReplyFramer&) {
    replies += resp_check.check(r.data(), r.size(), 0);
  };
  // glibc's regexec fills its DFA cache on the first matches (see reply_check.hpp).
  for (int i = 0; i < 10; ++i) {
    http_replies.feed(bytes(http_stream), on_http);
    resp_replies.feed(bytes(resp_stream), on_resp);
  }
  replies = 0;
  const long n = allocations_during([&] {
    for (std::uint64_t i = 0; i < 1000; ++i) {
      if (request.render({.sequence = i, .connection = 3, .seed = 9}, out.data(), out.size()) == 0) {
        std::abort();
      }
      const std::size_t cut = 1 + i % (http_stream.size() - 1);
      http_replies.feed(bytes(http_stream).first(cut), on_http);
      http_replies.feed(bytes(http_stream).subspan(cut), on_http);
      resp_replies.feed(bytes(resp_stream), on_resp);
    }
  });
  EXPECT_EQ(n, 0);
  EXPECT_EQ(replies, 3000u);  // two HTTP replies and one RESP array a turn
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
