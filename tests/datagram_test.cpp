// Datagram sockets (UDP over IPv4/IPv6, UNIX datagram over paths and
// abstract names): boundaries, the three client workflows, multishot, faults.
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "support.hpp"

namespace rstest {
namespace {

class DatagramTest : public SocketTest {};

struct Datagram {
  Operation op;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(2048);
  Endpoint peer;
  int result = 1;
  bool truncated = false;
  bool done = false;
  static void callback(Loop&, Operation& op, const Completion& c) {
    auto* self = static_cast<Datagram*>(op.user_data);
    self->result = c.result;
    self->truncated = c.truncated;
    self->done = true;
  }
  int receive(Loop& loop, int fd) {
    done = false;
    return loop.recvfrom(op, fd, buffer.data(), buffer.size(), &peer, callback, this);
  }
};

TEST_P(DatagramTest, MessageBoundariesAreKept) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  ASSERT_GE(client, 0) << strerror(-client);
  const size_t sizes[] = {1, 100, 1000};
  Recorder sends[3];
  std::vector<uint8_t> payload(1000);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(loop.send(sends[i].op, client, payload.data(), sizes[i], Recorder::callback,
                        &sends[i]), 0);
  }
  ASSERT_TRUE(run_until(loop, [&] { return sends[0].terminal && sends[1].terminal && sends[2].terminal; }));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sends[i].result(), int(sizes[i]));
    Datagram d;
    ASSERT_EQ(d.receive(loop, server), 0);
    ASSERT_TRUE(run_until(loop, [&] { return d.done; }));
    ASSERT_EQ(d.result, int(sizes[i])) << "one send is one receive";
    EXPECT_EQ(memcmp(d.buffer.data(), payload.data(), sizes[i]), 0);
  }
  ::close(client);
  ::close(server);
}

TEST_P(DatagramTest, SendtoWithoutConnectAndReplyToSender) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = open_socket(server_end);  // unix-dgram: auto-bound so it can get replies
  ASSERT_GE(client, 0);
  const char ping[] = "ping";
  Recorder sent;
  ASSERT_EQ(loop.sendto(sent.op, client, ping, 4, &server_end, Recorder::callback, &sent), 0);
  Datagram request;
  ASSERT_EQ(request.receive(loop, server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal && request.done; }));
  ASSERT_EQ(request.result, 4);
  EXPECT_EQ(request.peer.transport, server_end.transport);
  Endpoint client_end = bound_endpoint(client, server_end);
  ASSERT_EQ(request.peer.length, client_end.length);
  if (is_unix()) {
    EXPECT_EQ(memcmp(&request.peer.storage, &client_end.storage, client_end.length), 0);
  } else {
    // The unconnected client is bound to the wildcard address; the port is what identifies it.
    auto port = [](const Endpoint& e) {
      return e.family() == AF_INET ? reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_port
                                   : reinterpret_cast<const sockaddr_in6*>(&e.storage)->sin6_port;
    };
    EXPECT_EQ(port(request.peer), port(client_end));
  }
  // Reply to the address recvfrom reported.
  Recorder replied;
  Datagram reply;
  ASSERT_EQ(loop.sendto(replied.op, server, "pong", 4, &request.peer, Recorder::callback, &replied), 0);
  ASSERT_EQ(reply.receive(loop, client), 0);
  ASSERT_TRUE(run_until(loop, [&] { return replied.terminal && reply.done; }));
  EXPECT_EQ(reply.result, 4);
  EXPECT_EQ(memcmp(reply.buffer.data(), "pong", 4), 0);
  ::close(client);
  ::close(server);
}

