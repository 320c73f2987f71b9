// Backend selection: once, at loop init, never per operation.
#include "backend/chosen_backend.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ringsock::detail {

namespace {

struct Choice {
  BackendChoice backend;
  const char* source;  // who chose: for the reason the loop reports
};

// RINGSOCK_BACKEND=uring|epoll|auto overrides the options for any program.
int choose(const LoopOptions& options, Choice& choice) {
  choice = Choice{options.backend, "LoopOptions::backend"};
  const char* env = getenv("RINGSOCK_BACKEND");
  if (env == nullptr || *env == '\0') return 0;
  choice.source = "RINGSOCK_BACKEND";
  if (strcmp(env, "uring") == 0 || strcmp(env, "io_uring") == 0) {
    choice.backend = BackendChoice::uring;
  } else if (strcmp(env, "epoll") == 0) {
    choice.backend = BackendChoice::epoll;
  } else if (strcmp(env, "auto") == 0) {
    choice.backend = BackendChoice::automatic;
  } else {
    return -EINVAL;
  }
  return 0;
}

}  // namespace

int ChosenBackend::init(const LoopOptions& options, BufferPool& pool, EventQueue& queue,
                   Capabilities& caps, LoopStats& stats) noexcept {
  Choice choice;
  if (choose(options, choice) < 0) {
    snprintf(reason_, sizeof(reason_), "RINGSOCK_BACKEND must be uring, epoll or auto");
    return -EINVAL;
  }
  if (choice.backend == BackendChoice::epoll) {
    char why[64];
    snprintf(why, sizeof(why), "forced by %s", choice.source);
    return init_epoll(options, pool, queue, caps, stats, why);
  }
#if RINGSOCK_HAVE_URING
  int rc = uring_.init(options, pool, queue, caps, stats);
  if (rc == 0) {
    kind_ = BackendKind::uring;
    if (choice.backend == BackendChoice::uring) {
      snprintf(reason_, sizeof(reason_), "io_uring (forced by %s)", choice.source);
    } else {
      snprintf(reason_, sizeof(reason_), "io_uring");
    }
    return 0;
  }
  if (choice.backend == BackendChoice::uring) {
    // Forced: a clear error, never a silent fallback.
    snprintf(reason_, sizeof(reason_), "io_uring forced by %s, but %s", choice.source,
             uring_.reason());
    return rc;
  }
  return init_epoll(options, pool, queue, caps, stats, uring_.reason());
#else
  if (choice.backend == BackendChoice::uring) {
    snprintf(reason_, sizeof(reason_), "io_uring forced by %s, but it is not built in",
             choice.source);
    return -EOPNOTSUPP;
  }
  return init_epoll(options, pool, queue, caps, stats, "io_uring not built in");
#endif
}

int ChosenBackend::init_epoll(const LoopOptions& options, BufferPool& pool, EventQueue& queue,
                         Capabilities& caps, LoopStats& stats, const char* why) noexcept {
  int rc = epoll_.init(options, pool, queue, caps, stats);
  if (rc < 0) {
    snprintf(reason_, sizeof(reason_), "epoll setup failed (%s) after: %s", strerror(-rc), why);
    return rc;
  }
  kind_ = BackendKind::epoll;
  snprintf(reason_, sizeof(reason_), "epoll: %s", why);
  return 0;
}

void ChosenBackend::deinit() noexcept {
#if RINGSOCK_HAVE_URING
  uring_.deinit();
#endif
  epoll_.deinit();
  kind_ = BackendKind::none;
}

}  // namespace ringsock::detail
