// Posts: a caller-owned operation's callback delivered on a loop from any
// thread, with a value (Loop::post), and from one loop to another (post_to:
// IORING_OP_MSG_RING between io_uring loops, else the target's post box).
// Exactly one callback per accepted post, on the target's thread; refused
// (not lost) once the target is closing; what was accepted before is called
// back at deinit with -ECANCELED. On both backends, and mixed.
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "support.hpp"

namespace rstest {
namespace {

// What one post's callback saw.
struct Seen {
  int calls = 0;
  int32_t result = 1;
  uint64_t value = 0;
  std::thread::id thread;
};

// Many posts, each with its own operation and record.
struct Posts {
  explicit Posts(size_t count) : ops(count), seen(count) {}
  std::vector<Operation> ops;
  std::vector<Seen> seen;
  int delivered = 0;
  std::atomic<int> delivered_seen{0};  // the same, for other threads to read
  static void callback(Loop&, Operation& op, const Completion& c) {
    auto* self = static_cast<Posts*>(op.user_data);
    size_t index = size_t(&op - self->ops.data());
    Seen& s = self->seen[index];
    ++s.calls;
    s.result = c.result;
    s.value = op.post_value();
    s.thread = std::this_thread::get_id();
    ++self->delivered;
    self->delivered_seen.fetch_add(1, std::memory_order_relaxed);
  }
};

class PostTest : public BackendTest {};

TEST_P(PostTest, PostsFromManyThreadsAreEachCalledBackOnceWithTheirValue) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  Posts posts(kThreads * kPerThread);
  std::atomic<int> refused{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        size_t index = size_t(t * kPerThread + i);
        uint64_t value = (uint64_t(t) << 32) | uint64_t(i) | (1ull << 63);
        if (loop.post(posts.ops[index], value, Posts::callback, &posts) != 0) ++refused;
      }
    });
  }
  // The loop runs meanwhile, so posts arrive both while it waits and while it works.
  ASSERT_TRUE(run_until(loop, [&] { return posts.delivered == kThreads * kPerThread; }, 20s))
      << posts.delivered << " of " << kThreads * kPerThread;
  for (auto& poster : posters) poster.join();
  EXPECT_EQ(refused.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const Seen& s = posts.seen[size_t(t * kPerThread + i)];
      ASSERT_EQ(s.calls, 1) << t << "/" << i;
      EXPECT_EQ(s.result, 0);
      EXPECT_EQ(s.value, (uint64_t(t) << 32) | uint64_t(i) | (1ull << 63));
      EXPECT_EQ(s.thread, std::this_thread::get_id());
      EXPECT_FALSE(posts.ops[size_t(t * kPerThread + i)].in_flight());
    }
  }
  EXPECT_EQ(loop.active(), 0u);
}

