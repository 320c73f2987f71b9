#include "support.hpp"

#include <dirent.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

namespace rstest {

const char* backend_name(TestBackend backend) {
  switch (backend) {
    case TestBackend::uring: return "uring";
    case TestBackend::epoll: return "epoll";
  }
  return "unknown";
}

std::vector<TestBackend> all_backends() { return {TestBackend::uring, TestBackend::epoll}; }

const char* family_name(Family family) {
  switch (family) {
    case Family::ipv4: return "ipv4";
    case Family::ipv6: return "ipv6";
    case Family::unix_path: return "unix_path";
    case Family::unix_abstract: return "unix_abstract";
  }
  return "unknown";
}

std::vector<Family> all_families() {
  return {Family::ipv4, Family::ipv6, Family::unix_path, Family::unix_abstract};
}

std::vector<Family> unix_families() { return {Family::unix_path, Family::unix_abstract}; }

LoopOptions options_for(TestBackend backend, LoopOptions base) {
  base.backend = backend == TestBackend::uring ? BackendChoice::uring : BackendChoice::epoll;
  return base;
}

// A test forces its backend in the options; RINGSOCK_BACKEND would override
// that, so the suite clears it for itself.
int init_for_test(Loop& loop, const LoopOptions& options, std::string& why) {
  unsetenv("RINGSOCK_BACKEND");
  int rc = loop.init(options);
  why = loop.backend_reason();
  return rc;
}

TempDir::TempDir() {
  char templ[] = "/tmp/ringsock-test-XXXXXX";
  const char* made = mkdtemp(templ);
  path = made ? made : "/tmp";
}

TempDir::~TempDir() {
  if (path == "/tmp") return;
  nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 8,
      FTW_DEPTH | FTW_PHYS);
}

bool family_available(Family family) {
  if (family != Family::ipv6) return true;
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

Endpoint make_endpoint(Family family, bool stream, TempDir& dir) {
  static std::atomic<int> counter{0};
  int n = counter++;
  std::string url;
  switch (family) {
    case Family::ipv4: url = std::string(stream ? "tcp://127.0.0.1:0" : "udp://127.0.0.1:0"); break;
    case Family::ipv6: url = std::string(stream ? "tcp://[::1]:0" : "udp://[::1]:0"); break;
    case Family::unix_path:
      url = std::string(stream ? "unix://" : "unix-dgram://") + dir.path + "/s" +
            std::to_string(n) + ".sock";
      break;
    case Family::unix_abstract:
      url = std::string(stream ? "unix://@" : "unix-dgram://@") + "ringsock-test-" +
            std::to_string(getpid()) + "-" + std::to_string(n);
      break;
  }
  Endpoint endpoint;
  ParseResult parsed = parse_endpoint(url, endpoint);
  EXPECT_EQ(parsed.error, 0) << url << ": " << parsed.message;
  return endpoint;
}

Endpoint bound_endpoint(int fd, const Endpoint& requested) {
  Endpoint actual;
  int rc = local_endpoint(fd, requested.transport, actual);
  EXPECT_EQ(rc, 0);
  return rc == 0 ? actual : requested;
}

bool run_until(Loop& loop, const std::function<bool()>& done, std::chrono::milliseconds guard) {
  Operation timer;
  bool expired = false;
  auto fired = [](Loop&, Operation& op, const Completion&) {
    *static_cast<bool*>(op.user_data) = true;
  };
  if (loop.timeout(timer, uint64_t(std::chrono::nanoseconds(guard).count()), fired, &expired) != 0) {
    ADD_FAILURE() << "guard timer refused";
    return false;
  }
  while (!done() && !expired) {
    int rc = loop.run(RunMode::once);
    if (rc < 0) {
      ADD_FAILURE() << "run: " << strerror(-rc);
      break;
    }
  }
  bool ok = done();
  if (timer.in_flight()) loop.cancel(timer);
  while (timer.in_flight()) loop.run(RunMode::once);
  if (!ok) ADD_FAILURE() << "condition not reached within " << guard.count() << " ms";
  return ok;
}

std::vector<uint8_t> Recorder::joined() const {
  std::vector<uint8_t> all;
  for (const auto& p : payloads) all.insert(all.end(), p.begin(), p.end());
  return all;
}

size_t Recorder::payload_bytes() const {
  size_t total = 0;
  for (const auto& p : payloads) total += p.size();
  return total;
}

void end_in_flight(Loop& loop, Operation& op) {
  if (!op.in_flight()) return;
  loop.cancel(op);
  for (int turns = 0; op.in_flight() && turns < 1000; ++turns) loop.run(RunMode::once);
}

bool peer_sends_with_fds(int fd, const std::vector<uint8_t>& bytes, size_t piece_bytes,
                         int passed_fd) {
  for (size_t at = 0; at < bytes.size(); at += piece_bytes) {
    iovec piece{const_cast<uint8_t*>(bytes.data() + at), piece_bytes};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &piece;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &passed_fd, sizeof(int));
    if (::sendmsg(fd, &message, MSG_NOSIGNAL) != ssize_t(piece_bytes)) {
      ADD_FAILURE() << "peer sendmsg: " << strerror(errno);
      return false;
    }
  }
  return true;
}

