#include "real_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cli_test {

const char* const kNginxIndex = "<html><body>ringsock test page</body></html>\n";

namespace {

constexpr int kStartTimeoutMs = 10000;
constexpr int kStopTimeoutMs = 5000;
constexpr int kPortAttempts = 3;

long long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

bool executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// A port free for both TCP and UDP on 127.0.0.1 a moment ago (dnsmasq takes both).
uint16_t free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof a;
    uint16_t port = 0;
    if (bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &length) == 0) {
      port = ntohs(a.sin_port);
    }
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const bool udp_free = port != 0 && bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(udp);
    close(tcp);
    if (udp_free) return port;
  }
  return 0;
}

// Whether a TCP connect to 127.0.0.1:port succeeds now.
bool tcp_answers(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// Whether a DNS query to 127.0.0.1:port is answered within 200 ms.
bool dns_answers(uint16_t port) {
  // id 0x0001, RD, one question: "example.test" A IN.
  static const uint8_t query[] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p',
                                  'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = sendto(fd, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&a), sizeof a) ==
            ssize_t(sizeof query);
  pollfd p{fd, POLLIN, 0};
  uint8_t reply[512];
  ok = ok && poll(&p, 1, 200) == 1 && recv(fd, reply, sizeof reply, 0) >= 2 && reply[0] == 0 &&
       reply[1] == 1;
  close(fd);
  return ok;
}

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ringsock-server-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

}  // namespace

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(std::string(path != nullptr ? path : "") + ":/usr/sbin:/sbin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && executable(dir + "/" + name)) return dir + "/" + name;
  }
  return "";
}

RealServer::RealServer(ServerKind kind) : kind_(kind) {}

RealServer::~RealServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

const char* RealServer::name() const {
  switch (kind_) {
    case ServerKind::redis: return "redis-server";
    case ServerKind::memcached: return "memcached";
    case ServerKind::nginx: return "nginx";
    case ServerKind::dnsmasq: return "dnsmasq";
  }
  return "?";
}

std::string RealServer::url() const {
  return std::string(kind_ == ServerKind::dnsmasq ? "udp" : "tcp") + "://127.0.0.1:" +
         std::to_string(port_);
}

std::string RealServer::log() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::unique_ptr<RealServer> RealServer::start(ServerKind kind) {
  std::unique_ptr<RealServer> server(new RealServer(kind));
  const std::string program = find_program(server->name());
  if (program.empty()) {
    server->missing_ = true;
    server->why_ = std::string(server->name()) + " is not installed (scripts/deps.sh installs it)";
    return server;
  }
  server->dir_ = make_temp_dir();
  if (server->dir_.empty()) {
    server->why_ = "cannot make a temporary directory";
    return server;
  }
  for (int attempt = 0; attempt < kPortAttempts && !server->running(); ++attempt) {
    server->launch(program);
  }
  return server;
}

std::vector<std::string> RealServer::arguments(const std::string& program) const {
  const std::string port = std::to_string(port_);
  const bool root = geteuid() == 0;
  switch (kind_) {
    case ServerKind::redis:
      return {program, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              "--daemonize", "no", "--dir", dir_, "--protected-mode", "no"};
    case ServerKind::memcached: {
      std::vector<std::string> args{program, "-l", "127.0.0.1", "-p", port, "-U", "0",
                                    "-m", "16", "-t", "1"};
      if (root) args.insert(args.end(), {"-u", "root"});
      return args;
    }
    case ServerKind::nginx:
      return {program, "-p", dir_, "-c", dir_ + "/nginx.conf", "-e", dir_ + "/error.log"};
    case ServerKind::dnsmasq: {
      std::vector<std::string> args{program, "--no-daemon", "--conf-file=/dev/null",
                                    "--port=" + port, "--listen-address=127.0.0.1",
                                    "--bind-interfaces", "--no-resolv", "--no-hosts",
                                    "--address=/example.test/127.0.0.1",
                                    "--pid-file=" + dir_ + "/dnsmasq.pid", "--log-facility=-"};
      if (root) args.push_back("--user=root");
      return args;
    }
  }
  return {};
}

void RealServer::write_config() const {
  if (kind_ != ServerKind::nginx) return;
  std::filesystem::create_directories(dir_ + "/www");
  std::ofstream(dir_ + "/www/index.html") << kNginxIndex;
  // One process (master_process off): no user switch when run as root, no
  // workers to leave behind. Every path is inside dir_.
  std::ofstream conf(dir_ + "/nginx.conf");
  conf << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
       << "pid " << dir_ << "/nginx.pid;\nerror_log " << dir_ << "/error.log;\n"
       << "events { worker_connections 1024; }\n"
       << "http {\n  access_log off;\n  default_type text/html;\n"
       << "  keepalive_requests 100000;\n";
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    conf << "  " << temp << "_temp_path " << dir_ << "/" << temp << ";\n";
  }
  conf << "  server {\n    listen 127.0.0.1:" << port_ << ";\n    root " << dir_
       << "/www;\n  }\n}\n";
}

bool RealServer::launch(const std::string& program) {
  port_ = free_port();
  if (port_ == 0) {
    why_ = "no free port on 127.0.0.1";
    return false;
  }
  write_config();
  std::vector<std::string> words = arguments(program);
  const std::string log_path = dir_ + "/server.log";
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int null = open("/dev/null", O_RDONLY);
    if (log < 0 || null < 0 || chdir(dir_.c_str()) != 0) _exit(126);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid_ < 0) {
    why_ = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (wait_until_answering(kStartTimeoutMs)) return true;
  stop();
  why_ = std::string(name()) + " did not answer on port " + std::to_string(port_) +
         "; its log:\n" + log();
  return false;
}

bool RealServer::exited() {
  int status = 0;
  if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
  return pid_ <= 0;
}

bool RealServer::wait_until_answering(int timeout_ms) {
  const long long deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    if (exited()) return false;
    const bool answers = kind_ == ServerKind::dnsmasq ? dns_answers(port_) : tcp_answers(port_);
    if (answers) return true;
    usleep(20000);
  }
  return false;
}

void RealServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const long long deadline = now_ms() + kStopTimeoutMs;
  while (!exited() && now_ms() < deadline) usleep(10000);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

}  // namespace cli_test
