// A full submission queue meets close, cancel and restart, and deinit meets
// closes in every stage: no cancel is lost, no operation already in flight
// ends for want of room, and no fd a close was asked for stays open.
//
// On a current kernel a flush always empties the SQ; an older one pushes
// back (-EBUSY until its CQ is read), and then the SQ stays full. To meet
// that edge deterministically, the io_uring cases run in a child process
// under a seccomp filter that answers EBUSY to every io_uring_enter(2)
// without IORING_ENTER_GETEVENTS: the engine's flushes of a full SQ (plain
// submits) are refused as such a kernel refuses them, while the loop's turns
// (submit and reap) go through. epoll has no SQ: the same steps run here in
// the test process and must give the same results.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <deque>

#include "support.hpp"

namespace rstest {
namespace {

constexpr int kChildSkips = 77;
constexpr uint32_t kEnterGetEvents = 1u << 0;  // IORING_ENTER_GETEVENTS

// EBUSY for io_uring_enter(2) without GETEVENTS (flags: its fourth argument).
bool refuse_plain_submits() {
#ifdef __NR_io_uring_enter
  constexpr uint32_t kFlagsLow = offsetof(seccomp_data, args) + 3 * sizeof(uint64_t) +
                                 (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0);
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kFlagsLow),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kEnterGetEvents, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EBUSY & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
#else
  return false;
#endif
}

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

class SqFullTest : public testing::TestWithParam<TestBackend> {
 protected:
  void SetUp() override {
    Loop probe;
    std::string why;
    int rc = init_for_test(probe, options(), why);
    if (rc < 0 && GetParam() == TestBackend::uring) GTEST_SKIP() << "io_uring unavailable: " << why;
    ASSERT_EQ(rc, 0) << why;
  }
  // A two-entry SQ, and a CQ that never overflows here.
  LoopOptions options() const {
    LoopOptions o = base_;
    o.ring_entries = 2;
    o.completion_entries = 64;
    return options_for(GetParam(), o);
  }
  LoopOptions base_;  // what a test sets before with_pushback
  bool uring() const { return GetParam() == TestBackend::uring; }

  // Runs body with a fresh loop: on io_uring in a child under the filter
  // (its failures are printed there and fail the test here), on epoll here.
  void with_pushback(const std::function<void(Loop&)>& body) {
    auto run_body = [&] {
      Loop loop;
      std::string why;
      ASSERT_EQ(init_for_test(loop, options(), why), 0) << why;
      loop.run(RunMode::no_wait);  // the wake reader is armed: the SQ is ours
      body(loop);
    };
    if (!uring()) return run_body();
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      alarm(30);  // a hang ends the child, never leaves it behind
      if (!refuse_plain_submits()) _exit(kChildSkips);
      run_body();
      fflush(stdout);
      _exit(testing::Test::HasFailure() ? 1 : 0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
    if (WEXITSTATUS(status) == kChildSkips) GTEST_SKIP() << "no seccomp filter here";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "failed in the child: see above";
  }
};

// Submits nops until the loop refuses one for want of SQ room (io_uring under
// the filter: the SQ stays full). epoll refuses none. Returns whether one was.
bool fill_sq(Loop& loop, std::deque<Recorder>& fillers) {
  for (int i = 0; i < 8; ++i) {
    Recorder& filler = fillers.emplace_back();
    int rc = loop.nop(filler.op, Recorder::callback, &filler);
    if (rc == -EAGAIN) {
      fillers.pop_back();
      return true;
    }
    EXPECT_EQ(rc, 0);
  }
  return false;
}

// The close's cancel of the recv finds no room: it must wait its turn, not
// vanish (the recv would never end, nor the close).
TEST_P(SqFullTest, ACloseWhoseCancelFindsTheSqFullStillCloses) {
  with_pushback([&](Loop& loop) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    uint8_t buffer[16];
    Recorder recv, closing;
    std::deque<Recorder> fillers;
    ASSERT_EQ(loop.recv(recv.op, sv[0], buffer, sizeof(buffer), Recorder::callback, &recv), 0);
    loop.run(RunMode::no_wait);  // the recv is in the kernel
    bool full = fill_sq(loop, fillers);
    if (uring()) {
      ASSERT_TRUE(full) << "the SQ never stayed full: the test proves nothing";
    }
    ASSERT_EQ(loop.close(closing.op, sv[0], Recorder::callback, &closing), 0);
    loop.run(RunMode::no_wait);  // room for run_until's guard timer
    ASSERT_TRUE(run_until(loop, [&] { return closing.terminal; }, 3s));
    EXPECT_EQ(recv.result(), -ECANCELED);
    EXPECT_EQ(recv.terminal_count, 1);
    EXPECT_EQ(closing.result(), 0);
    EXPECT_FALSE(fd_open(sv[0]));
    auto fillers_done = [&] {
      for (Recorder& filler : fillers) {
        if (!filler.terminal) return false;
      }
      return true;
    };
    ASSERT_TRUE(run_until(loop, fillers_done, 3s));
    for (Recorder& filler : fillers) EXPECT_EQ(filler.result(), 0);
    ::close(sv[1]);
  });
}

// A cancel that finds no room is queued, not refused.
TEST_P(SqFullTest, ACancelThatFindsTheSqFullIsQueued) {
  with_pushback([&](Loop& loop) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    uint8_t buffer[16];
    Recorder recv;
    std::deque<Recorder> fillers;
    ASSERT_EQ(loop.recv(recv.op, sv[0], buffer, sizeof(buffer), Recorder::callback, &recv), 0);
    loop.run(RunMode::no_wait);
    bool full = fill_sq(loop, fillers);
    if (uring()) {
      ASSERT_TRUE(full) << "the SQ never stayed full: the test proves nothing";
    }
    EXPECT_EQ(loop.cancel(recv.op), 0);
    EXPECT_EQ(loop.cancel(recv.op), -EALREADY);
    loop.run(RunMode::no_wait);
    ASSERT_TRUE(run_until(loop, [&] { return recv.terminal; }, 3s));
    EXPECT_EQ(recv.result(), -ECANCELED);
    EXPECT_EQ(recv.terminal_count, 1);
    ::close(sv[0]);
    ::close(sv[1]);
  });
}

