#include "netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rstest {

namespace {

int open_current_netns() { return ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC); }

bool have_command(const char* name) {
  std::string check = std::string("command -v ") + name + " >/dev/null 2>&1";
  return std::system(check.c_str()) == 0;
}

// The ruleset of drop_in_b: a table of its own, removed whole by undrop_in_b.
constexpr const char* kDropRules =
    "nft 'add table inet rsk_fault; "
    "add chain inet rsk_fault in { type filter hook input priority -10; }; "
    "add rule inet rsk_fault in iifname \"vb\" drop; "
    "add chain inet rsk_fault out { type filter hook output priority -10; }; "
    "add rule inet rsk_fault out oifname \"vb\" drop'";

// The ruleset of swallow_at_b_ingress: B's link address fixed, every frame
// dropped at vb's ingress, and A's neighbour entry for B made permanent.
constexpr const char* kSwallowInB =
    "ip link set vb down && ip link set vb address 02:52:53:4b:00:02 && ip link set vb up && "
    "nft 'add table netdev rsk_swallow; "
    "add chain netdev rsk_swallow in { type filter hook ingress device \"vb\" priority 0; "
    "policy drop; }'";
constexpr const char* kNeighbourInA =
    "ip neigh replace 10.78.0.2 lladdr 02:52:53:4b:00:02 dev va nud permanent";

}  // namespace

NetnsPair::~NetnsPair() {
  enter_home();
  for (int fd : {a_fd_, b_fd_, home_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

bool NetnsPair::create(std::string& why) {
  if (geteuid() != 0) {
    why = "network namespaces need root";
    return false;
  }
  for (const char* command : {"ip", "nft"}) {
    if (!have_command(command)) {
      why = std::string(command) + " is not installed";
      return false;
    }
  }
  home_fd_ = open_current_netns();
  if (home_fd_ < 0) {
    why = std::string("cannot open this thread's namespace: ") + strerror(errno);
    return false;
  }
  // B first, then back home and A: each unshare makes a fresh namespace.
  if (::unshare(CLONE_NEWNET) != 0) {
    why = std::string("unshare(CLONE_NEWNET): ") + strerror(errno);
    return false;
  }
  b_fd_ = open_current_netns();
  if (b_fd_ < 0 || !enter_home() || ::unshare(CLONE_NEWNET) != 0) {
    why = std::string("second namespace: ") + strerror(errno);
    return false;
  }
  a_fd_ = open_current_netns();
  if (a_fd_ < 0) {
    why = std::string("cannot open namespace A: ") + strerror(errno);
    return false;
  }
  // `ip` takes a namespace by path: B is reached through this process's fd.
  std::string b_path = "/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(b_fd_);
  bool ok = run("ip link set lo up && ip link add va type veth peer name vb netns " + b_path +
                " && ip addr add " + address_a() + "/24 dev va && ip link set va up") &&
            run_in(b_fd_, std::string("ip link set lo up && ip addr add ") + address_b() +
                              "/24 dev vb && ip link set vb up") &&
            run_in(b_fd_, "nft add table inet rsk_probe && nft delete table inet rsk_probe");
  if (!ok) {
    why = "setting up the namespaces failed: " + error_;
    return false;
  }
  return enter_a();
}

bool NetnsPair::enter_a() { return a_fd_ >= 0 && ::setns(a_fd_, CLONE_NEWNET) == 0; }
bool NetnsPair::enter_b() { return b_fd_ >= 0 && ::setns(b_fd_, CLONE_NEWNET) == 0; }
bool NetnsPair::enter_home() { return home_fd_ >= 0 && ::setns(home_fd_, CLONE_NEWNET) == 0; }

bool NetnsPair::drop_in_b() { return run_in(b_fd_, kDropRules); }
bool NetnsPair::undrop_in_b() { return run_in(b_fd_, "nft delete table inet rsk_fault"); }
bool NetnsPair::swallow_at_b_ingress() {
  return run_in(b_fd_, kSwallowInB) && run_in(a_fd_, kNeighbourInA);
}
bool NetnsPair::link_down_in_a() { return run_in(a_fd_, "ip link set va down"); }
bool NetnsPair::link_up_in_a() { return run_in(a_fd_, "ip link set va up"); }

bool NetnsPair::run(const std::string& command) {
  // popen forks from this thread, so the command runs in this thread's namespace.
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    error_ = command + ": popen: " + strerror(errno);
    return false;
  }
  std::string output;
  char chunk[256];
  while (size_t n = std::fread(chunk, 1, sizeof(chunk), pipe)) output.append(chunk, n);
  int status = ::pclose(pipe);
  if (status != 0) {
    error_ = command + ": " + output;
    return false;
  }
  return true;
}

// Runs in `ns_fd`'s namespace and returns the thread to A, where tests live.
bool NetnsPair::run_in(int ns_fd, const std::string& command) {
  if (::setns(ns_fd, CLONE_NEWNET) != 0) {
    error_ = std::string("setns: ") + strerror(errno);
    return false;
  }
  bool ok = run(command);
  return enter_a() && ok;
}

}  // namespace rstest