TEST_P(DatagramTest, ConnectFiltersOtherSenders) {
  Endpoint server_end, stranger_end;
  int server = bind_server(server_end);
  int stranger = bind_server(stranger_end);
  int client = connect_datagram(server_end);
  ASSERT_GE(client, 0);
  Endpoint client_end = bound_endpoint(client, server_end);
  // The stranger's datagram must not reach the connected client; the server's must.
  int rc = int(::sendto(stranger, "x", 1, 0, client_end.address(), client_end.length));
  if (is_unix()) {
    EXPECT_EQ(rc, -1);  // a connected UNIX datagram socket refuses other senders outright
    EXPECT_EQ(errno, EPERM);
  } else {
    EXPECT_EQ(rc, 1);
  }
  ASSERT_EQ(::sendto(server, "y", 1, 0, client_end.address(), client_end.length), 1);
  Datagram got;
  ASSERT_EQ(got.receive(loop, client), 0);
  ASSERT_TRUE(run_until(loop, [&] { return got.done; }));
  ASSERT_EQ(got.result, 1);
  EXPECT_EQ(got.buffer[0], 'y');
  char extra;
  EXPECT_EQ(::recv(client, &extra, 1, MSG_DONTWAIT), -1) << "the stranger's datagram got through";
  ::close(client);
  ::close(stranger);
  ::close(server);
}

TEST_P(DatagramTest, BindToChosenLocalAddressBeforeConnect) {
  Endpoint server_end, local_end;
  int server = bind_server(server_end);
  int probe = bind_server(local_end);  // find a free local address, then release it
  ::close(probe);
  if (family() == Family::unix_path) ::unlink(reinterpret_cast<sockaddr_un*>(&local_end.storage)->sun_path);
  int client = connect_datagram(server_end, &local_end);
  ASSERT_GE(client, 0) << strerror(-client);
  Recorder sent;
  ASSERT_EQ(loop.send(sent.op, client, "z", 1, Recorder::callback, &sent), 0);
  Datagram got;
  ASSERT_EQ(got.receive(loop, server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal && got.done; }));
  ASSERT_EQ(got.peer.length, local_end.length);
  EXPECT_EQ(memcmp(&got.peer.storage, &local_end.storage, local_end.length), 0);
  ::close(client);
  ::close(server);
}

TEST_P(DatagramTest, MultishotRecvfromReportsEachSender) {
  if (!loop.capabilities().multishot_recv && loop.backend() == BackendKind::uring) {
    GTEST_SKIP() << "kernel lacks multishot recvmsg";
  }
  Endpoint server_end;
  int server = bind_server(server_end);
  int a = connect_datagram(server_end);
  int b = connect_datagram(server_end);
  Recorder receiver;
  std::vector<Endpoint> peers;
  struct Ctx {
    Recorder* recorder;
    std::vector<Endpoint>* peers;
    Transport transport;
  } ctx{&receiver, &peers, server_end.transport};
  auto cb = [](Loop& l, Operation& op, const Completion& c) {
    auto* x = static_cast<Ctx*>(op.user_data);
    if (c.has_buffer) {
      Endpoint e;
      EXPECT_EQ(endpoint_from_sockaddr(c.peer, c.peer_length, x->transport, e), 0);
      x->peers->push_back(e);
    }
    op.user_data = x->recorder;
    Recorder::callback(l, op, c);
    op.user_data = x;
  };
  ASSERT_EQ(loop.recvfrom_multishot(receiver.op, server, cb, &ctx), 0);
  ASSERT_EQ(::send(a, "aa", 2, 0), 2);
  ASSERT_EQ(::send(b, "bbb", 3, 0), 3);
  ASSERT_EQ(::send(a, "", 0, 0), 0);  // an empty datagram is a datagram too
  ASSERT_TRUE(run_until(loop, [&] { return receiver.payloads.size() >= 3; }));
  EXPECT_EQ(receiver.payloads[0], (std::vector<uint8_t>{'a', 'a'}));
  EXPECT_EQ(receiver.payloads[1], (std::vector<uint8_t>{'b', 'b', 'b'}));
  EXPECT_TRUE(receiver.payloads[2].empty());
  Endpoint a_end = bound_endpoint(a, server_end), b_end = bound_endpoint(b, server_end);
  EXPECT_EQ(memcmp(&peers[0].storage, &a_end.storage, a_end.length), 0);
  EXPECT_EQ(memcmp(&peers[1].storage, &b_end.storage, b_end.length), 0);
  ASSERT_EQ(loop.cancel(receiver.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return receiver.terminal; }));
  EXPECT_EQ(receiver.terminal_count, 1);
  EXPECT_EQ(receiver.completions.back().result, -ECANCELED);
  ::close(a);
  ::close(b);
  ::close(server);
}

