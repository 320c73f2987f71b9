#include "e2e_support.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cli_test {

TempDir::TempDir() {
  char name[] = "/tmp/ringsock-e2e-XXXXXX";
  path = mkdtemp(name);
}

TempDir::~TempDir() {
  std::string command = "rm -rf '" + path + "'";
  if (system(command.c_str()) != 0) {
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool backend_starts(const std::string& backend) {
  std::string out;
  if (run({"probe"}, &out, nullptr) != 0) return false;
  size_t at = out.find("\n" + backend + ":");
  return at != std::string::npos && out.find("cannot start", at) > out.find('\n', at + 1);
}

namespace {
std::vector<std::string> serve_args(const std::string& endpoint, const std::string& mode,
                                    const std::string& backend,
                                    const std::vector<std::string>& extra) {
  std::vector<std::string> args{"serve", "--mode", mode, "--backend", backend};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(endpoint);
  return args;
}
}  // namespace

Server::Server(const std::string& endpoint, const std::string& mode, const std::string& backend,
               const std::vector<std::string>& extra)
    : child_(serve_args(endpoint, mode, backend, extra)) {
  auto urls = child_.wait_lines("listening ", 1, kStartMs);
  if (!urls.empty()) url_ = urls[0];
}

Server::~Server() { stop(); }

std::string Server::stop() {
  if (!stopped_) status_ = child_.stop(SIGTERM, 10000);
  stopped_ = true;
  return child_.out();
}

int run_load(std::vector<std::string> args, std::string* out, std::string* err) {
  args.insert(args.begin(), "load");
  return run(args, out, err, kLoadMs);
}

void LoadOnBackend::SetUp() {
  if (!backend_starts(GetParam())) GTEST_SKIP() << "backend cannot start here";
}

int LoadOnBackend::load(const std::string& url, std::vector<std::string> args) {
  args.insert(args.begin(), url);
  args.push_back("--backend");
  args.push_back(GetParam());
  return run_load(args, &out, &err);
}

unsigned long long replies_verified(const std::string& out) {
  auto at = out.find("replies verified ");
  return at == std::string::npos ? 0 : std::stoull(out.substr(at + 17));
}

Outcome run_subcommand(const std::string& subcommand, const std::vector<std::string>& args) {
  std::vector<std::string> words{subcommand};
  words.insert(words.end(), args.begin(), args.end());
  Outcome o;
  o.code = run(words, &o.out, &o.err, kLoadMs);
  return o;
}

std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

bool json_balanced(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') --depth;
    if (depth < 0) return false;
  }
  return depth == 0 && !in_string && !text.empty();
}

int bind_loopback_tcp(uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

std::string unused_tcp_url() {
  uint16_t port = 0;
  int fd = bind_loopback_tcp(port);
  if (fd >= 0) close(fd);
  return "tcp://127.0.0.1:" + std::to_string(port);
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.transport << " " << c.backend; }

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.transport + "_" + info.param.backend;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

std::unique_ptr<Server> echo_on_one_port(const std::vector<std::string>& hosts,
                                         const std::string& backend, std::string* port) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    uint16_t free_port = 0;
    const int probe = bind_loopback_tcp(free_port);
    if (probe < 0) return nullptr;
    close(probe);
    *port = std::to_string(free_port);
    std::vector<std::string> more;
    for (size_t i = 1; i < hosts.size(); ++i) more.push_back("tcp://" + hosts[i] + ":" + *port);
    auto server = std::make_unique<Server>("tcp://" + hosts[0] + ":" + *port, "echo", backend, more);
    if (!server->url().empty()) return server;
  }
  return nullptr;
}

HostsNamespace::HostsNamespace(const TempDir& dir, const std::string& hosts) {
  const std::string files[][2] = {{write_file(dir, "hosts", hosts), "/etc/hosts"},
                                  {write_file(dir, "nsswitch.conf", "hosts: files\n"),
                                   "/etc/nsswitch.conf"},
                                  {write_file(dir, "host.conf", "multi on\n"), "/etc/host.conf"}};
  for (const auto& [from, to] : files) {
    if (!mounts_.empty()) mounts_ += " && ";
    mounts_ += "mount -n --bind '" + from + "' " + to;
  }
}

std::string HostsNamespace::unusable() const {
  if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0) {
    return "needs root and /usr/bin/unshare for a mount namespace";
  }
  std::string output;
  const int status = run("true", &output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "no private mount namespace with these files here: " + output;
  }
  return "";
}

int HostsNamespace::run(const std::string& command, std::string* output) const {
  Child child(Child::Program{"/usr/bin/unshare"},
              {"--mount", "--propagation", "private", "/bin/sh", "-c", mounts_ + " && " + command});
  const int status = child.wait(20000);
  *output = child.out() + child.err();
  return status;
}

}  // namespace cli_test
