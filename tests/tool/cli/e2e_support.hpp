// What the ringsock end-to-end tests share: a temporary directory, a server
// child, running `ringsock load`, and small checks of its output.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "child.hpp"

namespace cli_test {

constexpr int kStartMs = 10000;
constexpr int kLoadMs = 30000;

/// A temporary directory for UNIX socket paths and JSON files, removed at the end.
struct TempDir {
  std::string path;
  TempDir();
  ~TempDir();
};

std::string read_file(const std::string& path);

/// Whether `ringsock probe` says a loop can start on `backend` (uring, epoll).
bool backend_starts(const std::string& backend);

/// A `ringsock serve` child on one endpoint; url() is where it listens
/// (empty when it could not start). Stopped with SIGTERM at the end.
class Server {
 public:
  Server(const std::string& endpoint, const std::string& mode, const std::string& backend,
         const std::vector<std::string>& extra = {});
  ~Server();
  const std::string& url() const { return url_; }
  /// Stops it now; returns its stdout (the counters).
  std::string stop();
  /// After stop(): its wait status (-1 if it had to be killed).
  int status() const { return status_; }

 private:
  Child child_;
  std::string url_;
  bool stopped_ = false;
  int status_ = -1;
};

/// `ringsock load ARGS...` to completion: the exit code, with its output.
int run_load(std::vector<std::string> args, std::string* out, std::string* err);

/// A test of `ringsock load` on the backend named by its parameter ("uring",
/// "epoll"), skipped where that backend cannot start.
class LoadOnBackend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  /// `ringsock load URL ARGS... --backend B`: the exit code; output in out/err.
  int load(const std::string& url, std::vector<std::string> args);
  std::string out, err;
};

/// `ringsock load`'s exit code for a verification failure.
constexpr int kExitVerifyFailure = 4;
/// "replies verified N" out of `ringsock load`'s table (0 when absent).
unsigned long long replies_verified(const std::string& out);

/// A subcommand's run: its exit code (-1 when killed by a signal or timed
/// out) and what it printed.
struct Outcome {
  int code = -1;
  std::string out, err;
};
/// `ringsock SUBCOMMAND ARGS...` to completion (at most kLoadMs).
Outcome run_subcommand(const std::string& subcommand, const std::vector<std::string>& args);

/// Writes `text` to DIR/NAME as it is; returns the path.
std::string write_file(const TempDir& dir, const std::string& name, const std::string& text);

/// Braces and brackets balance outside strings: a cheap well-formedness check.
bool json_balanced(const std::string& text);

/// A blocking TCP socket bound to 127.0.0.1 on a free port, which is
/// written to `port`; -1 on failure. listen(2) on it for a test server.
int bind_loopback_tcp(uint16_t& port);

/// A TCP port on 127.0.0.1 that was free a moment ago: nobody listens there.
std::string unused_tcp_url();

/// An echo `ringsock serve` on `backend` that listens on one TCP port of
/// every host of `hosts` ("127.0.0.1", "[::1]"): a port free on all of them
/// (a few tries, since another test may take it meanwhile), written to
/// `port`. Null when no such port was found.
std::unique_ptr<Server> echo_on_one_port(const std::vector<std::string>& hosts,
                                         const std::string& backend, std::string* port);

/// A private mount namespace (unshare) in which /etc/hosts is `hosts`, the
/// resolver reads files only and gives every line of a name (host.conf
/// "multi on"): a host name with the addresses a test chooses.
class HostsNamespace {
 public:
  HostsNamespace(const TempDir& dir, const std::string& hosts);
  /// Empty when a shell can run in it here; else why not (skip the test).
  std::string unusable() const;
  /// `sh -c COMMAND` in it, at most 20 s: its wait status; output in `output`.
  int run(const std::string& command, std::string* output) const;

 private:
  std::string mounts_;
};

/// A parameter of the tests that run on every socket type and both backends.
struct Case {
  std::string transport;  ///< tcp, udp, unix, unix-dgram (tcp6, udp6: over ::1)
  std::string backend;    ///< uring, epoll
};

void PrintTo(const Case& c, std::ostream* os);
/// "tcp_uring", "unix_dgram_epoll": a test name part.
std::string case_name(const ::testing::TestParamInfo<Case>& info);

}  // namespace cli_test