// A datagram longer than a pool buffer's payload space: cut to that space
// and marked truncated; the sender is still reported and the next datagram
// comes whole.
TEST_P(DatagramTest, MultishotRecvfromTruncatesOversizedDatagramAndSaysSo) {
  if (!loop.capabilities().multishot_recv && loop.backend() == BackendKind::uring) {
    GTEST_SKIP() << "kernel lacks multishot recvmsg";
  }
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  ASSERT_GE(client, 0) << strerror(-client);
  struct Got {
    std::vector<std::vector<uint8_t>> payloads;
    std::vector<bool> truncated;
    std::vector<socklen_t> peer_lengths;
  } got;
  auto cb = [](Loop& l, Operation& op, const Completion& c) {
    auto* g = static_cast<Got*>(op.user_data);
    if (!c.has_buffer) return;
    g->payloads.emplace_back(c.data, c.data + c.result);
    g->truncated.push_back(c.truncated);
    g->peer_lengths.push_back(c.peer_length);
    l.release_buffer(c.buffer_id);
  };
  Operation receiver;
  ASSERT_EQ(loop.recvfrom_multishot(receiver, server, cb, &got), 0);
  const size_t room = loop.buffer_size() - kRecvfromMultishotHeaderBytes;
  std::vector<uint8_t> big(room + 100);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7);
  ASSERT_EQ(::send(client, big.data(), big.size(), 0), ssize_t(big.size()));
  ASSERT_EQ(::send(client, "ok", 2, 0), 2);
  ASSERT_TRUE(run_until(loop, [&] { return got.payloads.size() >= 2; }));
  EXPECT_EQ(got.payloads[0], std::vector<uint8_t>(big.begin(), big.begin() + ptrdiff_t(room)));
  EXPECT_TRUE(got.truncated[0]);
  EXPECT_EQ(got.payloads[1], (std::vector<uint8_t>{'o', 'k'}));
  EXPECT_FALSE(got.truncated[1]);
  Endpoint local_end = bound_endpoint(client, server_end);
  if (!is_unix()) {  // an unbound UNIX datagram client has no name to report
    EXPECT_EQ(got.peer_lengths[0], local_end.length);
    EXPECT_EQ(got.peer_lengths[1], local_end.length);
  }
  ASSERT_EQ(loop.cancel(receiver), 0);
  ASSERT_TRUE(run_until(loop, [&] { return !receiver.in_flight(); }));
  ::close(client);
  ::close(server);
}

TEST_P(DatagramTest, OversizedDatagramIsTruncatedAndSaysSo) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  std::vector<uint8_t> big(3000, 0xab);
  ASSERT_EQ(::send(client, big.data(), big.size(), 0), ssize_t(big.size()));
  Datagram got;
  got.buffer.resize(100);
  ASSERT_EQ(got.receive(loop, server), 0);
  ASSERT_TRUE(run_until(loop, [&] { return got.done; }));
  EXPECT_EQ(got.result, 100);
  EXPECT_TRUE(got.truncated);
  ::close(client);
  ::close(server);
}

TEST_P(DatagramTest, DatagramLargerThanSocketLimitIsEmsgsize) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  ASSERT_EQ(set_buffer_sizes(client, 4096, 0), 0);
  std::vector<uint8_t> huge(is_unix() ? 300000 : 70000);  // above the UDP maximum / UNIX sndbuf
  Recorder sent;
  ASSERT_EQ(loop.send(sent.op, client, huge.data(), huge.size(), Recorder::callback, &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), -EMSGSIZE);
  ::close(client);
  ::close(server);
}

