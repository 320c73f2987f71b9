// Vectored sends: sendv on streams (every byte of every piece, in order,
// across short sends), sendv and sendtov on datagrams (one datagram of the
// pieces), their deadlines, cancel, faults and refusals, on both backends and
// every family; and the continuation's bookkeeping itself (advance_pieces).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "sendv.hpp"
#include "support.hpp"

namespace rstest {
namespace {

// Sizes that do not line up with socket buffers: short sends end inside pieces.
std::vector<size_t> odd_sizes(size_t count, size_t base, size_t step) {
  std::vector<size_t> sizes;
  for (size_t i = 0; i < count; ++i) sizes.push_back(base + (i * step) % 997);
  return sizes;
}

// Everything the peer of `fd` will ever read, once the sender has shut its
// side: exact accounting of what a sendv that ended early put out.
std::vector<uint8_t> drain_after_shutdown(int sender, int receiver) {
  EXPECT_EQ(::shutdown(sender, SHUT_WR), 0);
  std::vector<uint8_t> all;
  uint8_t buffer[65536];
  for (;;) {
    ssize_t n = ::recv(receiver, buffer, sizeof(buffer), 0);  // blocking: EOF comes
    if (n <= 0) break;
    all.insert(all.end(), buffer, buffer + n);
  }
  return all;
}

void make_blocking(int fd) { EXPECT_EQ(::fcntl(fd, F_SETFL, 0), 0); }

class SendvStreamTest : public SocketTest {
 protected:
  // A sendv that cannot finish: small buffers and a peer that never reads.
  // Without a deadline it is under way (some bytes out) when this returns.
  void start_stuck_sendv(StreamPair& pair, Recorder& sent, const Pieces& pieces) {
    ASSERT_EQ(set_buffer_sizes(pair.client, 4096, 4096), 0);
    ASSERT_EQ(set_buffer_sizes(pair.server, 4096, 4096), 0);
    ASSERT_EQ(loop.sendv(sent.op, pair.client, pieces.iov.data(), pieces.count(),
                         Recorder::callback, &sent), 0);
    if (sent.op.timeout_ns != 0) return;  // a slow machine may reach the deadline here
    for (int i = 0; i < 4 && !sent.terminal; ++i) loop.run(RunMode::no_wait);
    ASSERT_FALSE(sent.terminal) << sent.result();
  }
};

TEST_P(SendvStreamTest, ManyPiecesAndEmptyPiecesArriveInOrder) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  // IOV_MAX pieces, the most one call takes; empty ones first, between and last.
  std::vector<size_t> sizes = odd_sizes(IOV_MAX, 1, 53);
  for (size_t i : {size_t(0), size_t(1), size_t(500), size_t(501), sizes.size() - 1}) sizes[i] = 0;
  Pieces pieces(sizes);
  Recorder sent;
  SlowReader reader;
  ASSERT_EQ(loop.sendv(sent.op, pair.client, pieces.iov.data(), pieces.count(),
                       Recorder::callback, &sent), 0);
  reader.start(loop, pair.server, pieces.bytes.size());
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal && reader.done; }));
  EXPECT_EQ(sent.terminal_count, 1);
  EXPECT_EQ(sent.result(), int(pieces.bytes.size()));
  EXPECT_EQ(sent.op.transferred, pieces.bytes.size());
  EXPECT_TRUE(reader.received == pieces.bytes) << "bytes differ or are out of order";
}