// A stream send whose first part went out, and a nop before it whose
// callback fills the SQ: the send's continuation finds no room.
struct FillingNop {
  Recorder nop;
  std::deque<Recorder> fillers;
  bool full = false;
  static void callback(Loop& loop, Operation& op, const Completion& completion) {
    auto* self = static_cast<FillingNop*>(op.user_data);
    self->nop.completions.push_back(completion);
    self->full = fill_sq(loop, self->fillers);
  }
};

// Starts a nop that fills the SQ and a send of `data` that the peer's buffer
// cannot take at once; runs one turn, in which the send's continuation meets
// the full SQ. Returns false if it did not.
bool continue_into_a_full_sq(Loop& loop, int fd, const std::vector<uint8_t>& data,
                             FillingNop& nop, Recorder& send, bool uring) {
  EXPECT_EQ(loop.nop(nop.nop.op, FillingNop::callback, &nop), 0);
  EXPECT_EQ(loop.send(send.op, fd, data.data(), data.size(), Recorder::callback, &send), 0);
  while (nop.nop.completions.empty()) EXPECT_GE(loop.run(RunMode::once), 0);
  EXPECT_GT(loop.stats().send_continuations, 0u) << "the send went out whole";
  if (uring) {
    EXPECT_TRUE(nop.full) << "the SQ never stayed full: the test proves nothing";
  }
  return !testing::Test::HasFailure();
}

// A continued send that finds no room waits its turn and sends every byte,
// instead of ending with -EAGAIN halfway.
TEST_P(SqFullTest, ASendContinuedOnAFullSqWaitsItsTurn) {
  with_pushback([&](Loop& loop) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    std::vector<uint8_t> data(1 << 20, 'x');
    FillingNop nop;
    Recorder send;
    ASSERT_TRUE(continue_into_a_full_sq(loop, sv[0], data, nop, send, uring()));
    EXPECT_FALSE(send.terminal) << "ended with " << send.result();
    size_t received = 0;
    std::vector<uint8_t> sink(1 << 16);
    auto drain = [&] {
      ssize_t n;
      while ((n = ::recv(sv[1], sink.data(), sink.size(), MSG_DONTWAIT)) > 0) received += size_t(n);
    };
    loop.run(RunMode::no_wait);
    ASSERT_TRUE(run_until(loop, [&] { drain(); return send.terminal; }, 3s));
    drain();
    EXPECT_EQ(send.result(), int(data.size()));
    EXPECT_EQ(send.op.transferred, data.size());
    EXPECT_EQ(received, data.size());
    ::close(sv[0]);
    ::close(sv[1]);
  });
}

