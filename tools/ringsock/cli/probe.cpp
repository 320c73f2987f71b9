#include "probe.hpp"

#include <sys/utsname.h>

#include <cstdio>
#include <cstdlib>

#include "ringsock/loop.hpp"

namespace ringsock_cli {

using ringsock::BackendChoice;
using ringsock::Loop;
using ringsock::LoopOptions;

const char* backend_name(int kind) noexcept {
  switch (ringsock::BackendKind(kind)) {
    case ringsock::BackendKind::uring: return "uring";
    case ringsock::BackendKind::epoll: return "epoll";
    case ringsock::BackendKind::none: break;
  }
  return "none";
}

namespace {

// One loop with `choice`: prints "<label>: <backend> (<reason>)"; true if it started.
bool try_backend(const char* label, BackendChoice choice, bool with_capabilities) {
  Loop loop;
  LoopOptions options;
  options.backend = choice;
  int rc = loop.init(options);
  if (rc < 0) {
    printf("%-13s cannot start: %s\n", label, loop.backend_reason());
    return false;
  }
  printf("%-13s %s (%s)\n", label, backend_name(int(loop.backend())), loop.backend_reason());
  if (with_capabilities) {
    char caps[512];
    ringsock::format_capabilities(loop.capabilities(), caps, sizeof caps);
    printf("%-13s %s\n", "capabilities:", caps);
  }
  return true;
}

}  // namespace

int run_probe() noexcept {
  utsname name{};
  if (uname(&name) == 0) {
    printf("%-13s %s %s %s\n", "kernel:", name.sysname, name.release, name.machine);
  }
  const char* forced = getenv("RINGSOCK_BACKEND");
  if (forced != nullptr) {
    printf("%-13s %s (overrides every choice below)\n", "RINGSOCK_BACKEND:", forced);
  } else {
    printf("%-13s not set\n", "RINGSOCK_BACKEND:");
  }
  bool any = try_backend("backend:", BackendChoice::automatic, true);
  // The explicit choices say what --backend uring / epoll would give.
  bool uring = try_backend("uring:", BackendChoice::uring, false);
  bool epoll = try_backend("epoll:", BackendChoice::epoll, false);
  return any || uring || epoll ? 0 : 1;
}

}  // namespace ringsock_cli
