// The serve command around the workers: bind, start, wait for a signal, report.
#include <signal.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "probe.hpp"
#include "serve.hpp"
#include "serve_gauges.hpp"
#include "stale_socket.hpp"

namespace ringsock_cli {

namespace {

using ringsock::Endpoint;

void print_endpoint(FILE* out, const char* prefix, const Endpoint& ep) {
  char url[ringsock::kEndpointUrlMax];
  if (ringsock::format_endpoint(ep, url, sizeof url) < 0) snprintf(url, sizeof url, "?");
  fprintf(out, "%s%s\n", prefix, url);
}

void print_counters(const Endpoint& ep, const Counters& c) {
  char url[ringsock::kEndpointUrlMax];
  if (ringsock::format_endpoint(ep, url, sizeof url) < 0) snprintf(url, sizeof url, "?");
  uint64_t errors = 0;
  for (uint64_t e : c.errors) errors += e;
  printf("%s: connections %llu, in %llu messages %llu bytes, out %llu messages %llu bytes, "
         "errors %llu",
         url, (unsigned long long)c.accepted, (unsigned long long)c.messages_in,
         (unsigned long long)c.bytes_in, (unsigned long long)c.messages_out,
         (unsigned long long)c.bytes_out, (unsigned long long)errors);
  for (int k = 0; k < kErrorKinds; ++k) {
    if (c.errors[k] != 0) printf(" %s=%llu", error_kind_name(k), (unsigned long long)c.errors[k]);
  }
  printf("\n");
}

// A UNIX path we bound is ours to remove; abstract names vanish by themselves.
void unlink_unix_path(const Endpoint& ep) {
  if (ep.family() != AF_UNIX) return;
  const auto* un = reinterpret_cast<const sockaddr_un*>(&ep.storage);
  if (un->sun_path[0] != '\0') unlink(un->sun_path);
}

// Why a UNIX path may be in use, and what to do about it.
const char* bind_hint(const ServeArgs& args, const Endpoint& ep, int rc) {
  if (rc != -EADDRINUSE) return "";
  switch (probe_socket_file(ep)) {
    case SocketFile::live: return " (a server is listening there)";
    case SocketFile::stale:
      return args.unlink_stale ? "" : " (a stale socket file? use --unlink-stale)";
    default: return "";
  }
}

int bind_workers(const ServeArgs& args, std::vector<std::unique_ptr<Worker>>& workers) {
  for (uint32_t t = 0; t < args.threads; ++t) {
    workers.push_back(std::make_unique<Worker>(args, t));
    uint32_t failed = 0;
    const Worker* first = t == 0 ? nullptr : workers[0].get();
    int rc = workers[t]->bind_all(first, failed);
    if (rc < 0) {
      char url[ringsock::kEndpointUrlMax];
      ringsock::format_endpoint(args.endpoints[failed], url, sizeof url);
      fprintf(stderr, "ringsock serve: cannot bind %s: %s%s\n", url, strerror(-rc),
              bind_hint(args, args.endpoints[failed], rc));
      return 1;
    }
  }
  return 0;
}

// Thread 0 last: with --dispatch handoff it hands connections to the others,
// whose loops must run by then.
int start_workers(std::vector<std::unique_ptr<Worker>>& workers) {
  for (size_t t = workers.size(); t-- > 0;) {
    if (workers[t]->start() < 0) {
      fprintf(stderr, "ringsock serve: thread %zu: cannot start a loop: %s\n", t,
              workers[t]->reason());
      return 1;
    }
  }
  return 0;
}

int wait_for_signal(const sigset_t& set) {
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

void print_gauges(const std::vector<std::unique_ptr<Worker>>& workers) {
  ServeGauges gauges;
  for (const auto& w : workers) {
    gauges.connections += w->open_connections();
    gauges.buffers_lent += w->buffers_lent();
  }
  print_serve_gauges(stderr, gauges);
}

}  // namespace

// Signals are blocked in every thread and taken by sigwait on this one: the
// stop then runs in ordinary code (lock, wake, join), not in a handler where
// waking a loop could race its deinit; so does SIGUSR1's gauge line (opendir,
// fopen: nothing a handler may do).
int run_serve(const ServeArgs& args) {
  uint64_t fds = raise_fd_limit();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);  // the gauges, see serve_gauges.hpp
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::unique_ptr<Worker>> workers;
  workers.reserve(args.threads);
  int rc = bind_workers(args, workers);
  if (rc == 0) {
    for (auto& w : workers) w->set_peers(workers);
    rc = start_workers(workers);
  }
  if (rc != 0) {
    for (uint32_t i = 0; i < args.endpoint_count; ++i) {
      if (workers[0]->serves(i)) unlink_unix_path(workers[0]->bound(i));
    }
    workers.clear();
    return rc;
  }
  // Tests and scripts read these lines to learn the ephemeral ports.
  for (uint32_t i = 0; i < args.endpoint_count; ++i) {
    print_endpoint(stdout, "listening ", workers[0]->bound(i));
  }
  bool handoff = args.dispatch == Dispatch::handoff && args.threads > 1;
  printf("mode %s, %u thread(s)%s, fd limit %llu\n", mode_name(args.mode), args.threads,
         handoff ? " (handoff)" : "", (unsigned long long)fds);
  if (args.direct) {
    uint32_t slots = workers[0]->direct_descriptors();
    if (slots != 0) {
      printf("direct descriptors: %u per thread\n", slots);
    } else {
      bool epoll = workers[0]->backend() == ringsock::BackendKind::epoll;
      printf("direct descriptors: off (%s)\n",
             epoll ? "epoll has none"
                   : "the kernel refused the table: it needs Linux 6.13, and at most "
                     "RLIMIT_NOFILE slots");
    }
  }
  fflush(stdout);

  int signal_number = wait_for_signal(set);
  while (signal_number == SIGUSR1) {
    print_gauges(workers);
    signal_number = wait_for_signal(set);
  }
  bool failed = false;
  for (auto& w : workers) {
    w->stop();
    failed |= w->failed();
    if (w->failed()) fprintf(stderr, "ringsock serve: %s\n", w->reason());
  }
  printf("stopped by %s\n", strsignal(signal_number));
  for (uint32_t i = 0; i < args.endpoint_count; ++i) {
    Counters total;
    for (auto& w : workers) {
      if (w->serves(i)) total.add(w->counters(i));
    }
    print_counters(workers[0]->bound(i), total);
    unlink_unix_path(workers[0]->bound(i));
  }
  fflush(stdout);
  return failed ? 1 : 0;
}

}  // namespace ringsock_cli
