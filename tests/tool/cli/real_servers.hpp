// Real servers from Debian's packages for the tests of `ringsock load`
// against any service: redis-server, memcached, nginx (HTTP/1.1) and dnsmasq
// (DNS over UDP). Each runs on a free 127.0.0.1 port, in a temporary
// directory of its own with a config of its own (nothing under /etc, /var or
// /run is read or written), with its output in a log file there.
//
// start() waits (bounded) until the server answers; stop() sends SIGTERM,
// waits, then SIGKILLs, and always reaps; the destructor stops it too, and a
// server dies with the test process (PR_SET_PDEATHSIG). A missing binary is
// reported as missing() so that a test can GTEST_SKIP.
// Caveats: the port is free when picked and taken by the server a moment
// later; start() tries three ports before it gives up. As root, memcached
// runs with -u root, nginx with master_process off (one process, no user
// switch) and dnsmasq with --user=root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cli_test {

enum class ServerKind { redis, memcached, nginx, dnsmasq };

/// The path of an installed program (PATH, then /usr/sbin and /sbin), or "".
std::string find_program(const std::string& name);

class RealServer {
 public:
  /// Starts a server of `kind`. Check missing() (skip), then running() (why() says what failed).
  static std::unique_ptr<RealServer> start(ServerKind kind);
  ~RealServer();
  RealServer(const RealServer&) = delete;
  RealServer& operator=(const RealServer&) = delete;

  bool missing() const { return missing_; }
  bool running() const { return pid_ > 0; }
  /// Why it is not running: the binary, the port, or the tail of its log.
  const std::string& why() const { return why_; }
  const char* name() const;

  uint16_t port() const { return port_; }
  /// tcp://127.0.0.1:PORT, or udp://127.0.0.1:PORT for dnsmasq.
  std::string url() const;
  /// Its temporary directory; for nginx, files under dir()/www are served.
  const std::string& dir() const { return dir_; }
  /// The server's log so far (stdout and stderr).
  std::string log() const;

  /// SIGTERM, up to 5 s for it to exit, then SIGKILL; reaped in any case.
  void stop();

 private:
  explicit RealServer(ServerKind kind);
  bool launch(const std::string& program);        // one attempt on a fresh port
  std::vector<std::string> arguments(const std::string& program) const;
  void write_config() const;                      // nginx.conf, the static file
  bool wait_until_answering(int timeout_ms);
  bool exited();                                  // reaps it if it has exited

  ServerKind kind_;
  bool missing_ = false;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string dir_;
  std::string why_;
};

/// The static file nginx serves as /index.html in every test.
extern const char* const kNginxIndex;

}  // namespace cli_test
