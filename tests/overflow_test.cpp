// A tiny submission and completion queue: a full SQ is flushed, an
// overflowing CQ loses nothing, and multishot receives keep going.
#include <sys/socket.h>
#include <unistd.h>

#include "support.hpp"

namespace rstest {
namespace {

class TinyQueueTest : public BackendTest {
 protected:
  LoopOptions loop_options() const override {
    LoopOptions o;
    o.ring_entries = 4;
    o.completion_entries = 8;
    o.buffer_count = 1024;
    o.buffer_size = 256;
    return options_for(GetParam(), o);
  }
};

TEST_P(TinyQueueTest, FloodOfOperationsLosesNoCompletion) {
  constexpr int kOps = 500;
  std::vector<Operation> ops(kOps);
  auto record = [](Loop&, Operation& op, const Completion& c) {
    EXPECT_EQ(c.result, 0);
    auto& seen = *static_cast<std::vector<Operation*>*>(op.user_data);
    seen.push_back(&op);
  };
  std::vector<Operation*> seen;
  // Far more than the SQ holds: every few submits flush; nothing is reaped
  // until run(), so the 8-entry CQ overflows many times over.
  for (Operation& op : ops) ASSERT_EQ(loop.nop(op, record, &seen), 0);
  if (loop.backend() == BackendKind::uring) {
    EXPECT_GT(loop.stats().sq_full_flushes, 0u);
  }
  ASSERT_TRUE(run_until(loop, [&] { return seen.size() == size_t(kOps); }));
  ASSERT_EQ(seen.size(), size_t(kOps));
  // NOPs complete in the order they went in: flushing, overflow and the
  // completion path keep it.
  for (int i = 0; i < kOps; ++i) {
    ASSERT_EQ(seen[i], &ops[i]) << "completion " << i << " out of order";
  }
  EXPECT_EQ(loop.active(), 0u);
  if (loop.backend() == BackendKind::uring) {
    EXPECT_GT(loop.stats().cq_overflow_flushes, 0u) << "the CQ never overflowed: the test proved nothing";
  }
}

TEST_P(TinyQueueTest, MultishotReceiveSurvivesOverflow) {
  if (loop.backend() == BackendKind::uring && !loop.capabilities().multishot_recv) {
    GTEST_SKIP() << "kernel lacks multishot recvmsg";
  }
  // UDP, because a UNIX datagram queue holds only max_dgram_qlen messages.
  Endpoint any;
  ASSERT_EQ(parse_endpoint("udp://127.0.0.1:0", any).error, 0);
  int sv[2];
  sv[0] = bind_datagram(any);
  ASSERT_GE(sv[0], 0);
  ASSERT_EQ(set_buffer_sizes(sv[0], 0, 4 << 20), 0);
  sv[1] = connect_datagram(bound_endpoint(sv[0], any));
  ASSERT_GE(sv[1], 0);
  constexpr int kDatagrams = 300;
  Recorder r;
  ASSERT_EQ(loop.recvfrom_multishot(r.op, sv[0], Recorder::callback, &r), 0);
  loop.run(RunMode::no_wait);
  for (int i = 0; i < kDatagrams; ++i) {
    uint16_t seq = uint16_t(i);
    ASSERT_EQ(::send(sv[1], &seq, sizeof(seq), 0), 2);
  }
  ASSERT_TRUE(run_until(loop, [&] { return r.payloads.size() >= size_t(kDatagrams) || r.terminal; }));
  ASSERT_FALSE(r.terminal) << r.result();
  for (int i = 0; i < kDatagrams; ++i) {
    uint16_t seq = uint16_t(r.payloads[i][0] | r.payloads[i][1] << 8);
    ASSERT_EQ(seq, i) << "lost or reordered";
  }
  if (loop.backend() == BackendKind::uring) {
    EXPECT_GT(loop.stats().cq_overflow_flushes, 0u) << "the CQ never overflowed: the test proved nothing";
  }
  ASSERT_EQ(loop.cancel(r.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return r.terminal; }));
  EXPECT_EQ(r.terminal_count, 1);
  ::close(sv[0]);
  ::close(sv[1]);
}

// Callbacks that submit while the loop is still reading a batch of
// completions: each NOP's callback starts the next one of its chain, so the
// SQ fills from inside callbacks and is flushed mid-batch (the kernel posts
// new completions while earlier ones are still being read). Every NOP
// completes once, in the order it was submitted.
struct NopChains {
  struct Link {
    Operation op;
    NopChains* all = nullptr;
    uint64_t sequence = 0;  // the submission number of its NOP in flight
  };
  uint64_t submitted = 0;
  uint64_t last_completed = 0;
  uint64_t total = 0;
  int completed = 0;
  int out_of_order = 0;
  int failed = 0;

  int start(Loop& loop, Link& link) {
    link.all = this;
    link.sequence = ++submitted;
    return loop.nop(link.op, on_nop, &link);
  }
  static void on_nop(Loop& loop, Operation& op, const Completion& c) {
    auto& link = *static_cast<Link*>(op.user_data);
    NopChains& all = *link.all;
    if (c.result != 0) ++all.failed;
    if (link.sequence <= all.last_completed) ++all.out_of_order;
    all.last_completed = link.sequence;
    ++all.completed;
    if (all.submitted < all.total && all.start(loop, link) != 0) ++all.failed;
  }
};

TEST_P(TinyQueueTest, CallbacksThatSubmitMidBatchKeepOrder) {
  NopChains chains;
  chains.total = 3000;
  std::vector<NopChains::Link> links(64);
  for (NopChains::Link& link : links) ASSERT_EQ(chains.start(loop, link), 0);
  ASSERT_TRUE(run_until(loop, [&] { return chains.completed == int(chains.total); }));
  EXPECT_EQ(chains.completed, int(chains.total));
  EXPECT_EQ(chains.failed, 0);
  EXPECT_EQ(chains.out_of_order, 0);
  EXPECT_EQ(loop.active(), 0u);
  if (loop.backend() == BackendKind::uring) {
    EXPECT_GT(loop.stats().sq_full_flushes, 0u) << "the SQ never filled: the test proved nothing";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, TinyQueueTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