// A continuation still waiting for room never reached the kernel: a close
// ends it with -ECANCELED (op.transferred says what went out) and closes.
TEST_P(SqFullTest, ACloseEndsASendWaitingForRoom) {
  with_pushback([&](Loop& loop) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    std::vector<uint8_t> data(1 << 20, 'x');
    FillingNop nop;
    Recorder send, closing;
    ASSERT_TRUE(continue_into_a_full_sq(loop, sv[0], data, nop, send, uring()));
    ASSERT_FALSE(send.terminal) << "ended with " << send.result();
    ASSERT_EQ(loop.close(closing.op, sv[0], Recorder::callback, &closing), 0);
    loop.run(RunMode::no_wait);
    ASSERT_TRUE(run_until(loop, [&] { return closing.terminal; }, 3s));
    EXPECT_EQ(send.result(), -ECANCELED);
    EXPECT_EQ(send.terminal_count, 1);
    EXPECT_GT(send.op.transferred, 0u);
    EXPECT_LT(send.op.transferred, data.size());
    EXPECT_EQ(closing.result(), 0);
    EXPECT_FALSE(fd_open(sv[0]));
    ::close(sv[1]);
  });
}

// deinit with a close whose cancel still waits for room: the fd is closed
// (the close's callback is dropped with everything in flight).
TEST_P(SqFullTest, DeinitClosesTheFdOfACloseWhoseCancelWaits) {
  with_pushback([&](Loop& loop) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    uint8_t buffer[16];
    Recorder recv, closing;
    std::deque<Recorder> fillers;
    ASSERT_EQ(loop.recv(recv.op, sv[0], buffer, sizeof(buffer), Recorder::callback, &recv), 0);
    loop.run(RunMode::no_wait);
    bool full = fill_sq(loop, fillers);
    if (uring()) {
      ASSERT_TRUE(full) << "the SQ never stayed full: the test proves nothing";
    }
    ASSERT_EQ(loop.close(closing.op, sv[0], Recorder::callback, &closing), 0);
    ASSERT_TRUE(fd_open(sv[0]));
    EXPECT_EQ(loop.deinit(), 0);
    EXPECT_FALSE(fd_open(sv[0])) << "deinit left the closing fd open";
    EXPECT_FALSE(closing.terminal);
    EXPECT_FALSE(recv.terminal);
    EXPECT_TRUE(closing.op.in_flight());  // dropped, still marked in flight
    ::close(sv[1]);
  });
}

// deinit with a close that has closed its fd and waits only to deliver its
// result: the callback is dropped like every other, the fd stays closed.
TEST_P(SqFullTest, DeinitDropsTheResultOfACloseThatClosedItsFd) {
  with_pushback([&](Loop& loop) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    Recorder closing;
    ASSERT_EQ(loop.close(closing.op, sv[0], Recorder::callback, &closing), 0);
    EXPECT_FALSE(fd_open(sv[0]));  // closed at once: nothing was in flight on it
    EXPECT_EQ(loop.deinit(), 0);
    EXPECT_FALSE(closing.terminal);
    EXPECT_TRUE(closing.op.in_flight());
    ::close(sv[1]);
  });
}

