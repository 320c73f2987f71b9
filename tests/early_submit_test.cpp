// Work queued by the callbacks of a long batch: on io_uring it is handed to
// the kernel every kEarlySubmit (32) SQEs while the batch still runs, not
// only at the next turn, so a peer can answer meanwhile. On both backends
// every send goes out once, in order.
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "support.hpp"

namespace rstest {
namespace {

class EarlySubmitTest : public BackendTest {};

// 100 NOPs complete in one batch; each callback sends one byte (its index)
// on a stream socket. The last callback counts the bytes the peer can read.
struct Batch {
  static constexpr int kNops = 100;
  int fd = -1;
  int peer = -1;
  std::vector<Operation> nops = std::vector<Operation>(kNops);
  std::vector<Operation> sends = std::vector<Operation>(kNops);
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kNops);
  int nops_done = 0;
  int sends_done = 0;
  int failed = 0;
  int readable_at_last = -1;

  static void on_send(Loop&, Operation& op, const Completion& c) {
    auto& b = *static_cast<Batch*>(op.user_data);
    if (c.result != 1) ++b.failed;
    ++b.sends_done;
  }
  static void on_nop(Loop& loop, Operation& op, const Completion& c) {
    auto& b = *static_cast<Batch*>(op.user_data);
    if (c.result != 0) ++b.failed;
    int i = b.nops_done++;
    if (i == kNops - 1) {
      int readable = 0;
      if (ioctl(b.peer, FIONREAD, &readable) == 0) b.readable_at_last = readable;
    }
    if (loop.send(b.sends[i], b.fd, &b.bytes[i], 1, on_send, &b) != 0) ++b.failed;
  }
};

TEST_P(EarlySubmitTest, SendsOfALongBatchLeaveBeforeItEnds) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Batch b;
  b.fd = sv[0];
  b.peer = sv[1];
  for (int i = 0; i < Batch::kNops; ++i) b.bytes[i] = uint8_t(i);
  // The fd's first send learns its send path (a slow path): take it here.
  Recorder first;
  uint8_t zero = 0;
  ASSERT_EQ(loop.send(first.op, sv[0], &zero, 1, Recorder::callback, &first), 0);
  ASSERT_TRUE(run_until(loop, [&] { return first.terminal; }));
  ASSERT_EQ(first.result(), 1);
  uint8_t got = 1;
  ASSERT_EQ(::recv(sv[1], &got, 1, 0), 1);

  for (Operation& op : b.nops) ASSERT_EQ(loop.nop(op, Batch::on_nop, &b), 0);
  ASSERT_TRUE(run_until(loop, [&] { return b.sends_done == Batch::kNops; }));
  EXPECT_EQ(b.failed, 0);
  EXPECT_EQ(b.nops_done, Batch::kNops);
  std::vector<uint8_t> out(Batch::kNops + 1);
  ASSERT_EQ(::recv(sv[1], out.data(), out.size(), 0), ssize_t(Batch::kNops));
  for (int i = 0; i < Batch::kNops; ++i) ASSERT_EQ(out[i], uint8_t(i)) << "byte " << i;
  if (loop.backend() == BackendKind::uring) {
    // 99 sends queued before the last callback: three early submits of 32.
    EXPECT_EQ(b.readable_at_last, 96);
    EXPECT_EQ(loop.stats().early_submits, 3u);
  } else {
    EXPECT_EQ(loop.stats().early_submits, 0u);
  }
  ::close(sv[0]);
  ::close(sv[1]);
}

INSTANTIATE_TEST_SUITE_P(Backends, EarlySubmitTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