TEST_P(DatagramTest, ConnectedUdpSeesRefusedAfterIcmp) {
  if (is_unix()) {
    // UNIX: the peer's socket goes away; sending fails at once.
    Endpoint server_end;
    int server = bind_server(server_end);
    int client = connect_datagram(server_end);
    ::close(server);
    Recorder sent;
    ASSERT_EQ(loop.send(sent.op, client, "x", 1, Recorder::callback, &sent), 0);
    ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
    EXPECT_EQ(sent.result(), -ECONNREFUSED);
    ::close(client);
    return;
  }
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  ::close(server);  // port unreachable from now on
  Recorder sent;
  Datagram got;
  ASSERT_EQ(loop.send(sent.op, client, "x", 1, Recorder::callback, &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), 1);
  ASSERT_EQ(got.receive(loop, client), 0);  // the ICMP error arrives as the receive's result
  ASSERT_TRUE(run_until(loop, [&] { return got.done; }));
  EXPECT_EQ(got.result, -ECONNREFUSED);
  ::close(client);
}

// More datagrams in flight than a UNIX datagram queue holds
// (net.unix.max_dgram_qlen, 10 by default): senders must wait, and every
// datagram must arrive whole. Linux 6.18's IORING_OP_SEND sends empty
// datagrams here, and sendmsg answers -EAGAIN; the engine hides both.
TEST_P(DatagramTest, BurstBeyondTheReceiveQueueArrivesWhole) {
  Endpoint server_end;
  int server = bind_server(server_end);
  // UDP may drop when its buffer is full: give it room for the whole burst.
  if (!is_unix()) {
    ASSERT_EQ(set_buffer_sizes(server, 0, 1 << 20), 0);
  }
  int client = connect_datagram(server_end);
  ASSERT_GE(client, 0);
  constexpr int kEach = 32;
  constexpr size_t kBytes = 64;
  std::vector<std::array<uint8_t, kBytes>> payloads(2 * kEach);
  std::vector<Recorder> sends(2 * kEach);
  for (int i = 0; i < 2 * kEach; ++i) {
    payloads[i].fill(uint8_t(i + 1));
    int rc = i < kEach ? loop.send(sends[i].op, client, payloads[i].data(), kBytes,
                                   Recorder::callback, &sends[i])
                       : loop.sendto(sends[i].op, client, payloads[i].data(), kBytes, nullptr,
                                     Recorder::callback, &sends[i]);
    ASSERT_EQ(rc, 0);
  }
  std::vector<std::vector<uint8_t>> received;
  ASSERT_TRUE(run_until(loop, [&] {
    uint8_t buffer[256];
    ssize_t n;
    while ((n = ::recv(server, buffer, sizeof(buffer), MSG_DONTWAIT)) >= 0) {
      received.emplace_back(buffer, buffer + n);
    }
    for (Recorder& r : sends) {
      if (!r.terminal) return false;
    }
    return received.size() >= sends.size();
  }));
  for (size_t i = 0; i < sends.size(); ++i) EXPECT_EQ(sends[i].result(), int(kBytes)) << "send " << i;
  ASSERT_EQ(received.size(), sends.size());
  for (const auto& d : received) {
    ASSERT_EQ(d.size(), kBytes) << "an empty or short datagram went out";
  }
  ::close(client);
  ::close(server);
}

// Behaviour of UNIX datagram sockets only (UDP never waits for its receiver,
// and only UNIX datagram sends bypass the ring).
class UnixDatagramTest : public DatagramTest {};

