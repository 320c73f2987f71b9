// Socket set-up helpers against the real kernel: loopback and UNIX sockets only.
// Waits use poll(2) with a generous safety bound, never a timing assertion.
#include "ringsock/socket.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace ringsock {
namespace {

constexpr int kSafetyWaitMs = 10000;  // only bounds a hang; the event is expected at once
constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);

// Owns one descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// A private directory for socket files, emptied and removed afterwards.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/ringsock-socket-test-XXXXXX";
    if (::mkdtemp(pattern) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (path_.empty()) return;
    if (DIR* dir = ::opendir(path_.c_str())) {
      while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") ::unlink((path_ + "/" + name).c_str());
      }
      ::closedir(dir);
    }
    ::rmdir(path_.c_str());
  }
  bool ok() const { return !path_.empty(); }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

int count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

Endpoint parse(std::string_view url) {
  Endpoint endpoint;
  ParseResult result = parse_endpoint(url, endpoint);
  EXPECT_EQ(result.error, 0) << url << ": " << result.message;
  return endpoint;
}

std::string abstract_url(std::string_view scheme, std::string_view tag) {
  return std::string(scheme) + "://@ringsock-test-" + std::to_string(::getpid()) + "-" +
         std::string(tag);
}

bool same_endpoint(const Endpoint& a, const Endpoint& b) {
  return a.transport == b.transport && a.length == b.length &&
         std::memcmp(&a.storage, &b.storage, sizeof a.storage) == 0;
}

uint16_t port_of(const Endpoint& endpoint) {
  if (endpoint.family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&endpoint.storage)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&endpoint.storage)->sin6_port);
}

int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  if (::getsockopt(fd, level, name, &value, &length) != 0) return -errno;
  return value;
}

void expect_nonblocking_cloexec(int fd) {
  EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
}

bool wait_readable(int fd) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, kSafetyWaitMs) == 1 && (entry.revents & POLLIN) != 0;
}

