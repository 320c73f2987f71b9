// Cancel and cancel-safe close: every in-flight operation ends exactly once,
// a close completes after the operations it cancelled, and a reused fd
// number never receives a completion meant for the old socket.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "support.hpp"

namespace rstest {
namespace {

class CancelCloseTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair_), 0);
  }
  void TearDown() override {
    for (int fd : pair_) {
      if (fd >= 0) ::close(fd);
    }
  }
  // Fills the socket's send buffer so that a send stays in flight.
  void fill_send_buffer(int fd) {
    std::vector<uint8_t> junk(65536);
    while (::send(fd, junk.data(), junk.size(), MSG_DONTWAIT) > 0) {
    }
  }
  int pair_[2] = {-1, -1};
  std::vector<uint8_t> big_ = std::vector<uint8_t>(1 << 20);
  uint8_t small_[64] = {};
};

bool fd_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST_P(CancelCloseTest, CancelRecvEndsItOnceWithEcanceled) {
  Recorder r;
  ASSERT_EQ(loop.recv(r.op, pair_[0], small_, sizeof(small_), Recorder::callback, &r), 0);
  loop.run(RunMode::no_wait);
  ASSERT_EQ(loop.cancel(r.op), 0);
  EXPECT_EQ(loop.cancel(r.op), -EALREADY);
  ASSERT_TRUE(run_until(loop, [&] { return r.terminal; }));
  loop.run(RunMode::no_wait);
  EXPECT_EQ(r.terminal_count, 1);
  EXPECT_EQ(r.result(), -ECANCELED);
  EXPECT_EQ(loop.active(), 0u);
}

// deinit drops what is in flight without callbacks, but a close the caller
// asked for still closes its fd: none is left open behind it.
TEST_P(CancelCloseTest, DeinitClosesTheFdOfACloseStillWaiting) {
  Recorder r, closing;
  ASSERT_EQ(loop.recv(r.op, pair_[0], small_, sizeof(small_), Recorder::callback, &r), 0);
  loop.run(RunMode::no_wait);
  ASSERT_EQ(loop.close(closing.op, pair_[0], Recorder::callback, &closing), 0);
  ASSERT_TRUE(closing.op.in_flight());  // waits for the recv's -ECANCELED
  ASSERT_TRUE(fd_open(pair_[0]));
  EXPECT_EQ(loop.deinit(), 0);
  EXPECT_FALSE(fd_open(pair_[0])) << "deinit left the closing fd open";
  EXPECT_FALSE(closing.terminal);  // dropped, as deinit documents
  pair_[0] = -1;
}

TEST_P(CancelCloseTest, CancelOfAnIdleOperationIsEnoent) {
  Operation op;
  EXPECT_EQ(loop.cancel(op), -ENOENT);
}