void Recorder::callback(Loop& loop, Operation& op, const Completion& completion) {
  auto* self = static_cast<Recorder*>(op.user_data);
  self->completions.push_back(completion);
  if (completion.has_buffer) {
    self->payloads.emplace_back(completion.data, completion.data + completion.result);
    if (self->keep_buffers) {
      self->kept.push_back(completion.buffer_id);
    } else {
      loop.release_buffer(completion.buffer_id);
    }
  }
  if (!completion.more) {
    self->terminal = true;
    ++self->terminal_count;
  }
}

void Recorder::give_back(Loop& loop) {
  std::vector<uint16_t> ids;
  ids.swap(kept);  // release_buffer may resume a receive whose callback keeps more
  for (uint16_t id : ids) EXPECT_EQ(loop.release_buffer(id), 0);
}

UnixStreamPair::UnixStreamPair() {
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0);
}

UnixStreamPair::~UnixStreamPair() {
  for (int f : fd) {
    if (f >= 0) ::close(f);
  }
}

int receive_late(Loop& loop, int count, std::chrono::milliseconds delay) {
  constexpr int kMaxPairs = 2;
  EXPECT_TRUE(count >= 1 && count <= kMaxPairs);
  UnixStreamPair pairs[kMaxPairs];
  Recorder recv[kMaxPairs];
  uint8_t buffers[kMaxPairs][16];
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(loop.recv(recv[i].op, pairs[i].fd[0], buffers[i], sizeof(buffers[i]),
                        Recorder::callback, &recv[i]),
              0);
  }
  Recorder guard;
  EXPECT_EQ(loop.timeout(guard.op, 10'000'000'000ull, Recorder::callback, &guard), 0);
  std::thread writer([&] {
    std::this_thread::sleep_for(delay);
    for (int i = 0; i < count; ++i) EXPECT_EQ(::write(pairs[i].fd[1], "late", 4), 4);
  });
  int first = loop.run(RunMode::once);
  while (first == 0 && !recv[0].terminal && !guard.terminal) first = loop.run(RunMode::once);
  EXPECT_TRUE(recv[0].terminal);
  EXPECT_TRUE(run_until(loop, [&] { return recv[count - 1].terminal; }));
  writer.join();
  EXPECT_FALSE(guard.terminal) << "a receive was lost; the guard timer ended the wait";
  for (int i = 0; i < count; ++i) EXPECT_EQ(recv[i].result(), 4);
  EXPECT_EQ(loop.cancel(guard.op), 0);
  EXPECT_TRUE(run_until(loop, [&] { return guard.terminal; }));
  return first;
}

StreamPair::~StreamPair() {
  for (int fd : {client, server, listener}) {
    if (fd >= 0) ::close(fd);
  }
}

bool connect_pair(Loop& loop, Family family, TempDir& dir, StreamPair& pair) {
  Endpoint requested = make_endpoint(family, true, dir);
  pair.listener = listen_on(requested);
  if (pair.listener < 0) {
    ADD_FAILURE() << "listen_on: " << strerror(-pair.listener);
    return false;
  }
  pair.endpoint = bound_endpoint(pair.listener, requested);
  pair.client = open_socket(pair.endpoint);
  Recorder accepted, connected;
  Endpoint peer;
  EXPECT_EQ(loop.accept(accepted.op, pair.listener, &peer, Recorder::callback, &accepted), 0);
  EXPECT_EQ(loop.connect(connected.op, pair.client, pair.endpoint, Recorder::callback, &connected),
            0);
  if (!run_until(loop, [&] { return accepted.terminal && connected.terminal; })) return false;
  EXPECT_EQ(connected.result(), 0);
  EXPECT_GE(accepted.result(), 0);
  pair.server = accepted.result();
  return connected.result() == 0 && pair.server >= 0;
}

WaitingClients::~WaitingClients() {
  for (int fd : clients) ::close(fd);
  if (listener >= 0) ::close(listener);
}

bool connect_waiting_clients(int count, WaitingClients& waiting) {
  Endpoint any;
  EXPECT_EQ(parse_endpoint("tcp://127.0.0.1:0", any).error, 0);
  waiting.listener = listen_on(any);
  if (waiting.listener < 0) {
    ADD_FAILURE() << "listen_on: " << strerror(-waiting.listener);
    return false;
  }
  Endpoint bound = bound_endpoint(waiting.listener, any);
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) waiting.clients.push_back(fd);
    if (fd < 0 || ::connect(fd, bound.address(), bound.length) != 0) {
      ADD_FAILURE() << "client " << i << ": " << strerror(errno);
      return false;
    }
  }
  return true;
}

