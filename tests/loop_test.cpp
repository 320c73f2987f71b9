// The loop itself: init limits, bad input refused without side effects,
// run modes, stop, re-entrancy, cross-thread wake, capability report.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <thread>

#include "support.hpp"

namespace rstest {
namespace {

// An operation's size is part of the C ABI (RSK_OP_SIZE holds it) and its
// alignment carries user_data's tag bits: both pinned.
#if UINTPTR_MAX == UINT64_MAX
static_assert(sizeof(Operation) == 176, "Operation grew: check RSK_OP_SIZE and the C ABI");
#endif
static_assert(alignof(Operation) == 16);

class LoopTest : public BackendTest {};

TEST_P(LoopTest, InitRefusesBadOptionsAndHoldsNothing) {
  Loop other;
  LoopOptions bad[7];
  bad[6].busy_poll_us = 1'000'001;  // bounded: at most a second
  bad[5].ring_entries = 1;  // a deadline needs two SQEs in a row
  bad[0].ring_entries = 0;
  bad[1].buffer_count = 3;  // not a power of two
  bad[2].buffer_size = 10;
  bad[3].ring_entries = 64;
  bad[3].completion_entries = 32;  // smaller than the SQ
  bad[4].buffer_count = 65536;
  int fds_before = count_open_fds();
  for (const LoopOptions& o : bad) {
    EXPECT_EQ(other.init(options_for(GetParam(), o)), -EINVAL);
    EXPECT_FALSE(other.initialized());
  }
  EXPECT_EQ(count_open_fds(), fds_before);
  EXPECT_EQ(loop.init(), -EALREADY);
}

TEST_P(LoopTest, DeinitTwiceAndInitAgain) {
  loop.deinit();
  loop.deinit();
  EXPECT_FALSE(loop.initialized());
  EXPECT_EQ(loop.init(loop_options()), 0);
}

TEST_P(LoopTest, UninitialisedLoopRefusesEverything) {
  Loop idle;
  Operation op;
  EXPECT_EQ(idle.nop(op, noop_cb), -EINVAL);
  EXPECT_EQ(idle.run(RunMode::no_wait), -EINVAL);
  EXPECT_EQ(idle.wake(), -EINVAL);
  EXPECT_EQ(idle.cancel(op), -EINVAL);
  EXPECT_EQ(idle.backend(), BackendKind::none);
}

TEST_P(LoopTest, BadArgumentsAreRefusedAndChangeNothing) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  uint8_t buffer[16];
  Endpoint empty;
  Operation op;
  op.user_data = &sv;
  Operation pristine = op;
  EXPECT_EQ(loop.recv(op, sv[0], buffer, sizeof(buffer), nullptr), -EINVAL);
  EXPECT_EQ(loop.recv(op, -1, buffer, sizeof(buffer), noop_cb), -EBADF);
  EXPECT_EQ(loop.recv(op, INT_MAX, buffer, sizeof(buffer), noop_cb), -EBADF);
  EXPECT_EQ(loop.recv(op, sv[0], nullptr, 8, noop_cb), -EINVAL);
  EXPECT_EQ(loop.send(op, sv[0], buffer, size_t(INT_MAX) + 1, noop_cb), -EINVAL);
  EXPECT_EQ(loop.shutdown(op, sv[0], 7, noop_cb), -EINVAL);
  EXPECT_EQ(loop.connect(op, sv[0], empty, noop_cb), -EINVAL);
  EXPECT_EQ(loop.sendto(op, sv[0], buffer, 1, &empty, noop_cb), -EINVAL);
  EXPECT_EQ(memcmp(&op, &pristine, sizeof(op)), 0) << "a refused call changed the operation";
  EXPECT_EQ(loop.active(), 0u);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_P(LoopTest, DeinitFromACallbackTakesEffectWhenRunReturns) {
  Operation op;
  auto cb = [](Loop& l, Operation&, const Completion&) { l.deinit(); };
  ASSERT_EQ(loop.nop(op, cb), 0);
  loop.run(RunMode::until_done);
  EXPECT_FALSE(loop.initialized());
  EXPECT_EQ(loop.init(loop_options()), 0);
}

TEST_P(LoopTest, StopBeforeRunEndsTheNextRunAfterOneTurn) {
  struct Chain {
    Operation op;
    int left = 100;
  } chain;
  auto cb = [](Loop& l, Operation& op, const Completion&) {
    auto* self = static_cast<Chain*>(op.user_data);
    if (--self->left > 0) {
      EXPECT_EQ(l.nop(op, op.callback, self), 0);
    }
  };
  ASSERT_EQ(loop.nop(chain.op, cb, &chain), 0);
  loop.stop();
  EXPECT_EQ(loop.run(RunMode::until_done), 1);
  EXPECT_EQ(chain.left, 99);
  EXPECT_EQ(loop.run(RunMode::until_done), 99);  // the stop was used up
}

TEST_P(LoopTest, DeadlineOnACloseIsRefused) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Operation op;
  op.timeout_ns = 1'000'000;
  EXPECT_EQ(loop.close(op, sv[0], noop_cb), -EINVAL);
  ::close(sv[0]);
  ::close(sv[1]);
}

// A submit refused after the engine filled the operation in (here: epoll's
// one deadline slot is taken) leaves what the caller can read as it was.
TEST(EpollLoopTest, ARefusedSubmitLeavesTheOperationAsItWas) {
  Loop small;
  LoopOptions o = options_for(TestBackend::epoll);  // only epoll has a deadline heap
  o.max_timers = 1;
  std::string why;
  ASSERT_EQ(init_for_test(small, o, why), 0) << why;  // epoll whatever RINGSOCK_BACKEND says
  Recorder first;
  ASSERT_EQ(small.timeout(first.op, 60'000'000'000ull, Recorder::callback, &first), 0);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  uint8_t buffer[8];
  Operation op;
  op.timeout_ns = 1'000'000'000;
  op.user_data = &sv;
  Operation pristine = op;
  EXPECT_EQ(small.recv(op, sv[0], buffer, sizeof(buffer), noop_cb, buffer), -EAGAIN);
  EXPECT_EQ(op.kind, pristine.kind);
  EXPECT_EQ(op.fd, pristine.fd);
  EXPECT_EQ(op.user_data, pristine.user_data);
  EXPECT_EQ(op.callback, pristine.callback);
  EXPECT_FALSE(op.in_flight());
  ASSERT_EQ(small.cancel(first.op), 0);
  ASSERT_TRUE(run_until(small, [&] { return first.terminal; }));
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_P(LoopTest, ResubmittingAnInFlightOperationIsEbusy) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  uint8_t buffer[16];
  Recorder r;
  ASSERT_EQ(loop.recv(r.op, sv[0], buffer, sizeof(buffer), Recorder::callback, &r), 0);
  Operation copy = r.op;
  EXPECT_EQ(loop.recv(r.op, sv[1], buffer, 8, Recorder::callback, &r), -EBUSY);
  EXPECT_EQ(memcmp(&copy, &r.op, sizeof(copy)), 0);
  EXPECT_EQ(loop.cancel(r.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return r.terminal; }));
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_P(LoopTest, RunModesOnAnIdleLoopReturnAtOnce) {
  EXPECT_EQ(loop.run(RunMode::no_wait), 0);
  EXPECT_EQ(loop.run(RunMode::until_done), 0);
}

TEST_P(LoopTest, UntilDoneRunsAChainToItsEnd) {
  struct Chain {
    Operation op;
    int left = 1000;
  } chain;
  auto cb = [](Loop& l, Operation& op, const Completion& c) {
    EXPECT_EQ(c.result, 0);
    auto* self = static_cast<Chain*>(op.user_data);
    if (--self->left > 0) {
      EXPECT_EQ(l.nop(op, op.callback, self), 0);
    }
  };
  ASSERT_EQ(loop.nop(chain.op, cb, &chain), 0);
  EXPECT_EQ(loop.run(RunMode::until_done), 1000);
  EXPECT_EQ(chain.left, 0);
  EXPECT_EQ(loop.active(), 0u);
}

TEST_P(LoopTest, StopFromACallbackEndsUntilDone) {
  struct Forever {
    Operation op;
    int calls = 0;
  } f;
  auto cb = [](Loop& l, Operation& op, const Completion&) {
    auto* self = static_cast<Forever*>(op.user_data);
    if (++self->calls == 100) l.stop();
    EXPECT_EQ(l.nop(op, op.callback, self), 0);
  };
  ASSERT_EQ(loop.nop(f.op, cb, &f), 0);
  EXPECT_EQ(loop.run(RunMode::until_done), 100);
  EXPECT_EQ(loop.active(), 1u);
  EXPECT_EQ(loop.run(RunMode::once), 1);  // a stopped loop runs again
}

TEST_P(LoopTest, RunFromInsideACallbackIsEbusy) {
  int nested = 1;
  Operation op;
  auto cb = [](Loop& l, Operation& o, const Completion&) {
    *static_cast<int*>(o.user_data) = l.run(RunMode::no_wait);
  };
  ASSERT_EQ(loop.nop(op, cb, &nested), 0);
  loop.run(RunMode::until_done);
  EXPECT_EQ(nested, -EBUSY);
}

TEST_P(LoopTest, WakeFromAnotherThreadEndsAWait) {
  Recorder guard;  // a long timer keeps run(once) waiting until the wake
  ASSERT_EQ(loop.timeout(guard.op, 60'000'000'000ull, Recorder::callback, &guard), 0);
  loop.run(RunMode::no_wait);
  std::thread waker([this] {
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(loop.wake(), 0);
  });
  int rc = loop.run(RunMode::once);
  waker.join();
  EXPECT_EQ(rc, 0);
  EXPECT_FALSE(guard.terminal) << "run returned because the timer fired, not the wake";
  // Wakes before a wait are not lost either: the next wait returns at once.
  EXPECT_EQ(loop.wake(), 0);
  EXPECT_EQ(loop.run(RunMode::once), 0);
  EXPECT_FALSE(guard.terminal);
  ASSERT_EQ(loop.cancel(guard.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return guard.terminal; }));
}

TEST_P(LoopTest, ReportsItsBackendAndCapabilities) {
  BackendKind expected = GetParam() == TestBackend::uring ? BackendKind::uring : BackendKind::epoll;
  EXPECT_EQ(loop.backend(), expected) << loop.backend_reason();
  EXPECT_EQ(loop.capabilities().backend, expected);
  EXPECT_NE(std::string(loop.backend_reason()), "");
  char line[512];
  int n = format_capabilities(loop.capabilities(), line, sizeof(line));
  EXPECT_GT(n, 0);
  EXPECT_EQ(int(strlen(line)), n);
  if (loop.backend() == BackendKind::uring) {
    EXPECT_EQ(strncmp(line, "io_uring", 8), 0) << line;
    EXPECT_GT(loop.capabilities().sq_entries, 0u);
    EXPECT_STREQ(loop.backend_reason(), "io_uring (forced by LoopOptions::backend)");
  } else {
    EXPECT_EQ(strncmp(line, "epoll", 5), 0) << line;
    EXPECT_STREQ(loop.backend_reason(), "epoll: forced by LoopOptions::backend");
  }
  char tiny[4];
  EXPECT_EQ(format_capabilities(loop.capabilities(), tiny, sizeof(tiny)), 3);
}

TEST_P(LoopTest, AcceptedFdBeyondTheFdTableIsClosedAndReported) {
  Loop small;
  LoopOptions o = loop_options();
  o.max_fds = 64;
  ASSERT_EQ(small.init(o), 0);
  Endpoint any;
  ASSERT_EQ(parse_endpoint("tcp://127.0.0.1:0", any).error, 0);
  int listener = listen_on(any);
  ASSERT_GE(listener, 0);
  ASSERT_LT(listener, 64);
  Endpoint bound = bound_endpoint(listener, any);
  // Take every number below 64 so the accepted fd lands above the table.
  std::vector<int> fillers;
  for (int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC); fd >= 0 && fd < 64;
       fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
    fillers.push_back(fd);
  }
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(client, bound.address(), bound.length), 0);
  Recorder accepted;
  ASSERT_EQ(small.accept(accepted.op, listener, nullptr, Recorder::callback, &accepted), 0);
  int fds_before = count_open_fds();
  ASSERT_TRUE(run_until(small, [&] { return accepted.terminal; }));
  EXPECT_EQ(accepted.result(), -EMFILE);
  EXPECT_EQ(count_open_fds(), fds_before) << "the refused fd leaked";
  for (int fd : fillers) ::close(fd);
  ::close(client);
  ::close(listener);
}

INSTANTIATE_TEST_SUITE_P(Backends, LoopTest, testing::ValuesIn(all_backends()), backend_param_name);

}  // namespace
}  // namespace rstest