TEST_P(SendvStreamTest, ShortSendsContinueFromWhereTheyStopped) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  // As in LargeTransferWithTinySocketBuffersKeepsIntegrity: a tiny send
  // buffer, a receive buffer above one TCP segment.
  ASSERT_EQ(set_buffer_sizes(pair.client, 4096, 4096), 0);
  ASSERT_EQ(set_buffer_sizes(pair.server, 4096, 131072), 0);
  Pieces pieces(odd_sizes(300, 1500, 389), 9);  // about 750 KB
  const std::vector<iovec> before = pieces.iov;
  Recorder sent;
  SlowReader reader;
  uint64_t continuations = loop.stats().send_continuations;
  ASSERT_EQ(loop.sendv(sent.op, pair.client, pieces.iov.data(), pieces.count(),
                       Recorder::callback, &sent), 0);
  reader.start(loop, pair.server, pieces.bytes.size());
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal && reader.done; }, 30s))
      << "sent " << sent.op.transferred << " received " << reader.received.size();
  EXPECT_GT(loop.stats().send_continuations, continuations) << "the kernel never cut a send";
  EXPECT_EQ(sent.result(), int(pieces.bytes.size()));
  EXPECT_EQ(sent.op.transferred, pieces.bytes.size());
  ASSERT_EQ(reader.received.size(), pieces.bytes.size());
  EXPECT_TRUE(reader.received == pieces.bytes);
  // The caller's array is only read.
  for (size_t i = 0; i < before.size(); ++i) {
    ASSERT_EQ(pieces.iov[i].iov_base, before[i].iov_base) << i;
    ASSERT_EQ(pieces.iov[i].iov_len, before[i].iov_len) << i;
  }
}

TEST_P(SendvStreamTest, DeadlineEndsItWithExactBytes) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Pieces pieces(odd_sizes(64, 60000, 7919));  // about 4 MB: far more than the buffers hold
  Recorder sent;
  sent.op.timeout_ns = 50'000'000;
  start_stuck_sendv(pair, sent, pieces);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.terminal_count, 1);
  EXPECT_EQ(sent.result(), -ETIMEDOUT);
  EXPECT_LT(sent.op.transferred, pieces.bytes.size());
  make_blocking(pair.server);
  std::vector<uint8_t> got = drain_after_shutdown(pair.client, pair.server);
  ASSERT_EQ(got.size(), sent.op.transferred) << "transferred must be exact";
  EXPECT_EQ(memcmp(got.data(), pieces.bytes.data(), got.size()), 0);
}

TEST_P(SendvStreamTest, CancelEndsItWithExactBytes) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Pieces pieces(odd_sizes(64, 60000, 7919));
  Recorder sent;
  start_stuck_sendv(pair, sent, pieces);
  ASSERT_EQ(loop.cancel(sent.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.terminal_count, 1);
  EXPECT_EQ(sent.result(), -ECANCELED);
  EXPECT_LT(sent.op.transferred, pieces.bytes.size());
  make_blocking(pair.server);
  std::vector<uint8_t> got = drain_after_shutdown(pair.client, pair.server);
  ASSERT_EQ(got.size(), sent.op.transferred) << "transferred must be exact";
  EXPECT_EQ(memcmp(got.data(), pieces.bytes.data(), got.size()), 0);
}

TEST_P(SendvStreamTest, PeerResetMidwayReportsExactBytes) {
  StreamPair pair;
  ASSERT_TRUE(connect_pair(loop, family(), dir, pair));
  Pieces pieces(odd_sizes(128, 60000, 7919));  // about 8 MB
  Recorder sent;
  start_stuck_sendv(pair, sent, pieces);
  // Read some, so the send is known to be under way, then reset.
  std::vector<uint8_t> got(20000);
  size_t have = 0;
  while (have < got.size()) {
    loop.run(RunMode::no_wait);
    ssize_t n = ::recv(pair.server, got.data() + have, got.size() - have, MSG_DONTWAIT);
    if (n > 0) have += size_t(n);
    if (n == 0) break;
  }
  EXPECT_EQ(memcmp(got.data(), pieces.bytes.data(), have), 0);
  if (!is_unix()) set_linger_reset(pair.server);
  ::close(pair.server);
  pair.server = -1;
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.terminal_count, 1);
  EXPECT_TRUE(sent.result() == -EPIPE || sent.result() == -ECONNRESET) << sent.result();
  EXPECT_GE(sent.op.transferred, have);
  EXPECT_LT(sent.op.transferred, pieces.bytes.size());
}

INSTANTIATE_TEST_SUITE_P(Sockets, SendvStreamTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(all_families())),
                         socket_param_name);

// ---- datagrams -------------------------------------------------------------------

