// Command-line parsing of the ringsock command: pure, allocation-free, testable.
//
//   ringsock serve ENDPOINT... [options]
//   ringsock load ENDPOINT [options]
//   ringsock merge RESULT... [options]   (its arguments are parsed by merge.cpp)
//   ringsock report RESULT... -o FILE    (its arguments are parsed by report.cpp)
//   ringsock probe
//   ringsock help [SUBCOMMAND] | ringsock SUBCOMMAND --help | ringsock --version
//
// The options each subcommand accepts are the rows of its table in
// options.cpp. Every error names the argument that is wrong; the caller exits
// with kExitUsage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ringsock/endpoint.hpp"
#include "ringsock/loop.hpp"

namespace ringsock_cli {

inline constexpr int kExitUsage = 2;  ///< bad arguments
inline constexpr uint32_t kMaxEndpoints = 16;
/// The largest message load sends to a datagram endpoint: 65,535 less the
/// IPv4 and UDP headers (unix-dgram too), or less the UDP header over IPv6.
inline constexpr uint32_t kMaxDatagram = 65507;
inline constexpr uint32_t kMaxDatagramIpv6 = 65527;

enum class Command : uint8_t { help, version, probe, serve, load, merge, report };
enum class LoadMode : uint8_t { pingpong, throughput, rate, churn, idle };
enum class Arrival : uint8_t { constant, poisson };
inline constexpr uint32_t kMaxPercentiles = 16;
enum class ServeMode : uint8_t { echo, sink, sockperf };
/// How serve's stream connections reach its threads: each thread accepts on
/// its own SO_REUSEPORT socket (the kernel picks), or thread 0 accepts them
/// all and hands them to the threads in turn by Loop::post_to.
enum class Dispatch : uint8_t { reuseport, handoff };

struct ServeArgs {
  ringsock::Endpoint endpoints[kMaxEndpoints];
  uint32_t endpoint_count = 0;
  ServeMode mode = ServeMode::echo;
  uint32_t threads = 1;
  Dispatch dispatch = Dispatch::reuseport;
  ringsock::BackendChoice backend = ringsock::BackendChoice::automatic;
  uint32_t buffer_size = 4096;       ///< bytes per pool buffer (256 .. 1 MiB)
  /// Pool buffers per loop (power of two, 1 .. 32768). Above the 500 connections
  /// of the comparison: with 512 the pool ran dry once per message there, and
  /// each dry receive cost a re-arm (an SQE and a CQE).
  uint32_t buffers = 1024;
  /// Connection slots per thread, taken at start; fewer on 32-bit targets,
  /// whose address space cannot hold 16384 sockperf buffers.
  uint32_t max_connections = sizeof(void*) >= 8 ? 16384 : 1024;
  uint32_t max_message = 65536;      ///< sockperf mode on streams: largest message accepted
  /// Echo: pool buffers one connection may hold unsent before its receiving
  /// stops (until one has gone out), so a client that does not read cannot
  /// empty the pool that every connection shares.
  uint32_t max_lent = 32;
  /// Remove a UNIX socket file that nobody listens on before binding it.
  bool unlink_stale = false;
  uint32_t busy_poll_us = 0;         ///< LoopOptions::busy_poll_us (0 = off, <= 1,000,000)
  uint32_t batch_wait_us = 0;        ///< LoopOptions::batch_wait_us (0 = off, <= 1,000,000)
  uint32_t zero_copy_bytes = 0;      ///< LoopOptions::zero_copy_min_bytes (0 = off)
  /// Accept into direct descriptors (LoopOptions::direct_descriptors, one
  /// slot per connection slot, at most 65536): reuseport dispatch only.
  bool direct = false;
};

/// Local addresses for load's TCP/UDP connections (--source, --source-ports).
/// Connection i uses address i % count; with a port range, port
/// (i / count) % ports. Without a port range TCP binds with
/// IP_BIND_ADDRESS_NO_PORT, so the kernel picks the port at connect time and
/// one address can carry more than 64k connections to different servers.
struct SourceRange {
  ringsock::Endpoint first;   ///< the first address (port 0); empty = none given
  uint32_t count = 0;         ///< addresses in the range; 0 = the kernel picks
  uint16_t port_low = 0;      ///< 0 = the kernel picks the port
  uint16_t port_high = 0;
  uint32_t ports() const noexcept { return port_low == 0 ? 0 : uint32_t(port_high - port_low) + 1; }
};

/// --request, --reply-*, --expect-* as typed, in order: load_requests.hpp
/// compiles them before the load (that allocates; parsing does not).
struct TypedRequestOption {
  std::string_view name;
  std::string_view value;
};
inline constexpr uint32_t kMaxRequestOptions = 64;
enum class IpFamily : uint8_t { any, ipv4, ipv6 };

/// `ringsock load ENDPOINT [options]`; always bounded (duration or count).
struct LoadArgs {
  ringsock::Endpoint endpoint;
  /// The ENDPOINT as typed. A tcp:// or udp:// URL with a host name is
  /// resolved by run_load (resolve.hpp); until then `endpoint` holds only
  /// its transport and `resolve` is set.
  const char* endpoint_url = nullptr;
  bool resolve = false;
  IpFamily family = IpFamily::any;   ///< --ipv4 / --ipv6
  uint64_t timeout_ns = 0;           ///< --timeout: a reply later than this is a timeout; 0 = none
  TypedRequestOption request_options[kMaxRequestOptions];
  uint32_t request_option_count = 0;
  LoadMode mode = LoadMode::pingpong;
  uint32_t connections = 1;
  uint32_t inflight = 1;             ///< messages in flight per connection
  uint32_t size_min = 64;            ///< bytes per message, header included
  uint32_t size_max = 64;
  uint32_t rate = 0;                 ///< messages/s in total (rate mode)
  uint64_t duration_ns = 5000000000ULL;
  bool duration_given = false;  ///< --duration was given: with --count, whichever ends first
  uint64_t count = 0;                ///< messages; 0 = use the duration
  /// The duration that bounds the run: 0 when --count alone does.
  uint64_t duration_bound_ns() const noexcept { return count && !duration_given ? 0 : duration_ns; }
  uint64_t warmup_ns = 0;
  uint64_t seed = 1;
  ringsock::BackendChoice backend = ringsock::BackendChoice::automatic;
  uint32_t threads = 1;              ///< loops, one per thread; connections split among them
  Arrival arrival = Arrival::constant;  ///< rate and churn modes with --rate
  bool nodelay = false;
  /// LoopOptions::batch_wait_us (0 = off, <= 1,000,000); the batch is every
  /// reply the loop can have in flight.
  uint32_t batch_wait_us = 0;
  uint32_t busy_poll_us = 0;         ///< LoopOptions::busy_poll_us (0 = off, <= 1,000,000)
  uint32_t zero_copy_bytes = 0;      ///< LoopOptions::zero_copy_min_bytes (0 = off)
  bool sockperf = false;             ///< speak sockperf framing (drive a sockperf server)
  int send_buffer = 0;               ///< SO_SNDBUF, 0 = the kernel's default
  int receive_buffer = 0;            ///< SO_RCVBUF
  SourceRange source;
  const char* json_file = nullptr;
  const char* report_file = nullptr;  ///< --report: the HTML page of the run
  const char* hlog_file = nullptr;   ///< --hlog: HdrHistogram interval log
  uint32_t shard_index = 0;          ///< --shard K/N: this instance is K (0-based) ...
  uint32_t shard_count = 1;          ///< ... of N
  int64_t start_at_unix_ns = 0;      ///< --start-at (Unix ns); 0 = measure once connected
  const char* assertions = nullptr;  ///< checked by run_load (parse errors exit 2)
  double percentiles[kMaxPercentiles] = {};
  uint32_t percentile_count = 0;
};

struct Args {
  Command command = Command::help;
  /// With command == help: the subcommand whose usage to print (serve, load,
  /// probe), or help for the overview.
  Command help_topic = Command::help;
  ServeArgs serve;
  LoadArgs load;
};

/// Parses argv (argv[0] is the program). Returns 0, or kExitUsage with a
/// one-line reason written into `error` (NUL-terminated, cut to fit).
int parse_args(int argc, const char* const* argv, Args& out, char* error, size_t capacity) noexcept;

const char* mode_name(ServeMode mode) noexcept;
const char* mode_name(LoadMode mode) noexcept;

}  // namespace ringsock_cli