// A plain blocking client connects to `listener` at `endpoint`; the listener accepts it.
void expect_connect_and_accept(int listener, const Endpoint& endpoint) {
  Fd client(::socket(endpoint.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_GE(client.get(), 0) << std::strerror(errno);
  ASSERT_EQ(::connect(client.get(), endpoint.address(), endpoint.length), 0)
      << std::strerror(errno);
  ASSERT_TRUE(wait_readable(listener));
  Fd accepted(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_GE(accepted.get(), 0) << std::strerror(errno);
}

// True if this machine can bind [::1]; tests needing IPv6 skip otherwise.
bool ipv6_loopback_available() {
  Fd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  return ::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

// Leaves a socket file at `path` with nobody listening, as a crashed server would.
bool make_stale_socket_file(const std::string& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  return fd.get() >= 0 &&
         ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

// ---------------------------------------------------------------- listen_on

TEST(ListenOn, TcpIpv4LearnsPortAndAccepts) {
  Fd listener(listen_on(parse("tcp://127.0.0.1:0")));
  ASSERT_GE(listener.get(), 0) << std::strerror(-listener.get());
  expect_nonblocking_cloexec(listener.get());
  EXPECT_EQ(int_option(listener.get(), SOL_SOCKET, SO_ACCEPTCONN), 1);
  EXPECT_EQ(int_option(listener.get(), SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  EXPECT_NE(int_option(listener.get(), SOL_SOCKET, SO_REUSEADDR), 0);

  Endpoint bound;
  ASSERT_EQ(local_endpoint(listener.get(), Transport::tcp, bound), 0);
  EXPECT_EQ(bound.family(), AF_INET);
  EXPECT_EQ(bound.length, sizeof(sockaddr_in));
  EXPECT_NE(port_of(bound), 0);
  char text[kEndpointUrlMax];
  ASSERT_GT(format_endpoint(bound, text, sizeof text), 0);
  EXPECT_EQ(std::string(text), "tcp://127.0.0.1:" + std::to_string(port_of(bound)));
  expect_connect_and_accept(listener.get(), bound);
}

TEST(ListenOn, TcpWithoutReuseAddress) {
  ListenOptions options;
  options.reuse_address = false;
  Fd listener(listen_on(parse("tcp://127.0.0.1:0"), options));
  ASSERT_GE(listener.get(), 0);
  EXPECT_EQ(int_option(listener.get(), SOL_SOCKET, SO_REUSEADDR), 0);
}

TEST(ListenOn, TcpIpv6Loopback) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "::1 is not available";
  Fd listener(listen_on(parse("tcp://[::1]:0")));
  ASSERT_GE(listener.get(), 0) << std::strerror(-listener.get());
  Endpoint bound;
  ASSERT_EQ(local_endpoint(listener.get(), Transport::tcp, bound), 0);
  EXPECT_EQ(bound.family(), AF_INET6);
  EXPECT_EQ(bound.length, sizeof(sockaddr_in6));
  EXPECT_NE(port_of(bound), 0);
  expect_connect_and_accept(listener.get(), bound);
}

TEST(ListenOn, Ipv6OnlyFollowsTheOption) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "IPv6 is not available";
  ListenOptions options;
  options.ipv6_only = true;
  Fd only(listen_on(parse("tcp://[::]:0"), options));
  ASSERT_GE(only.get(), 0);
  EXPECT_EQ(int_option(only.get(), IPPROTO_IPV6, IPV6_V6ONLY), 1);
  options.ipv6_only = false;
  Fd dual(listen_on(parse("tcp://[::]:0"), options));
  ASSERT_GE(dual.get(), 0);
  EXPECT_EQ(int_option(dual.get(), IPPROTO_IPV6, IPV6_V6ONLY), 0);
}

TEST(ListenOn, UnixPath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Endpoint endpoint = parse("unix://" + dir.file("stream.sock"));
  Fd listener(listen_on(endpoint));
  ASSERT_GE(listener.get(), 0) << std::strerror(-listener.get());
  expect_nonblocking_cloexec(listener.get());
  struct stat status {};
  ASSERT_EQ(::stat(dir.file("stream.sock").c_str(), &status), 0);
  EXPECT_TRUE(S_ISSOCK(status.st_mode));
  Endpoint bound;
  ASSERT_EQ(local_endpoint(listener.get(), Transport::unix_stream, bound), 0);
  EXPECT_TRUE(same_endpoint(bound, endpoint));
  expect_connect_and_accept(listener.get(), endpoint);
}

TEST(ListenOn, UnixAbstract) {
  Endpoint endpoint = parse(abstract_url("unix", "listen"));
  Fd listener(listen_on(endpoint));
  ASSERT_GE(listener.get(), 0) << std::strerror(-listener.get());
  Endpoint bound;
  ASSERT_EQ(local_endpoint(listener.get(), Transport::unix_stream, bound), 0);
  EXPECT_TRUE(same_endpoint(bound, endpoint));
  expect_connect_and_accept(listener.get(), endpoint);
}

TEST(ListenOn, ReusePortAllowsASecondListener) {
  ListenOptions options;
  options.reuse_port = true;
  Fd first(listen_on(parse("tcp://127.0.0.1:0"), options));
  ASSERT_GE(first.get(), 0);
  EXPECT_NE(int_option(first.get(), SOL_SOCKET, SO_REUSEPORT), 0);
  Endpoint bound;
  ASSERT_EQ(local_endpoint(first.get(), Transport::tcp, bound), 0);
  Fd second(listen_on(bound, options));
  EXPECT_GE(second.get(), 0) << std::strerror(-second.get());
}

TEST(ListenOn, AddressInUseLeaksNothing) {
  Fd tcp(listen_on(parse("tcp://127.0.0.1:0")));
  ASSERT_GE(tcp.get(), 0);
  Endpoint tcp_bound;
  ASSERT_EQ(local_endpoint(tcp.get(), Transport::tcp, tcp_bound), 0);

  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Endpoint path = parse("unix://" + dir.file("busy.sock"));
  Fd unix_path(listen_on(path));
  ASSERT_GE(unix_path.get(), 0);
  Endpoint abstract = parse(abstract_url("unix", "busy"));
  Fd unix_abstract(listen_on(abstract));
  ASSERT_GE(unix_abstract.get(), 0);

  const int before = count_open_fds();
  ASSERT_GT(before, 0);
  EXPECT_EQ(listen_on(tcp_bound), -EADDRINUSE);
  EXPECT_EQ(listen_on(path), -EADDRINUSE);
  EXPECT_EQ(listen_on(abstract), -EADDRINUSE);
  EXPECT_EQ(count_open_fds(), before);
}

TEST(ListenOn, FailedBindKeepsItsErrno) {
  const int before = count_open_fds();
  EXPECT_EQ(listen_on(parse("unix:///nonexistent-ringsock-dir/x.sock")), -ENOENT);
  EXPECT_EQ(count_open_fds(), before);
}

TEST(ListenOn, UnlinkExistingReplacesAStaleSocket) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string path = dir.file("stale.sock");
  ASSERT_TRUE(make_stale_socket_file(path));
  Endpoint endpoint = parse("unix://" + path);
  EXPECT_EQ(listen_on(endpoint), -EADDRINUSE);  // not asked to unlink: left alone

  ListenOptions options;
  options.unlink_existing = true;
  Fd listener(listen_on(endpoint, options));
  ASSERT_GE(listener.get(), 0) << std::strerror(-listener.get());
  expect_connect_and_accept(listener.get(), endpoint);
}

TEST(ListenOn, UnlinkExistingRefusesToRemoveOtherFiles) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string regular = dir.file("data.txt");
  Fd file(::open(regular.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  ASSERT_GE(file.get(), 0);
  std::string link = dir.file("link.sock");
  std::string stale = dir.file("target.sock");
  ASSERT_TRUE(make_stale_socket_file(stale));
  ASSERT_EQ(::symlink(stale.c_str(), link.c_str()), 0);

  ListenOptions options;
  options.unlink_existing = true;
  const int before = count_open_fds();
  EXPECT_EQ(listen_on(parse("unix://" + regular), options), -EADDRINUSE);
  EXPECT_EQ(listen_on(parse("unix://" + link), options), -EADDRINUSE);
  EXPECT_EQ(count_open_fds(), before);
  struct stat status {};
  ASSERT_EQ(::stat(regular.c_str(), &status), 0);
  EXPECT_TRUE(S_ISREG(status.st_mode));
  ASSERT_EQ(::lstat(link.c_str(), &status), 0);
  EXPECT_TRUE(S_ISLNK(status.st_mode));
}

// ---------------------------------------------------------------- wrong kinds, empty endpoints

TEST(SocketHelpers, WrongTransportKind) {
  const int before = count_open_fds();
  Endpoint udp = parse("udp://127.0.0.1:0");
  Endpoint tcp = parse("tcp://127.0.0.1:0");
  EXPECT_EQ(listen_on(udp), -EPROTOTYPE);
  EXPECT_EQ(listen_on(parse(abstract_url("unix-dgram", "kind"))), -EPROTOTYPE);
  EXPECT_EQ(bind_datagram(tcp), -EPROTOTYPE);
  EXPECT_EQ(bind_datagram(parse(abstract_url("unix", "kind"))), -EPROTOTYPE);
  EXPECT_EQ(connect_datagram(tcp), -EPROTOTYPE);
  EXPECT_EQ(connect_datagram(udp, &tcp), -EPROTOTYPE);
  Endpoint udp6 = parse("udp://[::1]:0");
  EXPECT_EQ(connect_datagram(udp, &udp6), -EINVAL);
  EXPECT_EQ(count_open_fds(), before);
}

TEST(SocketHelpers, EmptyOrInconsistentEndpoint) {
  const int before = count_open_fds();
  Endpoint empty;
  EXPECT_EQ(listen_on(empty), -EINVAL);
  EXPECT_EQ(open_socket(empty), -EINVAL);
  EXPECT_EQ(bind_datagram(empty), -EINVAL);
  EXPECT_EQ(connect_datagram(empty), -EINVAL);
  Endpoint udp = parse("udp://127.0.0.1:9");
  EXPECT_EQ(connect_datagram(udp, &empty), -EINVAL);

  Endpoint mismatch = parse("unix:///tmp/x.sock");
  mismatch.transport = Transport::tcp;
  EXPECT_EQ(listen_on(mismatch), -EINVAL);
  EXPECT_EQ(open_socket(mismatch), -EINVAL);
  EXPECT_EQ(count_open_fds(), before);
}

// ---------------------------------------------------------------- open_socket

TEST(OpenSocket, StreamAndDatagramAreUnbound) {
  Fd tcp(open_socket(parse("tcp://127.0.0.1:80")));
  ASSERT_GE(tcp.get(), 0);
  expect_nonblocking_cloexec(tcp.get());
  EXPECT_EQ(int_option(tcp.get(), SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  Endpoint bound;
  ASSERT_EQ(local_endpoint(tcp.get(), Transport::tcp, bound), 0);
  EXPECT_EQ(port_of(bound), 0);

  Fd udp(open_socket(parse("udp://127.0.0.1:53")));
  ASSERT_GE(udp.get(), 0);
  EXPECT_EQ(int_option(udp.get(), SOL_SOCKET, SO_TYPE), SOCK_DGRAM);

  Fd stream(open_socket(parse("unix:///tmp/whatever.sock")));
  ASSERT_GE(stream.get(), 0);
  ASSERT_EQ(local_endpoint(stream.get(), Transport::unix_stream, bound), 0);
  EXPECT_EQ(bound.length, sizeof(sa_family_t));  // streams are not auto-bound
}

TEST(OpenSocket, UnixDatagramIsAutoBound) {
  Fd fd(open_socket(parse("unix-dgram:///tmp/peer.sock")));
  ASSERT_GE(fd.get(), 0);
  expect_nonblocking_cloexec(fd.get());
  Endpoint bound;
  ASSERT_EQ(local_endpoint(fd.get(), Transport::unix_dgram, bound), 0);
  EXPECT_EQ(bound.family(), AF_UNIX);
  ASSERT_GT(bound.length, kPathOffset + 1);
  EXPECT_EQ(reinterpret_cast<const sockaddr_un*>(&bound.storage)->sun_path[0], '\0');
  char text[kEndpointUrlMax];
  int size = format_endpoint(bound, text, sizeof text);
  ASSERT_GT(size, 0);
  EXPECT_EQ(std::string_view(text).substr(0, 14), "unix-dgram://@");
}

// ---------------------------------------------------------------- datagrams

TEST(BindDatagram, UdpAndReusePort) {
  Fd first(bind_datagram(parse("udp://127.0.0.1:0"), true));
  ASSERT_GE(first.get(), 0);
  expect_nonblocking_cloexec(first.get());
  Endpoint bound;
  ASSERT_EQ(local_endpoint(first.get(), Transport::udp, bound), 0);
  EXPECT_NE(port_of(bound), 0);
  Fd second(bind_datagram(bound, true));
  EXPECT_GE(second.get(), 0) << std::strerror(-second.get());
}

TEST(BindDatagram, AddressInUseLeaksNothing) {
  Fd first(bind_datagram(parse("udp://127.0.0.1:0")));
  ASSERT_GE(first.get(), 0);
  Endpoint bound;
  ASSERT_EQ(local_endpoint(first.get(), Transport::udp, bound), 0);
  const int before = count_open_fds();
  EXPECT_EQ(bind_datagram(bound), -EADDRINUSE);
  EXPECT_EQ(count_open_fds(), before);
}

TEST(BindDatagram, UnixPath) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Endpoint endpoint = parse("unix-dgram://" + dir.file("dgram.sock"));
  Fd fd(bind_datagram(endpoint));
  ASSERT_GE(fd.get(), 0) << std::strerror(-fd.get());
  Endpoint bound;
  ASSERT_EQ(local_endpoint(fd.get(), Transport::unix_dgram, bound), 0);
  EXPECT_TRUE(same_endpoint(bound, endpoint));
}

TEST(ConnectDatagram, UdpFiltersOtherSenders) {
  Fd server(bind_datagram(parse("udp://127.0.0.1:0")));
  ASSERT_GE(server.get(), 0);
  Endpoint server_address;
  ASSERT_EQ(local_endpoint(server.get(), Transport::udp, server_address), 0);
  Fd client(connect_datagram(server_address));
  ASSERT_GE(client.get(), 0) << std::strerror(-client.get());
  expect_nonblocking_cloexec(client.get());
  Endpoint client_address;
  ASSERT_EQ(local_endpoint(client.get(), Transport::udp, client_address), 0);
  EXPECT_NE(port_of(client_address), 0);

  // The intruder writes first, so had it been accepted it would be read first.
  Fd intruder(bind_datagram(parse("udp://127.0.0.1:0")));
  ASSERT_GE(intruder.get(), 0);
  ASSERT_EQ(::sendto(intruder.get(), "intruder", 8, 0, client_address.address(),
                     client_address.length),
            8);
  ASSERT_EQ(::sendto(server.get(), "hello", 5, 0, client_address.address(), client_address.length),
            5);
  ASSERT_TRUE(wait_readable(client.get()));
  char buffer[32];
  ASSERT_EQ(::recv(client.get(), buffer, sizeof buffer, 0), 5);
  EXPECT_EQ(std::string_view(buffer, 5), "hello");
  EXPECT_EQ(::recv(client.get(), buffer, sizeof buffer, 0), -1);
  EXPECT_EQ(errno, EAGAIN);

  // send without an address reaches the peer, from the address local_endpoint reported.
  ASSERT_EQ(::send(client.get(), "ping", 4, 0), 4);
  ASSERT_TRUE(wait_readable(server.get()));
  sockaddr_storage from{};
  socklen_t from_length = sizeof from;
  ASSERT_EQ(::recvfrom(server.get(), buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from),
                       &from_length),
            4);
  Endpoint sender;
  ASSERT_EQ(endpoint_from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_length,
                                   Transport::udp, sender),
            0);
  EXPECT_TRUE(same_endpoint(sender, client_address));
}

TEST(ConnectDatagram, UdpWithChosenLocalAddress) {
  Fd server(bind_datagram(parse("udp://127.0.0.1:0")));
  ASSERT_GE(server.get(), 0);
  Endpoint server_address;
  ASSERT_EQ(local_endpoint(server.get(), Transport::udp, server_address), 0);
  Endpoint local = parse("udp://127.0.0.1:0");
  Fd client(connect_datagram(server_address, &local));
  ASSERT_GE(client.get(), 0);
  Endpoint bound;
  ASSERT_EQ(local_endpoint(client.get(), Transport::udp, bound), 0);
  EXPECT_EQ(reinterpret_cast<const sockaddr_in*>(&bound.storage)->sin_addr.s_addr,
            htonl(INADDR_LOOPBACK));
  EXPECT_NE(port_of(bound), 0);

  const int before = count_open_fds();  // the chosen local port is now taken
  EXPECT_EQ(connect_datagram(server_address, &bound), -EADDRINUSE);
  EXPECT_EQ(count_open_fds(), before);
}

TEST(ConnectDatagram, UnixAutoBindsAndFilters) {
  Endpoint server_address = parse(abstract_url("unix-dgram", "server"));
  Fd server(bind_datagram(server_address));
  ASSERT_GE(server.get(), 0) << std::strerror(-server.get());
  Fd client(connect_datagram(server_address));
  ASSERT_GE(client.get(), 0) << std::strerror(-client.get());
  Endpoint client_address;
  ASSERT_EQ(local_endpoint(client.get(), Transport::unix_dgram, client_address), 0);
  ASSERT_GT(client_address.length, kPathOffset + 1);  // auto-bound abstract name

  ASSERT_EQ(::send(client.get(), "ping", 4, 0), 4);
  ASSERT_TRUE(wait_readable(server.get()));
  char buffer[32];
  sockaddr_storage from{};
  socklen_t from_length = sizeof from;
  ASSERT_EQ(::recvfrom(server.get(), buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from),
                       &from_length),
            4);
  Endpoint sender;
  ASSERT_EQ(endpoint_from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_length,
                                   Transport::unix_dgram, sender),
            0);
  EXPECT_TRUE(same_endpoint(sender, client_address));
  ASSERT_EQ(::sendto(server.get(), "pong", 4, 0, sender.address(), sender.length), 4);
  ASSERT_TRUE(wait_readable(client.get()));
  ASSERT_EQ(::recv(client.get(), buffer, sizeof buffer, 0), 4);
  EXPECT_EQ(std::string_view(buffer, 4), "pong");

  // A connected UNIX datagram socket refuses other senders outright.
  Fd intruder(open_socket(server_address));
  ASSERT_GE(intruder.get(), 0);
  EXPECT_EQ(::sendto(intruder.get(), "x", 1, 0, client_address.address(), client_address.length),
            -1);
  EXPECT_EQ(errno, EPERM);
}

TEST(ConnectDatagram, UnixPeerMissing) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const int before = count_open_fds();
  EXPECT_EQ(connect_datagram(parse("unix-dgram://" + dir.file("nobody.sock"))), -ENOENT);
  EXPECT_EQ(count_open_fds(), before);
}

// ---------------------------------------------------------------- option setters

TEST(SocketOptions, SettersOnATcpSocket) {
  Fd fd(open_socket(parse("tcp://127.0.0.1:1")));
  ASSERT_GE(fd.get(), 0);
  EXPECT_EQ(set_nodelay(fd.get(), true), 0);
  EXPECT_NE(int_option(fd.get(), IPPROTO_TCP, TCP_NODELAY), 0);
  EXPECT_EQ(set_nodelay(fd.get(), false), 0);
  EXPECT_EQ(int_option(fd.get(), IPPROTO_TCP, TCP_NODELAY), 0);

  // Linux doubles the requested size for bookkeeping (socket(7)).
  EXPECT_EQ(set_buffer_sizes(fd.get(), 8192, 16384), 0);
  EXPECT_EQ(int_option(fd.get(), SOL_SOCKET, SO_SNDBUF), 2 * 8192);
  EXPECT_EQ(int_option(fd.get(), SOL_SOCKET, SO_RCVBUF), 2 * 16384);
  EXPECT_EQ(set_buffer_sizes(fd.get(), 0, -1), 0);  // both left alone
  EXPECT_EQ(int_option(fd.get(), SOL_SOCKET, SO_SNDBUF), 2 * 8192);
  EXPECT_EQ(int_option(fd.get(), SOL_SOCKET, SO_RCVBUF), 2 * 16384);

  EXPECT_EQ(set_linger_reset(fd.get()), 0);
  linger value{};
  socklen_t length = sizeof value;
  ASSERT_EQ(::getsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &value, &length), 0);
  EXPECT_EQ(value.l_onoff, 1);
  EXPECT_EQ(value.l_linger, 0);
}