class SendvDatagramTest : public SocketTest {
 protected:
  // One datagram from server_fd, whole (it was sent already: the wait is
  // only for loopback's delivery).
  std::vector<uint8_t> receive_one(int server_fd) {
    std::vector<uint8_t> buffer(4096);
    pollfd ready{server_fd, POLLIN, 0};
    EXPECT_EQ(::poll(&ready, 1, 10'000), 1);
    ssize_t n = ::recv(server_fd, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
    EXPECT_GE(n, 0) << strerror(errno);
    EXPECT_LE(n, ssize_t(buffer.size()));
    buffer.resize(n < 0 ? 0 : size_t(n));
    return buffer;
  }
};

TEST_P(SendvDatagramTest, SendtovMakesOneDatagramOfThePiecesToAnEndpoint) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = open_socket(server_end);  // unconnected: the address goes with each send
  ASSERT_GE(client, 0);
  Pieces first({0, 7, 300, 0, 1, 25});
  Pieces second({100}, 77);
  Recorder sent1, sent2;
  ASSERT_EQ(loop.sendtov(sent1.op, client, first.iov.data(), first.count(), &server_end,
                         Recorder::callback, &sent1), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent1.terminal; }));
  ASSERT_EQ(loop.sendtov(sent2.op, client, second.iov.data(), second.count(), &server_end,
                         Recorder::callback, &sent2), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent2.terminal; }));
  EXPECT_EQ(sent1.result(), int(first.bytes.size()));
  EXPECT_EQ(sent2.result(), int(second.bytes.size()));
  EXPECT_EQ(receive_one(server), first.bytes) << "one sendtov is one datagram";
  EXPECT_EQ(receive_one(server), second.bytes);
  ::close(client);
  ::close(server);
}

TEST_P(SendvDatagramTest, SendvOnAConnectedSocketIsOneDatagram) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  ASSERT_GE(client, 0);
  Pieces pieces({10, 0, 20, 30});
  Recorder sent;
  ASSERT_EQ(loop.sendv(sent.op, client, pieces.iov.data(), pieces.count(), Recorder::callback,
                       &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), int(pieces.bytes.size()));
  EXPECT_EQ(receive_one(server), pieces.bytes);
  ::close(client);
  ::close(server);
}

TEST_P(SendvDatagramTest, DatagramTooLargeIsEmsgsize) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = open_socket(server_end);
  ASSERT_GE(client, 0);
  ASSERT_EQ(set_buffer_sizes(client, 4096, 0), 0);
  // Above the UDP maximum, or a UNIX socket's send buffer, in three pieces.
  size_t piece = is_unix() ? 100000 : 25000;
  Pieces pieces({piece, piece, piece});
  Recorder sent;
  ASSERT_EQ(loop.sendtov(sent.op, client, pieces.iov.data(), pieces.count(), &server_end,
                         Recorder::callback, &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), -EMSGSIZE);
  ::close(client);
  ::close(server);
}