// An unconnected UNIX datagram sender cannot wait for a full receiver (poll
// reports only its own buffer): the send must end with -EAGAIN, not spin.
TEST_P(UnixDatagramTest, UnconnectedSendtoToAFullReceiverEndsWithEagain) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = open_socket(server_end);
  ASSERT_GE(client, 0);
  char byte = 1;
  while (::sendto(client, &byte, 1, MSG_DONTWAIT, server_end.address(), server_end.length) == 1) {
  }
  ASSERT_EQ(errno, EAGAIN);
  Recorder sent;
  ASSERT_EQ(loop.sendto(sent.op, client, &byte, 1, &server_end, Recorder::callback, &sent), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sent.terminal; }));
  EXPECT_EQ(sent.result(), -EAGAIN);
  ::close(client);
  ::close(server);
}

// The fd number of a UNIX datagram socket closed with ::close comes back as a
// stream socket: a send on it must still go out whole.
// A cancel (here from a close) that arrives while a send waits for room must
// end the send, even when the room arrives in the same turn as the cancel.
TEST_P(UnixDatagramTest, CloseWhileASendWaitsForRoomEndsTheSend) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  char byte = 1;
  while (::send(client, &byte, 1, MSG_DONTWAIT) == 1) {
  }
  Recorder sent, closed;
  ASSERT_EQ(loop.send(sent.op, client, &byte, 1, Recorder::callback, &sent), 0);
  for (int i = 0; i < 3; ++i) loop.run(RunMode::no_wait);  // the send now waits for room
  ASSERT_FALSE(sent.terminal);
  while (::recv(server, &byte, 1, MSG_DONTWAIT) == 1) {  // room: the wait ends next turn
  }
  struct Ctx {
    int client;
    Recorder* closed;
  } ctx{client, &closed};
  Operation nop;
  auto refill_and_close = [](Loop& l, Operation& op, const Completion&) {
    auto* c = static_cast<Ctx*>(op.user_data);
    char b = 2;
    while (::send(c->client, &b, 1, MSG_DONTWAIT) == 1) {
    }
    EXPECT_EQ(l.close(c->closed->op, c->client, Recorder::callback, c->closed), 0);
  };
  ASSERT_EQ(loop.nop(nop, refill_and_close, &ctx), 0);
  ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }));
  EXPECT_EQ(closed.result(), 0);
  EXPECT_EQ(sent.terminal_count, 1);
  EXPECT_TRUE(sent.result() == -ECANCELED || sent.result() == 1) << sent.result();
  ::close(server);
}

TEST_P(UnixDatagramTest, ReusedFdNumberSendsAsWhatItIsNow) {
  Endpoint server_end;
  int server = bind_server(server_end);
  int client = connect_datagram(server_end);
  Recorder first;
  ASSERT_EQ(loop.send(first.op, client, "x", 1, Recorder::callback, &first), 0);
  ASSERT_TRUE(run_until(loop, [&] { return first.terminal; }));
  ::close(client);  // behind the loop's back
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_EQ(sv[0], client) << "the kernel reuses the lowest free number";
  std::vector<uint8_t> big(8 << 20, 0x5a);
  Recorder sent;
  ASSERT_EQ(loop.send(sent.op, sv[0], big.data(), big.size(), Recorder::callback, &sent), 0);
  size_t drained = 0;
  ASSERT_TRUE(run_until(loop, [&] {
    uint8_t sink[65536];
    ssize_t n;
    while ((n = ::recv(sv[1], sink, sizeof(sink), MSG_DONTWAIT)) > 0) drained += size_t(n);
    return sent.terminal && drained == big.size();
  }));
  EXPECT_EQ(sent.result(), int(big.size()));
  ::close(sv[0]);
  ::close(sv[1]);
  ::close(server);
}

INSTANTIATE_TEST_SUITE_P(Sockets, DatagramTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(all_families())),
                         socket_param_name);
INSTANTIATE_TEST_SUITE_P(Sockets, UnixDatagramTest,
                         testing::Combine(testing::ValuesIn(all_backends()),
                                          testing::ValuesIn(unix_families())),
                         socket_param_name);

}  // namespace
}  // namespace rstest
