// Shared test support: backends and address families to parametrize over,
// bounded loop runs, a completion recorder and connected socket pairs.
#pragma once

#include <gtest/gtest.h>
#include <sys/uio.h>

#include <chrono>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "ringsock/endpoint.hpp"
#include "ringsock/loop.hpp"
#include "ringsock/socket.hpp"

namespace rstest {

using namespace ringsock;
using namespace std::chrono_literals;

/// The backends every socket test runs on.
enum class TestBackend { uring, epoll };
const char* backend_name(TestBackend backend);
std::vector<TestBackend> all_backends();

/// Address families of the socket table in DESIGN.md.
enum class Family { ipv4, ipv6, unix_path, unix_abstract };
const char* family_name(Family family);
std::vector<Family> all_families();
/// The UNIX families only (path and abstract), for behaviour of UNIX sockets alone.
std::vector<Family> unix_families();

/// Loop options for a backend (the backend choice rides on the options).
LoopOptions options_for(TestBackend backend, LoopOptions base = {});
/// Inits `loop` on the test's backend; false (after GTEST_SKIP in the caller's
/// sense: see SKIP_UNLESS_INIT) when io_uring cannot be set up here.
int init_for_test(Loop& loop, const LoopOptions& options, std::string& why);

/// A private directory for UNIX socket paths, removed with its contents.
struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
};

/// Whether the machine can do this family at all (IPv6 may be off).
bool family_available(Family family);
/// A listening/binding endpoint on loopback or a UNIX name, ephemeral where possible.
Endpoint make_endpoint(Family family, bool stream, TempDir& dir);
/// The endpoint a bound fd really has (ephemeral port filled in).
Endpoint bound_endpoint(int fd, const Endpoint& requested);

/// Runs `loop` until done() is true; fails (returns false) after `guard`
/// instead of hanging. The guard is a loop timer, so run(once) always returns;
/// it counts in loop.active() while run_until runs, so do not wait on active() == 0.
bool run_until(Loop& loop, const std::function<bool()>& done,
               std::chrono::milliseconds guard = 10s);

/// Records every completion an operation reports.
struct Recorder {
  Operation op;
  std::vector<Completion> completions;
  std::vector<std::vector<uint8_t>> payloads;  // copies of lent buffers (then released)
  bool terminal = false;
  int terminal_count = 0;
  /// Keep lent buffers (their ids in `kept`) instead of releasing them at once.
  bool keep_buffers = false;
  std::vector<uint16_t> kept;
  int result() const { return completions.empty() ? 1 : completions.back().result; }
  /// The lent buffers' bytes, in order, and their count.
  std::vector<uint8_t> joined() const;
  size_t payload_bytes() const;
  /// Releases the kept buffers.
  void give_back(Loop& loop);
  static void callback(Loop& loop, Operation& op, const Completion& completion);
};

/// Cancels `op` if it is still in flight and runs `loop` until it has ended
/// (at most 1000 turns): for a test that leaves early (a failed assertion, a
/// skip), so that the callback never reaches a destroyed object.
void end_in_flight(Loop& loop, Operation& op);

/// end_in_flight() when the scope is left: declare it after the object that
/// holds `op`, so that it runs first.
struct EndsInFlight {
  Loop& loop;
  Operation& op;
  ~EndsInFlight() { end_in_flight(loop, op); }
};

/// Whether every recorder of `recorders` has had its terminal completion.
template <class Recorders>
bool all_ended(const Recorders& recorders) {
  for (const Recorder& r : recorders) {
    if (!r.terminal) return false;
  }
  return true;
}

/// Sends `bytes` from fd (a UNIX stream) in sends of `piece_bytes`, each with
/// `passed_fd` attached (SCM_RIGHTS); false (and a failure) if the socket did
/// not take them all.
bool peer_sends_with_fds(int fd, const std::vector<uint8_t>& bytes, size_t piece_bytes,
                         int passed_fd);

/// A non-blocking AF_UNIX stream socketpair, closed with the object.
struct UnixStreamPair {
  int fd[2] = {-1, -1};
  UnixStreamPair();
  UnixStreamPair(const UnixStreamPair&) = delete;
  UnixStreamPair& operator=(const UnixStreamPair&) = delete;
  ~UnixStreamPair();
};

/// Receives on `count` (1 or 2) socketpairs whose bytes ("late", 4 each)
/// another thread writes `delay` after the wait starts, in pair order.
/// Returns the callbacks of the first run(once) that had any (epoll's first
/// turn may have none: it registers the fds), which must include the first
/// pair's; then runs until every receive has ended. A guard timer keeps a
/// lost completion from hanging the test.
int receive_late(Loop& loop, int count, std::chrono::milliseconds delay);