// A datagram send that has to wait ends by its deadline or by cancel, and
// sends nothing. Only a UNIX datagram socket waits (for room in its peer's
// queue; UDP drops instead); connected, so that its readiness follows that
// queue, while sendtov still names the destination.
TEST_P(SendvDatagramTest, DeadlineAndCancelEndAWaitingSendtovWithNothingSent) {
  if (!is_unix()) GTEST_SKIP() << "a UDP send never waits for its peer";
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  ASSERT_GE(client, 0);
  uint8_t byte = 1;
  int queued = 0;
  ssize_t rc = 0;
  while (queued < 100000 && (rc = ::send(client, &byte, 1, MSG_DONTWAIT)) == 1) ++queued;
  ASSERT_EQ(rc, -1) << "the peer's queue never filled";
  ASSERT_EQ(errno, EAGAIN) << strerror(errno);
  Pieces pieces({10, 0, 20});

  Recorder late;
  late.op.timeout_ns = 50'000'000;
  ASSERT_EQ(loop.sendtov(late.op, client, pieces.iov.data(), pieces.count(), &server_end,
                         Recorder::callback, &late), 0);
  ASSERT_TRUE(run_until(loop, [&] { return late.terminal; }));
  EXPECT_EQ(late.terminal_count, 1);
  EXPECT_EQ(late.result(), -ETIMEDOUT);

  Recorder cancelled;
  ASSERT_EQ(loop.sendtov(cancelled.op, client, pieces.iov.data(), pieces.count(), &server_end,
                         Recorder::callback, &cancelled), 0);
  for (int i = 0; i < 4 && !cancelled.terminal; ++i) loop.run(RunMode::no_wait);
  ASSERT_FALSE(cancelled.terminal) << cancelled.result();
  ASSERT_EQ(loop.cancel(cancelled.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return cancelled.terminal; }));
  EXPECT_EQ(cancelled.terminal_count, 1);
  EXPECT_EQ(cancelled.result(), -ECANCELED);

  int received = 0;
  uint8_t buffer[64];
  for (ssize_t n; (n = ::recv(server, buffer, sizeof(buffer), MSG_DONTWAIT)) >= 0; ++received) {
    EXPECT_EQ(n, 1) << "only the one-byte datagrams that filled the queue";
  }
  EXPECT_EQ(received, queued);
  ::close(client);
  ::close(server);
}

INSTANTIATE_TEST_SUITE_P(Sockets, SendvDatagramTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(all_families())),
                         socket_param_name);

// ---- refusals and reuse ------------------------------------------------------------

class SendvTest : public BackendTest {};

void never_called(Loop&, Operation&, const Completion&) { ADD_FAILURE() << "no callback expected"; }

TEST_P(SendvTest, BadPiecesAreRefusedAndChangeNothing) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  static uint8_t byte = 1;
  std::vector<iovec> too_many(IOV_MAX + 1, iovec{&byte, 1});
  iovec null_base[2] = {{&byte, 1}, {nullptr, 1}};
  // Lengths that are never read: refused before any use.
  iovec huge[3] = {{&byte, size_t(1) << 30}, {&byte, size_t(1) << 30}, {&byte, size_t(1) << 30}};
  iovec beyond[1] = {{&byte, size_t(INT32_MAX) + 1}};
  Endpoint peer;  // length 0: no address
  Operation op;
  op.user_data = &op;
  op.fd = 1234;
  EXPECT_EQ(loop.sendv(op, sv[0], too_many.data(), too_many.size(), never_called), -EINVAL);
  EXPECT_EQ(loop.sendtov(op, sv[0], too_many.data(), too_many.size(), nullptr, never_called),
            -EINVAL);
  EXPECT_EQ(loop.sendv(op, sv[0], too_many.data(), 0, never_called), -EINVAL);
  EXPECT_EQ(loop.sendv(op, sv[0], nullptr, 1, never_called), -EINVAL);
  EXPECT_EQ(loop.sendv(op, sv[0], null_base, 2, never_called), -EINVAL);
  EXPECT_EQ(loop.sendv(op, sv[0], huge, 3, never_called), -EINVAL);
  EXPECT_EQ(loop.sendv(op, sv[0], beyond, 1, never_called), -EINVAL);
  EXPECT_EQ(loop.sendtov(op, sv[0], null_base, 1, &peer, never_called), -EINVAL);
  EXPECT_EQ(loop.sendv(op, sv[0], null_base, 1, nullptr), -EINVAL);
  EXPECT_EQ(loop.sendv(op, -1, null_base, 1, never_called), -EBADF);
  // A refused call changes nothing the caller can see.
  EXPECT_EQ(op.kind, OpKind::none);
  EXPECT_EQ(op.fd, 1234);
  EXPECT_EQ(op.callback, nullptr);
  EXPECT_EQ(op.user_data, &op);
  EXPECT_FALSE(op.in_flight());
  EXPECT_EQ(loop.active(), 0u);
  for (int i = 0; i < 3; ++i) loop.run(RunMode::no_wait);
  // IOV_MAX itself is taken, and every piece goes out.
  too_many.pop_back();
  Recorder sent;
  ASSERT_EQ(loop.sendv(sent.op, sv[0], too_many.data(), too_many.size(), Recorder::callback,
                       &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), IOV_MAX);
  ::close(sv[0]);
  ::close(sv[1]);
}

