// ringsock-echo: an echo server and a load client over loopback in one
// process, one ringsock loop each (server thread, main thread). Every reply is
// verified byte for byte and timed; one table row per transport at the end.
//
// The demo uses the standard library freely for set-up and reporting; the
// per-message path (callbacks, histogram, verification) never allocates, so
// the numbers measure the engine and the kernel, not malloc.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "echo_client.hpp"
#include "echo_common.hpp"
#include "echo_options.hpp"
#include "echo_server.hpp"
#include "ringsock/capabilities.hpp"
#include "ringsock/loop.hpp"

namespace echo {
namespace {

using ringsock::Endpoint;
using ringsock::Transport;

constexpr const char* kProgram = "ringsock-echo";

// A recvfrom_multishot result puts io_uring's 16-byte recvmsg header and the
// sender's address (sockaddr_storage-sized) before the payload in the pool
// buffer; the public API does not export this size, so it is mirrored here.
constexpr uint64_t kPoolBytesMax = 64ull << 20;

// One table row.
struct Row {
  Transport transport = Transport::tcp;
  const char* backend = "";
  ClientResult result;
  uint64_t server_errors = 0;
  std::unique_ptr<LatencyHistogram> latency = std::make_unique<LatencyHistogram>();
};

const char* backend_name(ringsock::BackendKind kind) {
  switch (kind) {
    case ringsock::BackendKind::uring: return "io_uring";
    case ringsock::BackendKind::epoll: return "epoll";
    case ringsock::BackendKind::none: break;
  }
  return "none";
}

uint32_t next_power_of_two(uint64_t value, uint32_t low, uint32_t high) {
  uint32_t p = low;
  while (p < value && p < high) p <<= 1;
  return p;
}

// Sized so that the whole window (connections x inflight) fits in the pool:
// a multishot receive that runs out of buffers only pauses, but a datagram
// socket whose receiver pauses starts dropping.
ringsock::LoopOptions loop_options_for(const EchoOptions& options) {
  uint64_t window = uint64_t(options.connections) * options.inflight;
  ringsock::LoopOptions loop;
  loop.ring_entries = next_power_of_two(2 * window + 2 * options.connections, 256, 4096);
  uint32_t bytes = options.size + ringsock::kRecvfromMultishotHeaderBytes;
  loop.buffer_size = (bytes + 4095) / 4096 * 4096;
  loop.buffer_count = next_power_of_two(2 * window, 64, 4096);
  while (uint64_t(loop.buffer_count) * loop.buffer_size > kPoolBytesMax && loop.buffer_count > 16) {
    loop.buffer_count /= 2;
  }
  return loop;
}

// Each connection costs two fds (client and server side); the loops refuse fds
// at or above RLIMIT_NOFILE, read when they start, so raise it first.
bool raise_fd_limit(uint32_t connections) {
  rlim_t needed = rlim_t(connections) * 2 + 64;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= needed) return true;
  limit.rlim_cur = limit.rlim_max < needed ? limit.rlim_max : needed;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= needed) return true;
  fprintf(stderr, "%s: %u connections need %llu file descriptors; RLIMIT_NOFILE allows %llu\n",
          kProgram, connections, static_cast<unsigned long long>(needed),
          static_cast<unsigned long long>(limit.rlim_max));
  return false;
}

// The UNIX socket file of the running server and its directory, kept where a
// signal handler can reach them: a run stopped with Ctrl-C leaves nothing behind.
char g_socket_file[256];
char g_socket_dir[256];

// Async-signal-safe: unlink and rmdir only.
void remove_socket_files() {
  if (g_socket_file[0] != '\0') ::unlink(g_socket_file);
  if (g_socket_dir[0] != '\0') ::rmdir(g_socket_dir);
}

void on_termination_signal(int signal_number) {
  remove_socket_files();
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);  // die of the signal, as the caller expects
}

// A private directory for the UNIX socket files. Servers run one after the
// other, so one socket file at a time: the previous one goes when the next
// is named, the last one with the directory.
class SocketDir {
 public:
  ~SocketDir() {
    remove_socket_files();
    g_socket_file[0] = g_socket_dir[0] = '\0';
  }
  bool make() {
    const char* base = getenv("TMPDIR");
    // sun_path holds 107 bytes: a long TMPDIR would not fit, /tmp does.
    if (base == nullptr || *base == '\0' || strlen(base) > 60) base = "/tmp";
    std::string pattern = std::string(base) + "/ringsock-echo.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      fprintf(stderr, "%s: cannot create a directory for UNIX sockets in %s: %s\n", kProgram,
              base, strerror(errno));
      return false;
    }
    snprintf(g_socket_dir, sizeof g_socket_dir, "%s", pattern.c_str());
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
      ::signal(signal_number, on_termination_signal);
    }
    return true;
  }
  std::string next_file() {
    if (g_socket_file[0] != '\0') ::unlink(g_socket_file);  // its server has stopped
    std::string path = std::string(g_socket_dir) + "/echo-" + std::to_string(files_++) + ".sock";
    snprintf(g_socket_file, sizeof g_socket_file, "%s", path.c_str());
    return path;
  }

 private:
  int files_ = 0;
};

bool make_endpoint(Transport transport, const EchoOptions& options, SocketDir& dir,
                   Endpoint& out) {
  const char* host = options.ipv6 ? "[::1]:0" : "127.0.0.1:0";
  std::string url;
  switch (transport) {
    case Transport::tcp: url = std::string("tcp://") + host; break;
    case Transport::udp: url = std::string("udp://") + host; break;
    case Transport::unix_stream: url = "unix://" + dir.next_file(); break;
    case Transport::unix_dgram: url = "unix-dgram://" + dir.next_file(); break;
  }
  ringsock::ParseResult parsed = ringsock::parse_endpoint(url, out);
  if (parsed.error != 0) {
    fprintf(stderr, "%s: bad endpoint %s: %s\n", kProgram, url.c_str(), parsed.message);
    return false;
  }
  return true;
}