FullListener::~FullListener() {
  for (int fd : fillers) ::close(fd);
  if (listener >= 0) ::close(listener);
}

bool fill_accept_queue(Loop& loop, FullListener& full) {
  Endpoint any;
  EXPECT_EQ(parse_endpoint("tcp://127.0.0.1:0", any).error, 0);
  ListenOptions options;
  options.backlog = 0;
  full.listener = listen_on(any, options);
  if (full.listener < 0) return false;
  full.endpoint = bound_endpoint(full.listener, any);
  for (int i = 0; i < 8; ++i) {
    full.fillers.push_back(open_socket(full.endpoint));
    Recorder probe;
    probe.op.timeout_ns = 200'000'000;
    EXPECT_EQ(loop.connect(probe.op, full.fillers.back(), full.endpoint, Recorder::callback,
                           &probe), 0);
    if (!run_until(loop, [&] { return probe.terminal; })) return false;
    if (probe.result() == -ETIMEDOUT) return true;
    EXPECT_EQ(probe.result(), 0) << "unexpected connect result";
  }
  return false;
}

void noop_cb(Loop&, Operation&, const Completion&) {}

// Building the reference is what the caller does wrong, so the sanitizer's
// alignment check is off for this one function.
[[gnu::no_sanitize("alignment")]] Operation& misaligned_operation(unsigned char* storage) {
  return *reinterpret_cast<Operation*>(storage + 8);
}

bool direct_descriptors_expected(uint32_t slots) {
  utsname name{};
  if (uname(&name) != 0) return false;
  unsigned major = 0, minor = 0;
  if (sscanf(name.release, "%u.%u", &major, &minor) != 2) return false;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < slots) return false;
  return major > 6 || (major == 6 && minor >= 13);
}

int count_open_fds() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count - 3;  // ".", "..", and the directory's own fd
}

std::string socket_param_name(const testing::TestParamInfo<SocketParam>& info) {
  return std::string(backend_name(std::get<0>(info.param))) + "_" +
         family_name(std::get<1>(info.param));
}

std::string backend_param_name(const testing::TestParamInfo<TestBackend>& info) {
  return backend_name(info.param);
}

int SocketTest::bind_server(Endpoint& bound) {
  Endpoint requested = make_endpoint(family(), false, dir);
  int fd = bind_datagram(requested);
  EXPECT_GE(fd, 0) << strerror(-fd);
  bound = bound_endpoint(fd, requested);
  return fd;
}

void SocketTest::SetUp() {
  if (!family_available(family())) GTEST_SKIP() << family_name(family()) << " unavailable here";
  std::string why;
  int rc = init_for_test(loop, loop_options(), why);
  if (rc < 0 && backend() == TestBackend::uring) GTEST_SKIP() << "io_uring unavailable: " << why;
  ASSERT_EQ(rc, 0) << strerror(-rc) << ": " << why;
}

void BackendTest::SetUp() {
  std::string why;
  int rc = init_for_test(loop, loop_options(), why);
  if (rc < 0 && GetParam() == TestBackend::uring) GTEST_SKIP() << "io_uring unavailable: " << why;
  ASSERT_EQ(rc, 0) << strerror(-rc) << ": " << why;
}

Pieces::Pieces(const std::vector<size_t>& sizes, uint8_t seed) {
  size_t total = 0;
  for (size_t s : sizes) total += s;
  bytes.resize(total);
  for (size_t i = 0; i < total; ++i) bytes[i] = uint8_t(seed + i * 13 + (i >> 9));
  size_t at = 0;
  for (size_t s : sizes) {
    iov.push_back(iovec{bytes.data() + at, s});
    at += s;
  }
}

void SlowReader::on_recv(Loop& loop, Operation& op, const Completion& c) {
  auto* self = static_cast<SlowReader*>(op.user_data);
  self->last = c.result;
  if (c.result > 0) self->received.insert(self->received.end(), self->chunk, self->chunk + c.result);
  if (c.result <= 0 || self->received.size() >= self->want) {
    self->done = true;
    return;
  }
  EXPECT_EQ(loop.recv(op, op.fd, self->chunk, sizeof(self->chunk), on_recv, self), 0);
}

void SlowReader::start(Loop& loop, int fd, size_t bytes) {
  want = bytes;
  ASSERT_EQ(loop.recv(op, fd, chunk, sizeof(chunk), on_recv, this), 0);
}

void close_pair(Loop& loop, StreamPair& pair) {
  for (int* fd : {&pair.client, &pair.server, &pair.listener}) {
    if (*fd < 0) continue;
    Recorder closed;
    ASSERT_EQ(loop.close(closed.op, *fd, Recorder::callback, &closed), 0);
    *fd = -1;
    ASSERT_TRUE(run_until(loop, [&] { return closed.terminal; }));
    EXPECT_EQ(closed.result(), 0);
  }
}

}  // namespace rstest