/// Pieces of the given sizes over one patterned byte string: what the peer
/// must receive is `bytes`, whatever the cut (a piece of length 0 gets a base).
struct Pieces {
  std::vector<uint8_t> bytes;
  std::vector<iovec> iov;
  explicit Pieces(const std::vector<size_t>& sizes, uint8_t seed = 3);
  size_t count() const { return iov.size(); }
};

/// Reads a stream through the loop until `want` bytes, EOF or an error, one
/// small recv at a time: a slow reader, so the sender meets a full socket
/// again and again.
struct SlowReader {
  Operation op;
  std::vector<uint8_t> received;
  uint8_t chunk[1500];
  size_t want = 0;
  int last = 1;
  bool done = false;
  static void on_recv(Loop& loop, Operation& op, const Completion& c);
  void start(Loop& loop, int fd, size_t bytes);
};

/// A connected stream pair set up through the loop's connect and accept.
struct StreamPair {
  int client = -1;
  int server = -1;
  int listener = -1;
  Endpoint endpoint;
  StreamPair() = default;
  StreamPair(const StreamPair&) = delete;
  StreamPair& operator=(const StreamPair&) = delete;
  ~StreamPair();
};
/// Fails the current test (ASSERT in caller) if it cannot connect.
bool connect_pair(Loop& loop, Family family, TempDir& dir, StreamPair& pair);
/// Closes the pair's fds through the loop, so that the next pair of the same
/// test, which may get the same fd numbers, starts with no readiness state.
void close_pair(Loop& loop, StreamPair& pair);

/// A TCP listener on loopback whose accept queue is full, so that a new
/// connect to it hangs in SYN_SENT (the kernel drops its SYNs): connects with
/// a short deadline until one times out. Closes nothing; the caller closes
/// `listener` and `fillers`. Returns false if the queue never filled.
struct FullListener {
  int listener = -1;
  Endpoint endpoint;
  std::vector<int> fillers;
  ~FullListener();
};
bool fill_accept_queue(Loop& loop, FullListener& full);

/// A TCP listener on loopback and `count` clients connected to it at once
/// (plain blocking connects): they wait in its accept queue. All closed with
/// the object. False (and a failure) if they cannot be set up.
struct WaitingClients {
  int listener = -1;
  std::vector<int> clients;
  WaitingClients() = default;
  WaitingClients(const WaitingClients&) = delete;
  WaitingClients& operator=(const WaitingClients&) = delete;
  ~WaitingClients();
};
bool connect_waiting_clients(int count, WaitingClients& waiting);

/// Open fds of this process (for leak checks).
int count_open_fds();

/// Whether an io_uring loop asking for `slots` direct descriptors must get
/// them here: Linux 6.13 or later, and RLIMIT_NOFILE's soft limit at least
/// `slots` (LoopOptions::direct_descriptors). Tests fail, not skip, when a
/// loop that must have them has none.
bool direct_descriptors_expected(uint32_t slots);

/// A callback that does nothing, for operations whose completion no test reads.
void noop_cb(Loop&, Operation&, const Completion&);

/// An Operation 8 bytes past a 16-byte boundary of `storage` (which must be
/// 16-byte aligned and hold sizeof(Operation) + 16 bytes), as an FFI that
/// packs it after a pointer gives it: what the misuse tests hand to every
/// entry that must refuse it.
Operation& misaligned_operation(unsigned char* storage);

/// Parameter of socket tests: backend x family.
using SocketParam = std::tuple<TestBackend, Family>;
std::string socket_param_name(const testing::TestParamInfo<SocketParam>& info);
std::string backend_param_name(const testing::TestParamInfo<TestBackend>& info);

/// Base fixture: inits a loop on the parameter's backend, skips a family the
/// machine lacks.
class SocketTest : public testing::TestWithParam<SocketParam> {
 protected:
  void SetUp() override;
  TestBackend backend() const { return std::get<0>(GetParam()); }
  Family family() const { return std::get<1>(GetParam()); }
  bool is_unix() const { return family() == Family::unix_path || family() == Family::unix_abstract; }
  /// A datagram server socket bound to a fresh endpoint of the family, and
  /// its real endpoint in `bound` (the port the kernel chose); -errno (and a
  /// failed expectation) if it cannot bind.
  int bind_server(Endpoint& bound);
  virtual LoopOptions loop_options() const { return options_for(backend()); }
  Loop loop;
  TempDir dir;
};

class BackendTest : public testing::TestWithParam<TestBackend> {
 protected:
  void SetUp() override;
  virtual LoopOptions loop_options() const { return options_for(GetParam()); }
  Loop loop;
  TempDir dir;
};

}  // namespace rstest