TEST_P(CancelCloseTest, CancelEveryOperationKind) {
  Endpoint tcp;
  ASSERT_EQ(parse_endpoint("tcp://127.0.0.1:0", tcp).error, 0);
  int listener = listen_on(tcp);
  ASSERT_GE(listener, 0);
  Endpoint udp;
  ASSERT_EQ(parse_endpoint("udp://127.0.0.1:0", udp).error, 0);
  int datagram = bind_datagram(udp);
  ASSERT_GE(datagram, 0);
  fill_send_buffer(pair_[1]);  // pair_[1] now has a send that cannot finish, and nothing to read
  Recorder accept1, accept_many, recv1, recv_many, recvfrom1, recvfrom_many, send1, timer;
  Endpoint peer, from;
  ASSERT_EQ(loop.accept(accept1.op, listener, &peer, Recorder::callback, &accept1), 0);
  ASSERT_EQ(loop.accept_multishot(accept_many.op, listener, Recorder::callback, &accept_many), 0);
  ASSERT_EQ(loop.recv(recv1.op, pair_[1], small_, sizeof(small_), Recorder::callback, &recv1), 0);
  ASSERT_EQ(loop.recvfrom(recvfrom1.op, datagram, small_, sizeof(small_), &from,
                          Recorder::callback, &recvfrom1), 0);
  ASSERT_EQ(loop.send(send1.op, pair_[1], big_.data(), big_.size(), Recorder::callback, &send1), 0);
  ASSERT_EQ(loop.timeout(timer.op, 60'000'000'000ull, Recorder::callback, &timer), 0);
  std::vector<Recorder*> all = {&accept1, &accept_many, &recv1, &recvfrom1, &send1, &timer};
  bool multishot_recv = loop.capabilities().multishot_recv;
  ASSERT_EQ(loop.recv_multishot(recv_many.op, pair_[1], Recorder::callback, &recv_many), 0);
  all.push_back(&recv_many);
  if (multishot_recv) {
    ASSERT_EQ(loop.recvfrom_multishot(recvfrom_many.op, datagram, Recorder::callback,
                                      &recvfrom_many), 0);
    all.push_back(&recvfrom_many);
  }
  loop.run(RunMode::no_wait);
  for (Recorder* r : all) {
    EXPECT_FALSE(r->terminal);
    ASSERT_EQ(loop.cancel(r->op), 0);
  }
  ASSERT_TRUE(run_until(loop, [&] {
    for (Recorder* r : all) {
      if (!r->terminal) return false;
    }
    return true;
  }));
  loop.run(RunMode::no_wait);  // a second terminal completion would show here
  EXPECT_EQ(loop.active(), 0u);
  for (Recorder* r : all) {
    EXPECT_EQ(r->terminal_count, 1);
    EXPECT_EQ(r->result(), -ECANCELED);
  }
  ::close(listener);
  ::close(datagram);
}

TEST_P(CancelCloseTest, CancelAHangingConnect) {
  FullListener full;  // its accept queue is full: the next connect hangs
  ASSERT_TRUE(fill_accept_queue(loop, full)) << "the accept queue never filled";
  int fd = open_socket(full.endpoint);
  Recorder connect;
  ASSERT_EQ(loop.connect(connect.op, fd, full.endpoint, Recorder::callback, &connect), 0);
  loop.run(RunMode::no_wait);
  EXPECT_FALSE(connect.terminal);
  ASSERT_EQ(loop.cancel(connect.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return connect.terminal; }));
  loop.run(RunMode::no_wait);
  EXPECT_EQ(connect.terminal_count, 1);
  EXPECT_EQ(connect.result(), -ECANCELED);
  ::close(fd);
}

// Operations that finish at once still end exactly once when cancelled in
// between: with their real result or -ECANCELED, whichever came first.
TEST_P(CancelCloseTest, CancelRacingAnImmediateCompletionEndsOnce) {
  Recorder nop, shut;
  ASSERT_EQ(loop.nop(nop.op, Recorder::callback, &nop), 0);
  ASSERT_EQ(loop.shutdown(shut.op, pair_[0], SHUT_WR, Recorder::callback, &shut), 0);
  EXPECT_EQ(loop.cancel(nop.op), 0);
  EXPECT_EQ(loop.cancel(shut.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return nop.terminal && shut.terminal; }));
  loop.run(RunMode::no_wait);
  for (Recorder* r : {&nop, &shut}) {
    EXPECT_EQ(r->terminal_count, 1);
    EXPECT_TRUE(r->result() == 0 || r->result() == -ECANCELED) << r->result();
  }
}

TEST_P(CancelCloseTest, CloseCancelsInFlightOperationsThenCloses) {
  fill_send_buffer(pair_[0]);
  Recorder recv1, recv_many, send1, closer;
  std::vector<const char*> order;
  ASSERT_EQ(loop.recv(recv1.op, pair_[0], small_, sizeof(small_), Recorder::callback, &recv1), 0);
  ASSERT_EQ(loop.send(send1.op, pair_[0], big_.data(), big_.size(), Recorder::callback, &send1), 0);
  loop.run(RunMode::no_wait);
  // A second receive on the same fd: the multishot one.
  ASSERT_EQ(loop.recv_multishot(recv_many.op, pair_[0], Recorder::callback, &recv_many), 0);
  ASSERT_EQ(loop.close(closer.op, pair_[0], Recorder::callback, &closer), 0);
  // While closing, the fd takes no new work.
  Operation late;
  EXPECT_EQ(loop.recv(late, pair_[0], small_, sizeof(small_), Recorder::callback, nullptr), -EBADF);
  EXPECT_FALSE(late.in_flight());
  ASSERT_TRUE(run_until(loop, [&] { return closer.terminal; }));
  loop.run(RunMode::no_wait);
  for (Recorder* r : {&recv1, &recv_many, &send1}) {
    EXPECT_EQ(r->terminal_count, 1);
    EXPECT_EQ(r->result(), -ECANCELED);
  }
  EXPECT_EQ(closer.result(), 0);
  EXPECT_EQ(closer.terminal_count, 1);
  EXPECT_FALSE(fd_open(pair_[0]));
  pair_[0] = -1;
  EXPECT_EQ(loop.active(), 0u);
}