// A UNIX datagram fd number closed behind the loop's back comes back as a
// stream socket: a sendv on it must still send every piece (the direct
// datagram path hands over to the stream continuation in the middle).
TEST_P(SendvTest, ReusedFdNumberOfAUnixDatagramSocketSendsEveryPiece) {
  int dgram[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, dgram), 0);
  Recorder first;
  ASSERT_EQ(loop.send(first.op, dgram[0], "x", 1, Recorder::callback, &first), 0);
  ASSERT_TRUE(run_until(loop, [&] { return first.terminal; }));
  ::close(dgram[0]);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_EQ(sv[0], dgram[0]) << "the kernel reuses the lowest free number";
  Pieces pieces(odd_sizes(200, 9000, 4421), 21);  // about 2 MB: more than one sendmsg takes
  Recorder sent;
  ASSERT_EQ(loop.sendv(sent.op, sv[0], pieces.iov.data(), pieces.count(), Recorder::callback,
                       &sent), 0);
  std::vector<uint8_t> got;
  ASSERT_TRUE(run_until(loop, [&] {
    uint8_t sink[65536];
    ssize_t n;
    while ((n = ::recv(sv[1], sink, sizeof(sink), MSG_DONTWAIT)) > 0) got.insert(got.end(), sink, sink + n);
    return sent.terminal && got.size() >= pieces.bytes.size();
  }));
  EXPECT_EQ(sent.result(), int(pieces.bytes.size()));
  EXPECT_TRUE(got == pieces.bytes);
  ::close(sv[0]);
  ::close(sv[1]);
  ::close(dgram[1]);
}

INSTANTIATE_TEST_SUITE_P(Backends, SendvTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

// ---- the continuation's bookkeeping ------------------------------------------------

// advance_pieces, byte by byte over pieces with empty ones among them: the
// place is always the first piece not wholly sent, the array never changes.
TEST(SendvPlace, AdvanceKeepsThePlaceAndSkipsEmptyPieces) {
  uint8_t bytes[10];
  const iovec pieces[] = {{bytes, 3}, {bytes + 3, 0}, {bytes + 3, 5}, {bytes + 8, 0},
                          {bytes + 8, 0}, {bytes + 8, 2}};
  const size_t count = sizeof(pieces) / sizeof(pieces[0]);
  Operation op;
  uint32_t total = 0;
  ASSERT_EQ(detail::check_pieces(pieces, count, total), 0);
  ASSERT_EQ(total, 10u);
  detail::set_pieces(op, pieces, count, total, nullptr);
  EXPECT_FALSE(detail::in_piece(op));
  EXPECT_FALSE(detail::advance_pieces(op, 2));
  EXPECT_TRUE(detail::in_piece(op));
  EXPECT_EQ(detail::piece_rest(op), bytes + 2);
  EXPECT_EQ(detail::piece_rest_length(op), 1u);
  EXPECT_FALSE(detail::advance_pieces(op, 1));  // the rest of piece 0: on to piece 2
  EXPECT_FALSE(detail::in_piece(op));
  EXPECT_EQ(op.args.message.header.msg_iov, &pieces[2]);
  EXPECT_EQ(op.args.message.header.msg_iovlen, 4u);
  EXPECT_FALSE(detail::advance_pieces(op, 4));
  EXPECT_EQ(detail::piece_rest(op), bytes + 7);
  EXPECT_EQ(detail::piece_rest_length(op), 1u);
  EXPECT_FALSE(detail::advance_pieces(op, 2));  // across the empty pieces into the last
  EXPECT_EQ(op.args.message.header.msg_iov, &pieces[5]);
  EXPECT_EQ(detail::piece_rest(op), bytes + 9);
  EXPECT_TRUE(detail::advance_pieces(op, 1));
  EXPECT_EQ(op.transferred, 10u);
  EXPECT_EQ(op.args.message.header.msg_iovlen, 0u);
}

}  // namespace
}  // namespace rstest