// epoll's deadline heap, the other room a restart needs: a continued send
// with a deadline keeps its slot between its two starts, so a timer
// submitted meanwhile (here from a callback earlier in the same batch) is
// refused instead, and the send goes on rather than ending with -EAGAIN.
struct TimerFillingNop {
  Recorder nop;
  std::deque<Recorder> timers;
  static void callback(Loop& loop, Operation& op, const Completion& completion) {
    auto* self = static_cast<TimerFillingNop*>(op.user_data);
    self->nop.completions.push_back(completion);
    for (int i = 0; i < 4; ++i) {
      Recorder& timer = self->timers.emplace_back();
      if (loop.timeout(timer.op, 60'000'000'000ull, Recorder::callback, &timer) != 0) {
        self->timers.pop_back();
        return;
      }
    }
  }
};

TEST(EpollDeadlineHeapTest, ASendContinuedWithADeadlineKeepsItsSlot) {
  Loop loop;
  LoopOptions o = options_for(TestBackend::epoll);
  o.max_timers = 2;
  std::string why;
  ASSERT_EQ(init_for_test(loop, o, why), 0) << why;
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  std::vector<uint8_t> data(1 << 20, 'x');
  TimerFillingNop nop;
  Recorder send;
  send.op.timeout_ns = 60'000'000'000ull;
  ASSERT_EQ(loop.nop(nop.nop.op, TimerFillingNop::callback, &nop), 0);
  ASSERT_EQ(loop.send(send.op, sv[0], data.data(), data.size(), Recorder::callback, &send), 0);
  while (nop.nop.completions.empty()) ASSERT_GE(loop.run(RunMode::once), 0);
  ASSERT_GT(loop.stats().send_continuations, 0u) << "the send went out whole";
  EXPECT_FALSE(send.terminal) << "ended with " << send.result();
  EXPECT_EQ(nop.timers.size(), 1u);  // one slot free: the other is the send's
  for (Recorder& timer : nop.timers) EXPECT_EQ(loop.cancel(timer.op), 0);
  size_t received = 0;
  std::vector<uint8_t> sink(1 << 16);
  auto drain = [&] {
    ssize_t n;
    while ((n = ::recv(sv[1], sink.data(), sink.size(), MSG_DONTWAIT)) > 0) received += size_t(n);
  };
  ASSERT_TRUE(run_until(loop, [&] { drain(); return send.terminal; }, 3s));
  drain();
  EXPECT_EQ(send.result(), int(data.size()));
  EXPECT_EQ(received, data.size());
  for (Recorder& timer : nop.timers) EXPECT_EQ(timer.result(), -ECANCELED);
  ::close(sv[0]);
  ::close(sv[1]);
}

// ---- The hang-up watch of a multishot receive on a UNIX stream ------------
//
// An idle watched receive whose peer hangs up: its EOF and the watch's event
// come in one batch, behind a nop whose callback fills the SQ, so the
// watch's removal waits for room; then the watch's event ends the receive.

// A receive that records its op's backend bookkeeping at its terminal
// callback and, like a server may, frees itself there.
struct FreedAtEnd : Recorder {
  uint8_t* backend_flags_at_end = nullptr;
  static void callback(Loop& loop, Operation& op, const Completion& completion) {
    auto* self = static_cast<FreedAtEnd*>(static_cast<Recorder*>(op.user_data));
    Recorder::callback(loop, op, completion);
    if (completion.more) return;
    *self->backend_flags_at_end = op.backend_flags;
    delete self;
  }
};

// Nothing of the backend's may still name the operation when it ends: a
// request left queued on it would touch freed memory (ASan) or the next
// use of the op.
TEST_P(SqFullTest, AReceiveEndingWhileItsWatchRemovalWaitsLeavesNothingQueued) {
  with_pushback([&](Loop& loop) {
    UnixStreamPair pair;
    uint8_t flags_at_end = 0xff;
    auto* receiver = new FreedAtEnd;
    receiver->backend_flags_at_end = &flags_at_end;
    ASSERT_EQ(loop.recv_multishot(receiver->op, pair.fd[0], FreedAtEnd::callback,
                                  static_cast<Recorder*>(receiver)), 0);
    loop.run(RunMode::no_wait);  // the watch and the receive are in the kernel
    FillingNop nop;
    ASSERT_EQ(loop.nop(nop.nop.op, FillingNop::callback, &nop), 0);
    ASSERT_EQ(::shutdown(pair.fd[1], SHUT_WR), 0);
    ASSERT_TRUE(run_until(loop, [&] { return flags_at_end != 0xff; }, 3s));
    if (uring()) {
      EXPECT_TRUE(nop.full) << "the SQ never stayed full: the test proves nothing";
    }
    EXPECT_EQ(flags_at_end, 0) << "backend_flags at the end: a request still queued on the op";
    ASSERT_TRUE(run_until(loop, [&] { return all_ended(nop.fillers); }, 3s));
    EXPECT_EQ(loop.active(), 0u);
  });
}

// The common server pattern at a peer's end: the receive's own op closes
// the fd, and the connection's timer is cancelled. Each ends exactly once.
struct Connection {
  Operation receive, timer;
  int fd = -1;
  int receive_ends = 0, close_ends = 0, timer_ends = 0;
  int timer_result = 1;
  bool closing = false;
  static void on_timer(Loop&, Operation& op, const Completion& c) {
    auto* self = static_cast<Connection*>(op.user_data);
    if (c.more) return;
    ++self->timer_ends;
    self->timer_result = c.result;
  }
  static void on_receive(Loop& loop, Operation& op, const Completion& c) {
    auto* self = static_cast<Connection*>(op.user_data);
    if (c.has_buffer) loop.release_buffer(c.buffer_id);
    if (self->closing) {
      ++self->close_ends;
      return;
    }
    if (c.more) return;
    ++self->receive_ends;
    self->closing = true;
    EXPECT_EQ(loop.close(op, self->fd, Connection::on_receive, self), 0);
    EXPECT_EQ(loop.cancel(self->timer), 0);
  }
};

TEST_P(SqFullTest, AtThePeersEndTheReceivesOpClosesAndATimerIsCancelledOnce) {
  with_pushback([&](Loop& loop) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    Connection c;
    c.fd = sv[0];
    // An idle timer that would fire 300 ms on if its cancel were lost.
    ASSERT_EQ(loop.timeout(c.timer, 300'000'000ull, Connection::on_timer, &c), 0);
    loop.run(RunMode::no_wait);
    ASSERT_EQ(loop.recv_multishot(c.receive, sv[0], Connection::on_receive, &c), 0);
    loop.run(RunMode::no_wait);
    FillingNop nop;
    ASSERT_EQ(loop.nop(nop.nop.op, FillingNop::callback, &nop), 0);
    ASSERT_EQ(::shutdown(sv[1], SHUT_WR), 0);
    ASSERT_TRUE(run_until(loop, [&] { return c.close_ends > 0 && c.timer_ends > 0; }, 3s));
    if (uring()) {
      EXPECT_TRUE(nop.full) << "the SQ never stayed full: the test proves nothing";
    }
    // Run on past the timer's time (a timer of the loop's own ends the
    // wait): nothing may end a second time.
    Recorder pause;
    ASSERT_EQ(loop.timeout(pause.op, 1'000'000'000ull, Recorder::callback, &pause), 0);
    while (!pause.terminal) ASSERT_GE(loop.run(RunMode::once), 0);
    EXPECT_EQ(c.receive_ends, 1);
    EXPECT_EQ(c.close_ends, 1);
    EXPECT_EQ(c.timer_ends, 1);
    EXPECT_EQ(c.timer_result, -ECANCELED);
    EXPECT_FALSE(fd_open(sv[0]));
    ASSERT_TRUE(run_until(loop, [&] { return all_ended(nop.fillers); }, 3s));
    EXPECT_EQ(loop.active(), 0u);
    ::close(sv[1]);
  });
}

// A receive paused on an empty pool is resumed from a callback that found
// the SQ full (its restart waits for room), and the watch's event comes in
// the same batch: it must still get every byte and its end.
struct ReleasingNop {
  Recorder nop;
  std::deque<Recorder> fillers;
  Recorder* keeper = nullptr;
  bool full = false;
  static void callback(Loop& loop, Operation& op, const Completion& completion) {
    auto* self = static_cast<ReleasingNop*>(op.user_data);
    self->nop.completions.push_back(completion);
    self->full = fill_sq(loop, self->fillers);
    self->keeper->give_back(loop);
  }
};

TEST_P(SqFullTest, AHangupWhileTheResumedReceiveWaitsForRoomStillEnds) {
  base_.buffer_count = 2;
  base_.buffer_size = 256;
  with_pushback([&](Loop& loop) {
    UnixStreamPair pair;
    Recorder receiver;
    receiver.keep_buffers = true;
    ASSERT_EQ(loop.recv_multishot(receiver.op, pair.fd[0], Recorder::callback, &receiver), 0);
    loop.run(RunMode::no_wait);
    std::vector<uint8_t> data(2000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 7);
    ASSERT_EQ(::send(pair.fd[1], data.data(), data.size(), 0), ssize_t(data.size()));
    ASSERT_TRUE(run_until(loop, [&] { return loop.stats().buffer_pauses > 0; }, 3s));
    ASSERT_EQ(receiver.kept.size(), 2u);
    ReleasingNop nop;
    nop.keeper = &receiver;
    ASSERT_EQ(loop.nop(nop.nop.op, ReleasingNop::callback, &nop), 0);
    ASSERT_EQ(::shutdown(pair.fd[1], SHUT_WR), 0);
    ASSERT_TRUE(run_until(loop, [&] {
      receiver.give_back(loop);
      return receiver.terminal;
    }, 3s));
    if (uring()) {
      EXPECT_TRUE(nop.full) << "the SQ never stayed full: the test proves nothing";
    }
    EXPECT_EQ(receiver.terminal_count, 1);
    EXPECT_EQ(receiver.result(), 0);
    EXPECT_EQ(receiver.joined(), data);
    receiver.give_back(loop);
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, SqFullTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
