// Zero allocation after init, proven: this binary interposes malloc, calloc,
// realloc, posix_memalign, aligned_alloc, memalign and every operator new,
// then counts them while 100,000 echo round trips run through one loop on
// each transport (multishot receives from the pool, sends, sendto/recvfrom,
// vectored sends (sendv, sendtov),
// deadlines, and the cancel-safe closes at the end), and asserts zero; and
// while posts go back and forth between two loops on two threads (post,
// post_to), on every pair of backends.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include "support.hpp"

// GCC cannot see that our operator new and delete are a matched malloc/free pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// ---- the interposed allocator ------------------------------------------------

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

inline void note_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
}

void* checked(void* pointer) {
  if (pointer == nullptr) abort();  // tests never run out of memory
  return pointer;
}
}  // namespace

extern "C" {
void* malloc(size_t size) {
  note_allocation();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  note_allocation();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) {
  note_allocation();
  return __libc_realloc(pointer, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
  note_allocation();
  void* pointer = __libc_memalign(alignment, size);
  if (pointer == nullptr) return ENOMEM;
  *out = pointer;
  return 0;
}
void* aligned_alloc(size_t alignment, size_t size) {
  note_allocation();
  return __libc_memalign(alignment, size);
}
void* memalign(size_t alignment, size_t size) {
  note_allocation();
  return __libc_memalign(alignment, size);
}
}

void* operator new(size_t size) { return checked(malloc(size)); }
void* operator new[](size_t size) { return checked(malloc(size)); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return malloc(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return malloc(size); }
void* operator new(size_t size, std::align_val_t a) {
  return checked(aligned_alloc(size_t(a), (size + size_t(a) - 1) / size_t(a) * size_t(a)));
}
void* operator new[](size_t size, std::align_val_t a) { return operator new(size, a); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { free(p); }

// ---- the echo workload -----------------------------------------------------------

namespace rstest {
namespace {

constexpr int kRoundTrips = 100'000;
constexpr size_t kMessageBytes = 64;
constexpr uint64_t kDeadlineNs = 10'000'000'000ull;

enum class Kind { tcp, udp, unix_stream, unix_dgram };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::tcp: return "tcp";
    case Kind::udp: return "udp";
    case Kind::unix_stream: return "unix";
    case Kind::unix_dgram: return "unix_dgram";
  }
  return "?";
}

// The echo side: a multishot receive whose lent buffers go straight back out
// in order; each buffer is released when its send completes.
struct Echo {
  static constexpr int kQueue = 64;
  Operation receive;
  Operation send;
  Endpoint peer;  // datagram: who to answer
  bool datagram = false;
  int fd = -1;
  uint16_t ids[kQueue];
  uint32_t lengths[kQueue];
  uint8_t* data[kQueue];
  int head = 0;
  int count = 0;
  bool sending = false;
  int errors = 0;
  uint32_t sends = 0;
  iovec pieces[2];  // every other reply goes out in two pieces (sendv, sendtov)

  static void on_receive(Loop& loop, Operation& op, const Completion& c);
  static void on_sent(Loop& loop, Operation& op, const Completion& c);
  void send_next(Loop& loop);
};

void Echo::on_receive(Loop& loop, Operation& op, const Completion& c) {
  auto* self = static_cast<Echo*>(op.user_data);
  if (!c.has_buffer) {
    if (c.result < 0 && c.result != -ECANCELED) ++self->errors;
    return;
  }
  if (self->datagram) {
    memcpy(&self->peer.storage, c.peer, c.peer_length);
    self->peer.length = c.peer_length;
  }
  if (self->count == kQueue) {
    ++self->errors;
    loop.release_buffer(c.buffer_id);
    return;
  }
  int slot = (self->head + self->count++) % kQueue;
  self->ids[slot] = c.buffer_id;
  self->lengths[slot] = uint32_t(c.result);
  self->data[slot] = c.data;
  if (!self->sending) self->send_next(loop);
}

void Echo::send_next(Loop& loop) {
  if (count == 0) return;
  sending = true;
  int rc;
  if (sends++ & 1) {
    uint32_t first = lengths[head] / 2;
    pieces[0] = iovec{data[head], first};
    pieces[1] = iovec{data[head] + first, lengths[head] - first};
    rc = datagram ? loop.sendtov(send, fd, pieces, 2, &peer, on_sent, this)
                  : loop.sendv(send, fd, pieces, 2, on_sent, this);
  } else {
    rc = datagram ? loop.sendto(send, fd, data[head], lengths[head], &peer, on_sent, this)
                  : loop.send(send, fd, data[head], lengths[head], on_sent, this);
  }
  if (rc != 0) ++errors;
}

void Echo::on_sent(Loop& loop, Operation& op, const Completion& c) {
  auto* self = static_cast<Echo*>(op.user_data);
  if (c.result < 0) ++self->errors;
  loop.release_buffer(self->ids[self->head]);
  self->head = (self->head + 1) % kQueue;
  --self->count;
  self->sending = false;
  self->send_next(loop);
}

// The client side: one 64-byte message out, the whole message back (across
// partial reads on streams), verified, then the next; each receive has a deadline.
struct Client {
  Operation send;
  Operation receive;
  int fd = -1;
  uint8_t out[kMessageBytes];
  uint8_t in[kMessageBytes];
  size_t have = 0;
  int done = 0;
  int errors = 0;

  iovec pieces[2] = {{out, sizeof(done)}, {out + sizeof(done), kMessageBytes - sizeof(done)}};

  void start_round(Loop& loop) {
    memcpy(out, &done, sizeof(done));
    have = 0;
    // Every other round: the round number and the rest as two pieces.
    int rc = (done & 1) ? loop.sendv(send, fd, pieces, 2, on_sent, this)
                        : loop.send(send, fd, out, sizeof(out), on_sent, this);
    if (rc != 0) ++errors;
    receive.timeout_ns = kDeadlineNs;
    if (loop.recv(receive, fd, in, sizeof(in), on_received, this) != 0) ++errors;
  }
  static void on_sent(Loop&, Operation& op, const Completion& c) {
    if (c.result != int(kMessageBytes)) ++static_cast<Client*>(op.user_data)->errors;
  }
  static void on_received(Loop& loop, Operation& op, const Completion& c) {
    auto* self = static_cast<Client*>(op.user_data);
    if (c.result <= 0) {
      ++self->errors;
      return;
    }
    self->have += size_t(c.result);
    if (self->have < kMessageBytes) {
      if (loop.recv(op, self->fd, self->in + self->have, kMessageBytes - self->have, on_received,
                    self) != 0) {
        ++self->errors;
      }
      return;
    }
    if (memcmp(self->in, self->out, kMessageBytes) != 0) ++self->errors;
    if (++self->done < kRoundTrips) self->start_round(loop);
  }
};

class ZeroAllocTest : public testing::TestWithParam<std::tuple<TestBackend, Kind>> {
 protected:
  void SetUp() override {
    std::string why;
    int rc = init_for_test(loop, options_for(std::get<0>(GetParam())), why);
    if (rc < 0 && std::get<0>(GetParam()) == TestBackend::uring) GTEST_SKIP() << why;
    ASSERT_EQ(rc, 0) << why;
  }
  Kind kind() const { return std::get<1>(GetParam()); }
  bool is_datagram() const { return kind() == Kind::udp || kind() == Kind::unix_dgram; }
  // Sets up the two connected fds (allocation allowed here: before counting).
  void connect(int& client, int& server);
  // Echo round trips, then the closes, counting allocations throughout.
  void echo_round_trips();
  Loop loop;
  TempDir dir;
  StreamPair pair_;
};

void ZeroAllocTest::connect(int& client, int& server) {
  Family family = (kind() == Kind::tcp || kind() == Kind::udp) ? Family::ipv4 : Family::unix_abstract;
  if (!is_datagram()) {
    ASSERT_TRUE(connect_pair(loop, family, dir, pair_));
    client = pair_.client;
    server = pair_.server;
    pair_.client = pair_.server = -1;  // the loop's close ops own them now
    return;
  }
  Endpoint requested = make_endpoint(family, false, dir);
  server = bind_datagram(requested);
  ASSERT_GE(server, 0);
  client = connect_datagram(bound_endpoint(server, requested));
  ASSERT_GE(client, 0);
}

// A timer that bounds a counted run: armed before counting, ended after it.
struct GuardTimer {
  Operation op;
  bool expired = false;
  int arm(Loop& loop, uint64_t ns) {
    return loop.timeout(op, ns, [](Loop&, Operation& o, const Completion& c) {
      *static_cast<bool*>(o.user_data) = c.result == 0;
    }, &expired);
  }
  void end(Loop& loop) {
    loop.cancel(op);
    while (op.in_flight()) loop.run(RunMode::once);
  }
};

// Runs the loop until `done`, bounded by a guard timer set up before counting.
template <class Done>
void run_counted(Loop& loop, const bool& expired, Done done) {
  while (!done() && !expired) ASSERT_GE(loop.run(RunMode::once), 0);
}

TEST(ZeroAllocSanity, InterpositionCountsEveryEntryPoint) {
  using Fn = void* (*)(size_t);
  volatile Fn allocate = malloc;  // through a pointer: the compiler may not elide it
  g_allocations = 0;
  g_counting = true;
  void* a = allocate(16);
  void* b = calloc(1, 16);
  b = realloc(b, 64);
  void* c = nullptr;
  EXPECT_EQ(posix_memalign(&c, 64, 64), 0);
  int* d = new int(1);
  auto* e = new (std::nothrow) char[10];
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 6);
  free(a);
  free(b);
  free(c);
  delete d;
  delete[] e;
}

void ZeroAllocTest::echo_round_trips() {
  int client_fd = -1, server_fd = -1;
  connect(client_fd, server_fd);
  ASSERT_FALSE(HasFatalFailure());
  Echo echo;
  echo.fd = server_fd;
  echo.datagram = is_datagram();
  Client client;
  client.fd = client_fd;
  Operation close_client, close_server;
  GuardTimer guard;
  const bool& expired = guard.expired;
  ASSERT_EQ(guard.arm(loop, 240'000'000'000ull), 0);
  int closed = 0;
  auto on_closed = [](Loop&, Operation& op, const Completion& c) {
    EXPECT_EQ(c.result, 0);
    ++*static_cast<int*>(op.user_data);
  };

  g_allocations = 0;
  g_counting = true;
  int rc = echo.datagram ? loop.recvfrom_multishot(echo.receive, server_fd, Echo::on_receive, &echo)
                         : loop.recv_multishot(echo.receive, server_fd, Echo::on_receive, &echo);
  ASSERT_EQ(rc, 0);
  client.start_round(loop);
  run_counted(loop, expired, [&] { return client.done == kRoundTrips || client.errors > 0; });
  // The cancel-safe closes (cancelling the multishot receive) are counted too.
  ASSERT_EQ(loop.close(close_server, server_fd, on_closed, &closed), 0);
  ASSERT_EQ(loop.close(close_client, client_fd, on_closed, &closed), 0);
  run_counted(loop, expired, [&] { return closed == 2; });
  g_counting = false;
  long allocations = g_allocations.load();

  EXPECT_FALSE(expired) << "the workload did not finish in time";
  EXPECT_EQ(client.done, kRoundTrips);
  EXPECT_EQ(client.errors, 0);
  EXPECT_EQ(echo.errors, 0);
  EXPECT_EQ(allocations, 0) << allocations << " heap allocations on the submit/complete path";
  guard.end(loop);
}

TEST_P(ZeroAllocTest, EchoRoundTripsAllocateNothing) { echo_round_trips(); }

// The same with coalesced waits (LoopOptions::batch_wait_us): the wait that
// io_uring makes then is a call of its own. epoll ignores the option, and
// the test above covers it.
TEST_P(ZeroAllocTest, EchoWithCoalescedWaitsAllocatesNothing) {
  if (std::get<0>(GetParam()) == TestBackend::epoll) GTEST_SKIP() << "epoll ignores batch_wait_us";
  loop.deinit();
  LoopOptions o;
  o.batch_wait_us = 5;
  o.batch_wait_count = 2;
  std::string why;
  ASSERT_EQ(init_for_test(loop, options_for(std::get<0>(GetParam()), o), why), 0) << why;
  echo_round_trips();
}

// The same with every send asking for zero-copy (LoopOptions::zero_copy_min_bytes):
// the SEND_ZCs, their notifications, loopback's "copied" that stops them
// and a UNIX stream's refusal all fall inside the counted part.
TEST_P(ZeroAllocTest, EchoWithZeroCopySendsAllocatesNothing) {
  if (std::get<0>(GetParam()) == TestBackend::epoll) GTEST_SKIP() << "epoll ignores zero_copy_min_bytes";
  loop.deinit();
  LoopOptions o;
  o.zero_copy_min_bytes = 1;
  std::string why;
  ASSERT_EQ(init_for_test(loop, options_for(std::get<0>(GetParam()), o), why), 0) << why;
  if (!loop.capabilities().send_zc) GTEST_SKIP() << "the kernel lacks SEND_ZC";
  echo_round_trips();
  const LoopStats& stats = loop.stats();
  if (std::get<1>(GetParam()) != Kind::unix_dgram) {  // those go out by the core's sendmsg
    EXPECT_GE(stats.zero_copy_notifications + stats.zero_copy_refused, 1u);
  }
}

// The same over direct descriptors (LoopOptions::direct_descriptors): the
// server's side of the echo is one (connect_pair accepts it through the
// loop), and a multishot accept into the table, its cancel and the close
// that empties the slot are counted too.
TEST_P(ZeroAllocTest, EchoOverDirectDescriptorsAllocatesNothing) {
  if (std::get<0>(GetParam()) == TestBackend::epoll) GTEST_SKIP() << "epoll ignores direct_descriptors";
  if (is_datagram()) GTEST_SKIP() << "direct descriptors come from accepts: streams";
  loop.deinit();
  LoopOptions o;
  o.direct_descriptors = 8;
  std::string why;
  ASSERT_EQ(init_for_test(loop, options_for(std::get<0>(GetParam()), o), why), 0) << why;
  if (loop.capabilities().direct_descriptors == 0) {
    ASSERT_FALSE(direct_descriptors_expected(8)) << "no table on a kernel that has them";
    GTEST_SKIP() << "the kernel has no table of direct descriptors for the engine (6.13)";
  }
  echo_round_trips();
  ASSERT_FALSE(HasFatalFailure());

  int client = open_socket(pair_.endpoint);
  ASSERT_GE(client, 0);
  ASSERT_TRUE(::connect(client, pair_.endpoint.address(), pair_.endpoint.length) == 0 ||
              errno == EINPROGRESS);
  struct Accepts {
    int fd = -1;
    bool ended = false;
  } accepts;
  Operation accept_op, close_op;
  bool closed = false;
  auto on_accept = [](Loop&, Operation& op, const Completion& c) {
    auto* a = static_cast<Accepts*>(op.user_data);
    if (c.result >= 0) a->fd = c.result;
    if (!c.more) a->ended = true;
  };
  auto on_closed = [](Loop&, Operation& op, const Completion& c) {
    EXPECT_EQ(c.result, 0);
    *static_cast<bool*>(op.user_data) = true;
  };
  GuardTimer guard;
  const bool& expired = guard.expired;
  ASSERT_EQ(guard.arm(loop, 60'000'000'000ull), 0);
  g_allocations = 0;
  g_counting = true;
  ASSERT_EQ(loop.accept_multishot(accept_op, pair_.listener, on_accept, &accepts), 0);
  run_counted(loop, expired, [&] { return accepts.fd >= 0; });
  loop.cancel(accept_op);
  run_counted(loop, expired, [&] { return accepts.ended; });
  ASSERT_TRUE(is_direct_descriptor(accepts.fd));
  ASSERT_EQ(loop.close(close_op, accepts.fd, on_closed, &closed), 0);
  run_counted(loop, expired, [&] { return closed; });
  g_counting = false;
  long allocations = g_allocations.load();
  EXPECT_FALSE(expired);
  EXPECT_EQ(allocations, 0) << allocations << " heap allocations accepting into the table";
  guard.end(loop);
  ::close(client);
}

INSTANTIATE_TEST_SUITE_P(
    Echo, ZeroAllocTest,
    testing::Combine(testing::ValuesIn(all_backends()),
                     testing::Values(Kind::tcp, Kind::udp, Kind::unix_stream, Kind::unix_dgram)),
    [](const testing::TestParamInfo<std::tuple<TestBackend, Kind>>& param) {
      return std::string(backend_name(std::get<0>(param.param))) + "_" +
             kind_name(std::get<1>(param.param));
    });

// ---- posts between two loops ------------------------------------------------------

// Tokens go back and forth between loop 0 (the test's thread) and loop 1
// (a thread of its own): even hops by post_to (io_uring's MSG_RING where both
// loops can), odd hops by the target's post(), so both paths are counted.
struct PostRally {
  static constexpr int kTokens = 16;
  static constexpr int kHops = 2000;
  Loop* loops[2] = {};
  Operation ops[kTokens];
  std::atomic<int> finished{0};
  std::atomic<int> errors{0};

  static void on_post(Loop& loop, Operation& op, const Completion& c) {
    auto* self = static_cast<PostRally*>(op.user_data);
    uint64_t hop = op.post_value();
    if (c.result != 0) ++self->errors;
    if (hop + 1 == kHops) {
      self->finished.fetch_add(1);
      return;
    }
    Loop& target = &loop == self->loops[0] ? *self->loops[1] : *self->loops[0];
    int rc = (hop & 1) ? target.post(op, hop + 1, on_post, self)
                       : loop.post_to(target, op, hop + 1, on_post, self);
    if (rc != 0) ++self->errors;
  }
};

class ZeroAllocPostTest : public testing::TestWithParam<std::tuple<TestBackend, TestBackend>> {};

TEST_P(ZeroAllocPostTest, PostsBetweenLoopsAllocateNothing) {
  Loop here;
  std::string why;
  int rc = init_for_test(here, options_for(std::get<0>(GetParam())), why);
  bool uring = std::get<0>(GetParam()) == TestBackend::uring ||
               std::get<1>(GetParam()) == TestBackend::uring;
  if (rc < 0 && uring) GTEST_SKIP() << why;
  ASSERT_EQ(rc, 0) << why;
  // The other loop's thread, set up before counting; it runs until a post stops it.
  Loop there;
  std::atomic<int> there_rc{1};
  bool stop = false;  // there's thread's alone
  std::thread other([&] {
    int result = there.init(options_for(std::get<1>(GetParam())));
    there_rc.store(result);
    if (result < 0) return;
    while (!stop && there.run(RunMode::once) >= 0) {
    }
    there.deinit();
  });
  while (there_rc.load() == 1) std::this_thread::yield();
  if (there_rc.load() < 0) {
    other.join();
    if (uring) GTEST_SKIP() << "io_uring unavailable";
    FAIL() << there_rc.load();
  }
  PostRally rally;
  rally.loops[0] = &here;
  rally.loops[1] = &there;
  GuardTimer guard;
  const bool& expired = guard.expired;
  ASSERT_EQ(guard.arm(here, 60'000'000'000ull), 0);

  g_allocations = 0;
  g_counting = true;
  for (Operation& op : rally.ops) {
    ASSERT_EQ(here.post_to(there, op, 0, PostRally::on_post, &rally), 0);
  }
  while (rally.finished.load() < PostRally::kTokens && !expired) {
    ASSERT_GE(here.run(RunMode::once), 0);
  }
  g_counting = false;
  long allocations = g_allocations.load();

  Operation stop_op;
  auto on_stop = [](Loop&, Operation& op, const Completion&) { *static_cast<bool*>(op.user_data) = true; };
  ASSERT_EQ(there.post(stop_op, 0, on_stop, &stop), 0);
  other.join();
  EXPECT_FALSE(expired) << "the rally did not finish in time";
  EXPECT_EQ(rally.finished.load(), PostRally::kTokens);
  EXPECT_EQ(rally.errors.load(), 0);
  EXPECT_EQ(allocations, 0) << allocations << " heap allocations while posting";
  guard.end(here);
}

INSTANTIATE_TEST_SUITE_P(
    Pairs, ZeroAllocPostTest,
    testing::Combine(testing::ValuesIn(all_backends()), testing::ValuesIn(all_backends())),
    [](const testing::TestParamInfo<std::tuple<TestBackend, TestBackend>>& param) {
      return std::string(backend_name(std::get<0>(param.param))) + "_" +
             backend_name(std::get<1>(param.param));
    });

}  // namespace
}  // namespace rstest

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