TEST(SocketOptions, BadDescriptors) {
  Fd closed_probe(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_GE(closed_probe.get(), 0);
  int closed = ::dup(closed_probe.get());
  ASSERT_GE(closed, 0);
  ::close(closed);  // a number that is no longer open
  Endpoint out;
  for (int fd : {-1, closed}) {
    EXPECT_EQ(set_nodelay(fd, true), -EBADF);
    EXPECT_EQ(set_buffer_sizes(fd, 4096, 4096), -EBADF);
    EXPECT_EQ(set_linger_reset(fd), -EBADF);
    EXPECT_EQ(local_endpoint(fd, Transport::tcp, out), -EBADF);
  }
  const int file = closed_probe.get();
  EXPECT_EQ(set_nodelay(file, true), -ENOTSOCK);
  EXPECT_EQ(set_buffer_sizes(file, 4096, 0), -ENOTSOCK);
  EXPECT_EQ(set_buffer_sizes(file, 0, 4096), -ENOTSOCK);
  EXPECT_EQ(set_linger_reset(file), -ENOTSOCK);
  EXPECT_EQ(local_endpoint(file, Transport::tcp, out), -ENOTSOCK);
}

TEST(SocketOptions, LocalEndpointChecksTheTransport) {
  Fd fd(bind_datagram(parse("udp://127.0.0.1:0")));
  ASSERT_GE(fd.get(), 0);
  Endpoint out;
  EXPECT_EQ(local_endpoint(fd.get(), Transport::unix_dgram, out), -EINVAL);
  EXPECT_EQ(local_endpoint(fd.get(), Transport::udp, out), 0);
}

}  // namespace
}  // namespace ringsock