// One thread's posts arrive in the order it made them.
TEST_P(PostTest, OneThreadsPostsArriveInOrder) {
  constexpr int kCount = 3000;
  Posts posts(kCount);
  std::vector<uint64_t> order;
  struct Ctx {
    Posts* posts;
    std::vector<uint64_t>* order;
  } ctx{&posts, &order};
  auto cb = [](Loop&, Operation& op, const Completion& c) {
    auto* self = static_cast<Ctx*>(op.user_data);
    EXPECT_EQ(c.result, 0);
    self->order->push_back(op.post_value());
    ++self->posts->delivered;
  };
  std::thread poster([&] {
    for (int i = 0; i < kCount; ++i) EXPECT_EQ(loop.post(posts.ops[size_t(i)], uint64_t(i), cb, &ctx), 0);
  });
  ASSERT_TRUE(run_until(loop, [&] { return posts.delivered == kCount; }));
  poster.join();
  ASSERT_EQ(order.size(), size_t(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(order[size_t(i)], uint64_t(i));
}

// A callback may post its own operation again, to its own loop: a chain.
TEST_P(PostTest, ACallbackMayPostItsOperationAgain) {
  struct Chain {
    Operation op;
    int links = 0;
  } chain;
  auto cb = [](Loop& l, Operation& op, const Completion& c) {
    auto* self = static_cast<Chain*>(op.user_data);
    EXPECT_EQ(c.result, 0);
    EXPECT_EQ(op.post_value(), uint64_t(self->links));
    ++self->links;
    if (self->links < 100) {
      EXPECT_EQ(l.post(op, uint64_t(self->links), op.callback, self), 0);
    }
  };
  ASSERT_EQ(loop.post(chain.op, 0, cb, &chain), 0);
  EXPECT_TRUE(chain.op.in_flight());
  ASSERT_TRUE(run_until(loop, [&] { return chain.links == 100; }));
  EXPECT_FALSE(chain.op.in_flight());
}

TEST_P(PostTest, MisuseIsRefusedAndChangesNothing) {
  Operation op;
  EXPECT_EQ(loop.post(op, 1, nullptr), -EINVAL);
  op.timeout_ns = 1000;
  EXPECT_EQ(loop.post(op, 1, noop_cb), -EINVAL);  // a deadline means nothing to a post
  op.timeout_ns = 0;
  EXPECT_FALSE(op.in_flight());
  // Posted, not yet delivered: in flight, so a second post and a cancel are refused.
  ASSERT_EQ(loop.post(op, 7, noop_cb), 0);
  EXPECT_EQ(loop.post(op, 8, noop_cb), -EBUSY);
  EXPECT_EQ(loop.cancel(op), -EALREADY);
  Loop other;
  EXPECT_EQ(loop.post_to(other, op, 8, noop_cb), -EBUSY);
  ASSERT_TRUE(run_until(loop, [&] { return !op.in_flight(); }));
  EXPECT_EQ(op.post_value(), 7u);
  // A loop never initialised takes no post, nor sends one.
  EXPECT_EQ(other.post(op, 1, noop_cb), -EINVAL);
  EXPECT_EQ(other.post_to(loop, op, 1, noop_cb), -EINVAL);
  EXPECT_EQ(loop.post_to(other, op, 1, noop_cb), -EINVAL);
  EXPECT_FALSE(op.in_flight());
  // post_to is the source loop's own call; post is anyone's.
  int from_other = 1;
  std::thread([&] { from_other = loop.post_to(loop, op, 1, noop_cb); }).join();
  EXPECT_EQ(from_other, -EPERM);
  EXPECT_FALSE(op.in_flight());
  // A misaligned operation: refused, not written.
  alignas(16) unsigned char storage[sizeof(Operation) + 16] = {};
  unsigned char before[sizeof(storage)];
  memcpy(before, storage, sizeof(storage));
  Operation& misaligned = misaligned_operation(storage);
  EXPECT_EQ(loop.post(misaligned, 1, noop_cb), -EINVAL);
  EXPECT_EQ(loop.post_to(loop, misaligned, 1, noop_cb), -EINVAL);
  EXPECT_EQ(memcmp(before, storage, sizeof(storage)), 0);
}

// Accepted and not yet delivered at deinit: called back there, with
// -ECANCELED and the value; the loop refuses every call from those callbacks.
TEST_P(PostTest, PostsPendingAtDeinitAreCalledBackWithEcanceled) {
  constexpr int kCount = 50;
  Posts posts(kCount);
  std::thread poster([&] {
    for (int i = 0; i < kCount; ++i) {
      EXPECT_EQ(loop.post(posts.ops[size_t(i)], uint64_t(i) + 100, Posts::callback, &posts), 0);
    }
  });
  poster.join();
  struct Probe {
    Operation op;
    Operation other;
    int post_rc = 1;
    int nop_rc = 1;
    bool initialized = true;
  } probe;
  auto probe_cb = [](Loop& l, Operation& op, const Completion& c) {
    auto* p = static_cast<Probe*>(op.user_data);
    EXPECT_EQ(c.result, -ECANCELED);
    p->post_rc = l.post(p->other, 1, noop_cb);
    p->nop_rc = l.nop(p->other, noop_cb);
    p->initialized = l.initialized();
  };
  ASSERT_EQ(loop.post(probe.op, 5, probe_cb, &probe), 0);
  EXPECT_EQ(posts.delivered, 0);
  ASSERT_EQ(loop.deinit(), 0);
  EXPECT_EQ(posts.delivered, kCount);
  for (int i = 0; i < kCount; ++i) {
    const Seen& s = posts.seen[size_t(i)];
    EXPECT_EQ(s.calls, 1);
    EXPECT_EQ(s.result, -ECANCELED);
    EXPECT_EQ(s.value, uint64_t(i) + 100);
    EXPECT_FALSE(posts.ops[size_t(i)].in_flight());
  }
  EXPECT_EQ(probe.post_rc, -ESHUTDOWN);
  EXPECT_EQ(probe.nop_rc, -EINVAL);
  EXPECT_FALSE(probe.initialized);
  EXPECT_FALSE(probe.other.in_flight());
  // Closed: refused as a loop that was never initialised.
  EXPECT_EQ(loop.post(probe.other, 1, noop_cb), -EINVAL);
}

// deinit() asked for from a callback closes the gate at once: posts made
// after it, even before run() returns, are refused.
TEST_P(PostTest, DeinitFromACallbackRefusesLaterPostsAtOnce) {
  struct Ctx {
    Operation first;
    Operation late;
    int late_rc = 1;
  } ctx;
  auto cb = [](Loop& l, Operation& op, const Completion& c) {
    auto* self = static_cast<Ctx*>(op.user_data);
    EXPECT_EQ(c.result, 0);
    EXPECT_EQ(l.deinit(), 0);
    self->late_rc = l.post(self->late, 2, noop_cb);
  };
  ASSERT_EQ(loop.post(ctx.first, 1, cb, &ctx), 0);
  while (loop.initialized() && loop.run(RunMode::once) >= 0) {
  }
  EXPECT_FALSE(loop.initialized());
  EXPECT_EQ(ctx.late_rc, -ESHUTDOWN);
  EXPECT_FALSE(ctx.late.in_flight());
}

// A poster races a deinit on the loop's thread: every post it made is
// either refused (nothing happens) or called back exactly once, by run()
// or at deinit; never lost, never twice.
TEST_P(PostTest, PostsRacingADeinitAreRefusedOrCalledBackOnce) {
  constexpr int kMax = 100'000;
  Posts posts(kMax);
  std::vector<int> rcs(kMax, 1);
  std::atomic<int> made{0};
  std::thread poster([&] {
    for (int i = 0; i < kMax; ++i) {
      // At most 256 ahead of the loop: it is still posting when the deinit comes.
      while (i - posts.delivered_seen.load(std::memory_order_relaxed) > 256) std::this_thread::yield();
      rcs[size_t(i)] = loop.post(posts.ops[size_t(i)], uint64_t(i), Posts::callback, &posts);
      made.store(i + 1, std::memory_order_release);
      if (rcs[size_t(i)] != 0) break;  // refused: the loop is closing or closed
    }
  });
  // Let some arrive, then close while the poster keeps going.
  ASSERT_TRUE(run_until(loop, [&] { return posts.delivered >= 2000; }));
  ASSERT_EQ(loop.deinit(), 0);
  poster.join();
  int accepted = 0, refused = 0, cancelled = 0;
  for (int i = 0; i < made.load(); ++i) {
    const Seen& s = posts.seen[size_t(i)];
    if (rcs[size_t(i)] == 0) {
      ++accepted;
      ASSERT_EQ(s.calls, 1) << "post " << i;
      EXPECT_EQ(s.value, uint64_t(i));
      EXPECT_TRUE(s.result == 0 || s.result == -ECANCELED) << s.result;
      if (s.result == -ECANCELED) ++cancelled;
    } else {
      ++refused;
      EXPECT_TRUE(rcs[size_t(i)] == -ESHUTDOWN || rcs[size_t(i)] == -EINVAL) << rcs[size_t(i)];
      EXPECT_EQ(s.calls, 0);
      EXPECT_FALSE(posts.ops[size_t(i)].in_flight());
    }
  }
  EXPECT_EQ(accepted, posts.delivered);
  EXPECT_LE(refused, 1);
  if (made.load() < kMax) {
    EXPECT_EQ(refused, 1);
  }
  RecordProperty("cancelled_at_deinit", cancelled);
}

// wake() goes through the post gate too: a thread that wakes without pause
// while the loop's thread deinits and inits again (three times) gets 0 while
// the loop is open and -ESHUTDOWN or -EINVAL around the deinit, never a
// wake on a freed core (ASan and TSan run this test).
TEST_P(PostTest, WakesRacingADeinitAreTakenOrRefused) {
  std::atomic<bool> done{false};
  std::atomic<int> taken{0}, refused{0}, other{0};
  std::thread waker([&] {
    while (!done.load(std::memory_order_acquire)) {
      int rc = loop.wake();
      if (rc == 0) {
        taken.fetch_add(1, std::memory_order_relaxed);
      } else if (rc == -ESHUTDOWN || rc == -EINVAL) {
        refused.fetch_add(1, std::memory_order_relaxed);
      } else {
        other.store(rc, std::memory_order_relaxed);
      }
    }
  });
  [&] {  // the rounds; a failed ASSERT returns here, and the waker still stops
    for (int round = 0; round < 3; ++round) {
      // Some wakes reach the open loop before each deinit.
      int before = taken.load(std::memory_order_relaxed);
      for (int turn = 0; turn < 10'000'000 && taken.load(std::memory_order_relaxed) < before + 100;
           ++turn) {
        loop.run(RunMode::no_wait);
      }
      ASSERT_GE(taken.load(), before + 100) << "the open loop refused its wakes";
      ASSERT_EQ(loop.deinit(), 0);
      ASSERT_EQ(loop.init(loop_options()), 0) << loop.backend_reason();
    }
  }();
  done.store(true, std::memory_order_release);
  waker.join();
  EXPECT_EQ(other.load(), 0) << "a wake failed with something else";
  EXPECT_GE(taken.load(), 300);
  RecordProperty("refused", refused.load());
}

INSTANTIATE_TEST_SUITE_P(Backends, PostTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

// ---- between loops: post_to, same backend and mixed -------------------------------

// A loop on a thread of its own: initialised there, run there until a post
// tells it to stop (the post carries the order), closed there.
class LoopThread {
 public:
  explicit LoopThread(TestBackend backend) : backend_(backend) {}
  ~LoopThread() { finish(); }
  /// Starts the thread; returns the loop's init result.
  int start() {
    std::atomic<int> rc{1};
    thread_ = std::thread([this, &rc] {
      int result = loop.init(options_for(backend_));
      rc.store(result);
      if (result < 0) return;
      while (!stop_) {
        if (loop.run(RunMode::once) < 0) break;
      }
      loop.deinit();
    });
    while (rc.load() == 1) std::this_thread::yield();
    int result = rc.load();
    if (result < 0) thread_.join();
    return result;
  }
  /// Runs `work(loop)` on the loop's thread (by a post) and waits for it.
  template <class Work>
  void on_thread(Work work) {
    struct Call {
      Operation op;
      Work* work;
      std::atomic<bool> done{false};
    } call;
    call.work = &work;
    auto cb = [](Loop& l, Operation& op, const Completion& c) {
      auto* self = static_cast<Call*>(op.user_data);
      EXPECT_EQ(c.result, 0);
      (*self->work)(l);
      self->done.store(true);
    };
    ASSERT_EQ(loop.post(call.op, 0, cb, &call), 0);
    while (!call.done.load()) std::this_thread::yield();
  }
  /// Stops the loop's thread, which closes the loop, and joins it.
  void finish() {
    if (!thread_.joinable()) return;
    auto stop = [](Loop&, Operation& op, const Completion&) {
      static_cast<LoopThread*>(op.user_data)->stop_ = true;
    };
    EXPECT_EQ(loop.post(stop_op_, 0, stop, this), 0);
    thread_.join();
  }
  Loop loop;

 private:
  TestBackend backend_;
  bool stop_ = false;  // the loop's thread's alone
  Operation stop_op_;
  std::thread thread_;
};

using PairParam = std::tuple<TestBackend, TestBackend>;

class PostToTest : public testing::TestWithParam<PairParam> {
 protected:
  void SetUp() override {
    unsetenv("RINGSOCK_BACKEND");
    a_ = std::make_unique<LoopThread>(std::get<0>(GetParam()));
    b_ = std::make_unique<LoopThread>(std::get<1>(GetParam()));
    int rc_a = a_->start();
    int rc_b = b_->start();
    bool uring = std::get<0>(GetParam()) == TestBackend::uring ||
                 std::get<1>(GetParam()) == TestBackend::uring;
    if ((rc_a < 0 || rc_b < 0) && uring) GTEST_SKIP() << "io_uring unavailable";
    ASSERT_EQ(rc_a, 0);
    ASSERT_EQ(rc_b, 0);
  }
  void TearDown() override {
    if (a_) a_->finish();
    if (b_) b_->finish();
  }
  // Both loops on io_uring with MSG_RING: post_to goes by the kernel.
  bool by_ring() const {
    return a_->loop.capabilities().msg_ring && b_->loop.capabilities().msg_ring;
  }
  std::unique_ptr<LoopThread> a_, b_;
};

// Tokens bounce between the two loops by post_to, each hop on the other
// loop's thread, each carrying the hop count: none lost, none doubled.
struct Bounce {
  static constexpr int kTokens = 32;
  static constexpr int kHops = 400;
  Loop* loops[2] = {};
  std::thread::id threads[2];
  Operation ops[kTokens];
  std::atomic<int> finished{0};
  std::atomic<int> errors{0};
  int hops[kTokens] = {};

  static void callback(Loop& loop, Operation& op, const Completion& c) {
    auto* self = static_cast<Bounce*>(op.user_data);
    size_t token = size_t(&op - self->ops);
    uint64_t hop = op.post_value();
    int side = int(hop & 1);  // even hops land on loop 1, odd on loop 0
    side = 1 - side;
    if (c.result != 0 || &loop != self->loops[side] ||
        std::this_thread::get_id() != self->threads[side] || hop != uint64_t(self->hops[token])) {
      ++self->errors;
    }
    ++self->hops[token];
    if (hop + 1 == kHops) {
      self->finished.fetch_add(1);
      return;
    }
    int rc = loop.post_to(*self->loops[1 - side], op, hop + 1, callback, self);
    if (rc != 0) ++self->errors;
  }
};

TEST_P(PostToTest, TokensBounceBetweenTwoLoopsOnceEachHop) {
  Bounce bounce;
  bounce.loops[0] = &a_->loop;
  bounce.loops[1] = &b_->loop;
  a_->on_thread([&](Loop&) { bounce.threads[0] = std::this_thread::get_id(); });
  b_->on_thread([&](Loop&) { bounce.threads[1] = std::this_thread::get_id(); });
  uint64_t ring_posts_before = 0;
  a_->on_thread([&](Loop& l) {
    ring_posts_before = l.stats().ring_posts;
    for (Operation& op : bounce.ops) {
      EXPECT_EQ(l.post_to(*bounce.loops[1], op, 0, Bounce::callback, &bounce), 0);
    }
  });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (bounce.finished.load() < Bounce::kTokens && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(bounce.finished.load(), Bounce::kTokens);
  EXPECT_EQ(bounce.errors.load(), 0);
  for (int hops : bounce.hops) EXPECT_EQ(hops, Bounce::kHops);
  uint64_t ring_posts = 0;
  a_->on_thread([&](Loop& l) { ring_posts = l.stats().ring_posts - ring_posts_before; });
  if (by_ring()) {
    EXPECT_GT(ring_posts, 0u) << "both loops on io_uring with MSG_RING: post_to went by the box";
  } else {
    EXPECT_EQ(ring_posts, 0u);
  }
}

// A target that closes: post_to refuses once its deinit has begun, and what
// it accepted before is called back once (by run, or at deinit).
TEST_P(PostToTest, PostsToAClosingLoopAreRefusedOrCalledBackOnce) {
  constexpr int kMax = 20000;
  // Loop a posts to loop b from its own thread, one post per turn, until refused.
  struct Sender {
    Operation tick;
    Posts posts{kMax};
    std::vector<int> rcs = std::vector<int>(kMax, 1);
    std::atomic<int> made{0};
    std::atomic<bool> refused{false};
    Loop* target = nullptr;
    static void on_tick(Loop& loop, Operation& op, const Completion&) {
      auto* self = static_cast<Sender*>(op.user_data);
      int i = self->made.load();
      int rc = loop.post_to(*self->target, self->posts.ops[size_t(i)], uint64_t(i),
                            Posts::callback, &self->posts);
      self->rcs[size_t(i)] = rc;
      self->made.store(i + 1);
      if (rc != 0) {
        self->refused.store(true);
      } else if (i + 1 < kMax) {
        EXPECT_EQ(loop.nop(op, on_tick, self), 0);
      }
    }
  };
  auto sender = std::make_unique<Sender>();
  sender->target = &b_->loop;
  a_->on_thread([&](Loop& l) { ASSERT_EQ(l.nop(sender->tick, Sender::on_tick, sender.get()), 0); });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (sender->made.load() < 1000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  b_->finish();  // deinit on b's thread while a keeps posting
  while (!sender->refused.load() && sender->made.load() < kMax &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  a_->on_thread([](Loop&) {});  // a's last tick has run
  int n = sender->made.load();
  ASSERT_GT(n, 0);
  int accepted = 0;
  for (int i = 0; i < n; ++i) {
    const Seen& s = sender->posts.seen[size_t(i)];
    int rc = sender->rcs[size_t(i)];
    if (rc == 0) {
      ++accepted;
      ASSERT_EQ(s.calls, 1) << "post " << i;
      EXPECT_EQ(s.value, uint64_t(i));
      EXPECT_TRUE(s.result == 0 || s.result == -ECANCELED) << s.result;
    } else {
      EXPECT_EQ(i, n - 1) << "only the last post is refused";
      EXPECT_TRUE(rc == -ESHUTDOWN || rc == -EINVAL) << rc;
      EXPECT_EQ(s.calls, 0);
    }
  }
  EXPECT_EQ(accepted, sender->posts.delivered);
  if (n < kMax) {
    EXPECT_TRUE(sender->refused.load());
  }
}

std::string pair_name(const testing::TestParamInfo<PairParam>& info) {
  return std::string(backend_name(std::get<0>(info.param))) + "_to_" +
         backend_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Pairs, PostToTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(all_backends())),
                         pair_name);

}  // namespace
}  // namespace rstest