// The close's callback comes after the callbacks of every operation it cancelled.
TEST_P(CancelCloseTest, CloseCompletesAfterTheOperationsItCancelled) {
  std::vector<int> order;
  struct Tagged {
    Operation op;
    int tag;
    std::vector<int>* order;
  };
  auto cb = [](Loop&, Operation& op, const Completion& c) {
    auto* t = static_cast<Tagged*>(op.user_data);
    if (!c.more) t->order->push_back(t->tag);
  };
  Tagged a{{}, 1, &order}, b{{}, 2, &order}, closer{{}, 3, &order};
  ASSERT_EQ(loop.recv(a.op, pair_[0], small_, sizeof(small_), cb, &a), 0);
  ASSERT_EQ(loop.recv_multishot(b.op, pair_[0], cb, &b), 0);
  loop.run(RunMode::no_wait);
  ASSERT_EQ(loop.close(closer.op, pair_[0], cb, &closer), 0);
  ASSERT_TRUE(run_until(loop, [&] { return order.size() == 3; }));
  pair_[0] = -1;
  EXPECT_EQ(order.back(), 3);
}

TEST_P(CancelCloseTest, ReusedFdNumberNeverGetsAStaleCompletion) {
  int old_fd = pair_[0];
  Recorder old_recv, closer;
  ASSERT_EQ(loop.recv(old_recv.op, old_fd, small_, sizeof(small_), Recorder::callback, &old_recv), 0);
  loop.run(RunMode::no_wait);
  ASSERT_EQ(loop.close(closer.op, old_fd, Recorder::callback, &closer), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closer.terminal; }));
  pair_[0] = -1;
  // The kernel hands out the lowest free number: the new socket gets the old one.
  int fresh[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fresh), 0);
  ASSERT_EQ(fresh[0], old_fd);
  Recorder new_recv;
  uint8_t buffer[8];
  ASSERT_EQ(loop.recv(new_recv.op, fresh[0], buffer, sizeof(buffer), Recorder::callback, &new_recv), 0);
  ASSERT_EQ(::send(fresh[1], "new", 3, 0), 3);
  ASSERT_EQ(::send(pair_[1], "old", 3, MSG_NOSIGNAL), -1);  // the old peer is gone
  ASSERT_TRUE(run_until(loop, [&] { return new_recv.terminal; }));
  loop.run(RunMode::no_wait);
  EXPECT_EQ(new_recv.result(), 3);
  EXPECT_EQ(memcmp(buffer, "new", 3), 0);
  EXPECT_EQ(old_recv.terminal_count, 1);
  EXPECT_EQ(old_recv.result(), -ECANCELED);
  ::close(fresh[0]);
  ::close(fresh[1]);
}

// The close happens when it is asked for (or when the last cancelled
// operation ends), and the loop forgets the fd in the same step: a socket
// that gets the number next is usable at once, even before the close's own
// callback has run. (With an asynchronous close the number was free in the
// kernel while the loop still refused it with -EBADF.)
TEST_P(CancelCloseTest, NumberFreedByCloseIsUsableBeforeTheCloseCallback) {
  int old_fd = pair_[0];
  Recorder closer;
  ASSERT_EQ(loop.close(closer.op, old_fd, Recorder::callback, &closer), 0);
  pair_[0] = -1;
  int fresh[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fresh), 0);
  ASSERT_EQ(fresh[0], old_fd);
  Recorder new_recv;
  uint8_t buffer[8];
  ASSERT_EQ(loop.recv(new_recv.op, fresh[0], buffer, sizeof(buffer), Recorder::callback, &new_recv), 0);
  ASSERT_EQ(::send(fresh[1], "new", 3, 0), 3);
  ASSERT_TRUE(run_until(loop, [&] { return new_recv.terminal && closer.terminal; }));
  EXPECT_EQ(closer.result(), 0);
  EXPECT_EQ(closer.terminal_count, 1);
  EXPECT_EQ(new_recv.result(), 3);
  ::close(fresh[0]);
  ::close(fresh[1]);
}

