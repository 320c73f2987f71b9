// `ringsock load ENDPOINT`: the load generator (issue 5).
//
// One loop per thread (--threads) drives a share of the connections
// (load_runner.cpp); their results are merged and reported here. Each
// connection owns fixed buffers taken before the first message; the
// per-message path (encode, send, receive, verify, record) does not allocate.
// Every message carries the logic/message.hpp header and every reply is
// verified.
#pragma once

#include <cstdint>

#include "args.hpp"
#include "logic/message.hpp"
#include "logic/pacing.hpp"

namespace ringsock::tool {
struct RunRecord;
struct CustomConfig;
}

namespace ringsock_cli {

// Exit codes of `ringsock load` (2 = bad arguments, kExitUsage). When several
// apply, the first in this order wins: 3, 4, 7, 6, 8, 5.
inline constexpr int kExitConnect = 3;    ///< could not connect at all
inline constexpr int kExitVerify = 4;     ///< a reply failed verification
inline constexpr int kExitAssert = 5;     ///< an --assert check failed
inline constexpr int kExitNothing = 6;    ///< measured nothing: no reply verified (none sent, in throughput)
inline constexpr int kExitAllFailed = 7;  ///< every connection ended in an error
inline constexpr int kExitResults = 8;    ///< the --json results or the --report page could not be written

/// File descriptors a run needs besides its connections (stdio, the loops'
/// own, the --json file).
inline constexpr uint64_t kSpareFds = 32;
inline constexpr uint64_t kFdsPerThread = 4;

enum LoadErrorKind : uint8_t {
  kLoadRefused,
  kLoadReset,
  kLoadTimeout,
  kLoadNoFds,
  kLoadNoPorts,
  kLoadClosed,  // the server closed a connection with replies outstanding
  kLoadOther,
  kLoadErrorKinds,
};

/// Not an errno: the server closed a stream with replies outstanding.
inline constexpr int kClosedByServer = -(1 << 20);

const char* load_error_name(int kind) noexcept;
/// A hint for people ("is the server running?"), or "" when there is none.
const char* load_error_hint(int kind) noexcept;
/// The kind of a negated errno.
int classify_load_error(int negated_errno) noexcept;

inline constexpr int kVerdicts = 10;

struct LoadStats {
  uint64_t sent = 0;            ///< measured (after warmup)
  uint64_t received = 0;        ///< measured replies that verified
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t sent_all = 0;        ///< warmup included
  uint64_t replied_all = 0;     ///< unique replies, warmup and failures included
  uint64_t verify_failures = 0;
  uint64_t verdicts[kVerdicts] = {};
  uint64_t errors[kLoadErrorKinds] = {};
  uint64_t duplicates = 0;
  uint64_t reordered = 0;
  uint64_t gaps = 0;
  uint64_t established = 0;     ///< connections that worked at least once (churn: each cycle)
  uint64_t opened = 0;          ///< sockets connected (streams) or connected to the peer (datagrams)
  uint64_t cycles = 0;          ///< churn: measured connect-exchange-close cycles completed
  uint64_t held = 0;            ///< idle: connections whose last exchange verified
  uint64_t final_sent = 0;      ///< idle: last exchanges sent
  uint64_t failed_connections = 0;  ///< slots ended by an error (not churn, which goes on)
  uint64_t unsent = 0;          ///< rate: due in the measured window, never sent
  int first_error = 0;          ///< negated errno of the first error
  int first_other = 0;          ///< negated errno of the first error of kind "other"
};

/// Adds `from` into `into` (the threads' results).
void merge(LoadStats& into, const LoadStats& from) noexcept;

struct CustomRequests;

struct LoadReport {
  const LoadArgs* args = nullptr;
  const CustomRequests* custom = nullptr;  ///< --request's, compiled (load only)
  /// The requests as their options are written, for the table, the JSON and
  /// the record: load's described from `custom`, merge's from the records.
  const ringsock::tool::CustomConfig* custom_config = nullptr;
  const LoadStats* stats = nullptr;
  const ringsock::tool::LatencyPair* latency = nullptr;
  double seconds = 0;        ///< the measured window
  double cpu_seconds = 0;    ///< user + system of the whole run, every thread
  const char* backend = "";
  const char* backend_reason = "";
  /// Churn's hint that ephemeral ports may set the rate: the size of a
  /// host's ip_local_port_range (0: unknown) and the connections/s that
  /// host made. Load reads its own range once; merge takes the host whose
  /// shards came nearest their range.
  uint32_t local_ports = 0;
  double local_rate = 0;
  /// The mergeable record (shard, host, clock, intervals) that --json writes
  /// under "run"; null: none (merge writes its own).
  const ringsock::tool::RunRecord* record = nullptr;
};

/// The size of this network namespace's ip_local_port_range (the ports a
/// TCP connect may pick), or 0 when it cannot be read.
uint32_t ephemeral_ports() noexcept;

/// The whole command; returns the exit code.
int run_load(const LoadArgs& args);

/// Prints the table, writes --json, evaluates --assert; returns the exit code.
int report_load(const LoadReport& report);

/// The exit code of a run's report (3, 4, 7, 6, 8, 5 or 0, the first that
/// applies), with its one line on stderr as "ringsock COMMAND: ...".
int load_verdict(const LoadReport& report, const char* command, int json_error,
                 bool checks_passed);

/// The exit code of a run cut short by signal_number, whose own code is
/// `code`: 128 + the signal, unless 3, 4, 7 or 8 applies.
int interrupted_exit(int code, int signal_number) noexcept;

}  // namespace ringsock_cli