std::string url_of(const Endpoint& endpoint) {
  char text[ringsock::kEndpointUrlMax];
  return ringsock::format_endpoint(endpoint, text, sizeof text) >= 0 ? text : "?";
}

// The backend and what the kernel offered, from a loop made just to ask.
bool print_backend(const ringsock::LoopOptions& loop_options) {
  ringsock::Loop loop;
  int rc = loop.init(loop_options);
  if (rc < 0) {
    fprintf(stderr, "%s: cannot start a ringsock loop: %s (%s)\n", kProgram, strerror(-rc),
            loop.backend_reason());
    return false;
  }
  char caps[512];
  ringsock::format_capabilities(loop.capabilities(), caps, sizeof caps);
  printf("backend: %s (%s)\ncapabilities: %s\n", backend_name(loop.backend()),
         loop.backend_reason(), caps);
  return true;
}

ClientConfig client_config(const EchoOptions& options, const Endpoint& server) {
  ClientConfig config;
  config.server = server;
  config.connections = options.connections;
  config.size = options.size;
  config.inflight = options.inflight;
  config.duration_ns = options.duration_ns;
  config.count = options.count;
  return config;
}

// One transport end to end. Returns 0, or 1 after saying what failed.
int run_transport(Transport transport, const EchoOptions& options, SocketDir& dir, Row& row) {
  Endpoint requested;
  if (!make_endpoint(transport, options, dir, requested)) return 1;
  EchoServer server;
  int rc = server.bind(requested);
  if (rc < 0) {
    fprintf(stderr, "%s: the %s echo server cannot bind %s: %s\n", kProgram,
            transport_name(transport), url_of(requested).c_str(), strerror(-rc));
    return 1;
  }
  const ringsock::LoopOptions loop_options = loop_options_for(options);
  // A little slack over the client's count: nothing else connects, but the
  // server must never run out of slots because of a straggler.
  rc = server.start(options.connections + 16, loop_options);
  if (rc < 0) {
    fprintf(stderr, "%s: %s failed: %s\n", kProgram, server.failure(), strerror(-rc));
    return 1;
  }
  ringsock::Loop loop;
  rc = loop.init(loop_options);
  if (rc < 0) {
    fprintf(stderr, "%s: client loop init failed: %s (%s)\n", kProgram, strerror(-rc),
            loop.backend_reason());
    return 1;
  }
  printf("%-10s -> %s\n", transport_name(transport), url_of(server.endpoint()).c_str());
  EchoClient client(loop, client_config(options, server.endpoint()), *row.latency);
  row.transport = transport;
  row.backend = backend_name(loop.backend());
  row.result = client.run();
  loop.deinit();  // before `client` goes: drops anything a failed teardown left in flight
  server.stop();
  row.server_errors = server.errors();
  return 0;
}

double to_us(uint64_t ns) { return double(ns) / 1000.0; }

void print_table(const std::vector<Row>& rows, const EchoOptions& options) {
  printf("\nmsg/s = round trips per second; MB/s = echoed payload counted in both directions "
         "(sent + received), 10^6 bytes/s; latency = round trip in microseconds (us)\n");
  printf("%-10s %-8s %5s %6s %11s %9s %9s %9s %9s %9s %9s %7s\n", "transport", "backend",
         "conns", "size", "msg/s", "MB/s", "p50", "p90", "p99", "p99.9", "max", "errors");
  for (const Row& row : rows) {
    const ClientResult& r = row.result;
    const LatencyHistogram& h = *row.latency;
    double rate = r.seconds > 0 ? double(r.replies) / r.seconds : 0;
    double megabytes = rate * 2.0 * options.size / 1e6;
    printf("%-10s %-8s %5u %6u %11.1f %9.2f %9.1f %9.1f %9.1f %9.1f %9.1f %7llu\n",
           transport_name(row.transport), row.backend, options.connections, options.size, rate,
           megabytes, to_us(h.percentile(0.50)), to_us(h.percentile(0.90)),
           to_us(h.percentile(0.99)), to_us(h.percentile(0.999)), to_us(h.max()),
           static_cast<unsigned long long>(r.errors + row.server_errors));
  }
}

bool needs_socket_dir(const EchoOptions& options) {
  for (Transport t : options.transports) {
    if (t == Transport::unix_stream || t == Transport::unix_dgram) return true;
  }
  return false;
}

int run(const EchoOptions& options) {
  setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows up at once even through a pipe
  if (!raise_fd_limit(options.connections)) return 1;
  SocketDir dir;
  if (needs_socket_dir(options) && !dir.make()) return 1;
  if (!print_backend(loop_options_for(options))) return 1;
  std::vector<Row> rows(options.transports.size());
  bool clean = true;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (run_transport(options.transports[i], options, dir, rows[i]) != 0) return 1;
    const ClientResult& r = rows[i].result;
    clean = clean && r.replies > 0 && r.errors == 0 && rows[i].server_errors == 0;
  }
  print_table(rows, options);
  if (!clean) fprintf(stderr, "%s: errors, or a transport without a single reply\n", kProgram);
  return clean ? 0 : 1;
}

}  // namespace
}  // namespace echo

int main(int argc, char** argv) {
  echo::EchoOptions options;
  switch (echo::parse_options(argc, argv, options)) {
    case echo::ParseOutcome::help:
      echo::print_usage(stdout);
      return 0;
    case echo::ParseOutcome::error:
      return 2;
    case echo::ParseOutcome::run:
      break;
  }
  return echo::run(options);
}