// The same when the close waited for a cancelled operation: inside that
// operation's callback the number is already free and usable.
TEST_P(CancelCloseTest, NumberFreedByAWaitingCloseIsUsableInTheCancelledCallback) {
  struct State {
    Loop* loop;
    int old_fd;
    int fresh[2] = {-1, -1};
    int reused_submit = 1;
    Operation recv_op, new_recv;
    uint8_t buffer[8];
  } state{&loop, pair_[0]};
  auto on_cancelled = [](Loop& l, Operation& op, const Completion&) {
    auto* st = static_cast<State*>(op.user_data);
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, st->fresh) != 0) return;
    if (st->fresh[0] != st->old_fd) return;
    st->reused_submit = l.recv(st->new_recv, st->fresh[0], st->buffer, sizeof(st->buffer),
                               [](Loop&, Operation&, const Completion&) {}, nullptr);
    if (st->reused_submit == 0) l.cancel(st->new_recv);
  };
  ASSERT_EQ(loop.recv(state.recv_op, pair_[0], small_, sizeof(small_), on_cancelled, &state), 0);
  loop.run(RunMode::no_wait);
  Recorder closer;
  ASSERT_EQ(loop.close(closer.op, pair_[0], Recorder::callback, &closer), 0);
  pair_[0] = -1;
  ASSERT_TRUE(run_until(loop, [&] { return closer.terminal && !state.new_recv.in_flight() &&
                                           state.fresh[0] >= 0; }));
  EXPECT_EQ(state.fresh[0], state.old_fd);
  EXPECT_EQ(state.reused_submit, 0);
  EXPECT_EQ(closer.result(), 0);
  for (int fd : state.fresh) {
    if (fd >= 0) ::close(fd);
  }
}

TEST_P(CancelCloseTest, CancelledCloseLeavesTheFdOpen) {
  Recorder r, closer;
  ASSERT_EQ(loop.recv(r.op, pair_[0], small_, sizeof(small_), Recorder::callback, &r), 0);
  loop.run(RunMode::no_wait);
  ASSERT_EQ(loop.close(closer.op, pair_[0], Recorder::callback, &closer), 0);
  ASSERT_EQ(loop.cancel(closer.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closer.terminal && r.terminal; }));
  EXPECT_EQ(closer.result(), -ECANCELED);
  EXPECT_EQ(r.result(), -ECANCELED);
  EXPECT_TRUE(fd_open(pair_[0]));
  // And the fd takes work again.
  Recorder again;
  EXPECT_EQ(loop.recv(again.op, pair_[0], small_, sizeof(small_), Recorder::callback, &again), 0);
  ASSERT_EQ(loop.cancel(again.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return again.terminal; }));
}

TEST_P(CancelCloseTest, CancelFromInsideAMultishotCallback) {
  struct State {
    Operation op;
    int calls = 0;
    int terminal = 0;
    int last = 1;
  } s;
  auto cb = [](Loop& l, Operation& op, const Completion& c) {
    auto* st = static_cast<State*>(op.user_data);
    ++st->calls;
    if (c.has_buffer) l.release_buffer(c.buffer_id);
    if (c.more) {
      EXPECT_EQ(l.cancel(op), 0);
    } else {
      ++st->terminal;
      st->last = c.result;
    }
  };
  ASSERT_EQ(loop.recv_multishot(s.op, pair_[0], cb, &s), 0);
  ASSERT_EQ(::send(pair_[1], "abc", 3, 0), 3);
  ASSERT_TRUE(run_until(loop, [&] { return s.terminal == 1; }));
  loop.run(RunMode::no_wait);
  EXPECT_EQ(s.terminal, 1);
  EXPECT_EQ(s.last, -ECANCELED);
}

INSTANTIATE_TEST_SUITE_P(Backends, CancelCloseTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
