#define _GNU_SOURCE
#include "peer_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

static const char* program_name = "peer";

static void usage(FILE* out) {
  fprintf(out,
          "usage: %s [--mode echo|sink] [--threads N] ENDPOINT...\n"
          "  ENDPOINT: tcp://127.0.0.1:PORT  tcp://[::1]:PORT  udp://127.0.0.1:PORT\n"
          "            udp://[::1]:PORT  unix:///abs/path (UNIX stream)\n"
          "  echo (default): send back every byte / datagram; sink: read and discard.\n"
          "  --threads N: N event loops, one per thread (1..64, default 1); TCP and UDP\n"
          "            endpoints get a SO_REUSEPORT socket per loop, a UNIX endpoint one\n"
          "            listening socket that every loop accepts on.\n"
          "  Prints `ready` once listening; on SIGINT/SIGTERM prints the counters and exits 0.\n",
          program_name);
}

static void bad_args(const char* fmt, const char* what) {
  fprintf(stderr, "%s: ", program_name);
  fprintf(stderr, fmt, what);
  fprintf(stderr, "\n");
  usage(stderr);
  exit(2);
}

static int parse_port(const char* text, uint16_t* port) {
  if (*text == '\0' || strlen(text) > 5) return -1;
  unsigned value = 0;
  for (const char* p = text; *p; ++p) {
    if (*p < '0' || *p > '9') return -1;
    value = value * 10 + (unsigned)(*p - '0');
  }
  if (value > 65535) return -1;
  *port = (uint16_t)value;
  return 0;
}

/* "127.0.0.1:PORT" or "[::1]:PORT": numeric addresses only. */
static int parse_inet(const char* rest, struct peer_endpoint* ep) {
  char host[INET6_ADDRSTRLEN + 1];
  const char* port_text;
  uint16_t port;
  memset(&ep->addr, 0, sizeof ep->addr);
  if (rest[0] == '[') {
    const char* close = strchr(rest, ']');
    if (close == NULL || close[1] != ':') return -1;
    size_t n = (size_t)(close - rest - 1);
    if (n == 0 || n >= sizeof host) return -1;
    memcpy(host, rest + 1, n);
    host[n] = '\0';
    port_text = close + 2;
    struct sockaddr_in6* sin6 = (struct sockaddr_in6*)&ep->addr;
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) return -1;
    if (parse_port(port_text, &port) != 0) return -1;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    ep->addr_len = sizeof *sin6;
    return 0;
  }
  const char* colon = strrchr(rest, ':');
  if (colon == NULL) return -1;
  size_t n = (size_t)(colon - rest);
  if (n == 0 || n >= sizeof host) return -1;
  memcpy(host, rest, n);
  host[n] = '\0';
  port_text = colon + 1;
  struct sockaddr_in* sin = (struct sockaddr_in*)&ep->addr;
  if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) return -1;
  if (parse_port(port_text, &port) != 0) return -1;
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  ep->addr_len = sizeof *sin;
  return 0;
}

static int parse_endpoint(const char* text, struct peer_endpoint* ep) {
  ep->text = text;
  ep->fd = -1;
  if (strncmp(text, "tcp://", 6) == 0) {
    ep->transport = PEER_TCP;
    return parse_inet(text + 6, ep);
  }
  if (strncmp(text, "udp://", 6) == 0) {
    ep->transport = PEER_UDP;
    return parse_inet(text + 6, ep);
  }
  if (strncmp(text, "unix://", 7) == 0) {
    const char* path = text + 7;
    struct sockaddr_un* sun = (struct sockaddr_un*)&ep->addr;
    if (path[0] != '/' || strlen(path) >= sizeof sun->sun_path) return -1;
    ep->transport = PEER_UNIX;
    memset(&ep->addr, 0, sizeof ep->addr);
    sun->sun_family = AF_UNIX;
    strcpy(sun->sun_path, path);
    ep->addr_len = (socklen_t)sizeof *sun;
    return 0;
  }
  return -1;
}

void peer_parse_args(int argc, char** argv, struct peer_config* config) {
  if (argc > 0 && argv[0] != NULL) {
    const char* slash = strrchr(argv[0], '/');
    program_name = slash != NULL ? slash + 1 : argv[0];
  }
  memset(config, 0, sizeof *config);
  config->mode = PEER_ECHO;
  config->threads = 1;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      exit(0);
    }
    if (strcmp(arg, "--mode") == 0 || strncmp(arg, "--mode=", 7) == 0) {
      const char* value = arg[6] == '=' ? arg + 7 : (i + 1 < argc ? argv[++i] : NULL);
      if (value == NULL) bad_args("%s needs a value: echo or sink", "--mode");
      if (strcmp(value, "echo") == 0) {
        config->mode = PEER_ECHO;
      } else if (strcmp(value, "sink") == 0) {
        config->mode = PEER_SINK;
      } else {
        bad_args("--mode must be echo or sink, not '%s'", value);
      }
      continue;
    }
    if (strcmp(arg, "--threads") == 0 || strncmp(arg, "--threads=", 10) == 0) {
      const char* value = arg[9] == '=' ? arg + 10 : (i + 1 < argc ? argv[++i] : NULL);
      if (value == NULL) bad_args("%s needs a value: 1..64", "--threads");
      char* end = NULL;
      errno = 0;
      long n = strtol(value, &end, 10);
      if (errno != 0 || end == value || *end != '\0' || n < 1 || n > PEER_MAX_THREADS) {
        bad_args("--threads must be 1..64, not '%s'", value);
      }
      config->threads = (int)n;
      continue;
    }
    if (arg[0] == '-') bad_args("unknown option '%s'", arg);
    if (config->count == PEER_MAX_ENDPOINTS) bad_args("too many endpoints (at most 16): '%s'", arg);
    if (parse_endpoint(arg, &config->endpoints[config->count]) != 0) {
      bad_args("bad endpoint '%s'", arg);
    }
    ++config->count;
  }
  if (config->count == 0) bad_args("%s", "at least one ENDPOINT is needed");
}

void peer_setup_process(void) {
  signal(SIGPIPE, SIG_IGN);
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      fprintf(stderr, "%s: warning: cannot raise RLIMIT_NOFILE: %s\n", program_name,
              strerror(errno));
    }
  }
}

static void fail_endpoint(const struct peer_endpoint* ep, const char* step) {
  int error = errno;
  fprintf(stderr, "%s: %s: %s: %s\n", program_name, ep->text, step, strerror(error));
  exit(1);
}

/* --threads: the port must be free, not shared with some
 * other SO_REUSEPORT socket (a peer left over from an earlier run would take
 * part of the load). A probe bound without SO_REUSEPORT (and, for UDP,
 * without SO_REUSEADDR, which lets UDP sockets share) is refused when any
 * socket holds the port. */
static void check_port_free(const struct peer_endpoint* ep) {
  int type = ep->transport == PEER_UDP ? SOCK_DGRAM : SOCK_STREAM;
  int fd = socket(ep->addr.ss_family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_endpoint(ep, "socket");
  int one = 1;
  if (type == SOCK_STREAM) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ep->addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (const struct sockaddr*)&ep->addr, ep->addr_len) != 0) fail_endpoint(ep, "bind");
  close(fd);
}

void peer_open_endpoints(const struct peer_config* config, struct peer_endpoint* endpoints,
                         int nonblocking, const struct peer_endpoint* first) {
  int reuseport = config->threads > 1;
  for (int i = 0; i < config->count; ++i) {
    struct peer_endpoint* ep = &endpoints[i];
    *ep = config->endpoints[i];
    if (first != NULL && ep->transport == PEER_UNIX) {
      ep->fd = fcntl(first[i].fd, F_DUPFD_CLOEXEC, 0);
      if (ep->fd < 0) fail_endpoint(ep, "dup");
      continue;
    }
    if (first == NULL && reuseport && ep->transport != PEER_UNIX) {
      check_port_free(ep);
    }
    int type = ep->transport == PEER_UDP ? SOCK_DGRAM : SOCK_STREAM;
    int fd = socket(ep->addr.ss_family, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) fail_endpoint(ep, "socket");
    int one = 1;
    if (ep->transport != PEER_UNIX &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      fail_endpoint(ep, "SO_REUSEADDR");
    }
    if (ep->transport != PEER_UNIX && reuseport &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      fail_endpoint(ep, "SO_REUSEPORT");
    }
    if (ep->addr.ss_family == AF_INET6) {  /* [::1] means IPv6 only */
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (ep->transport == PEER_UDP) {
      int size = PEER_DATAGRAM_SOCKET_BUFFER;
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    if (ep->transport == PEER_UNIX) {
      const struct sockaddr_un* sun = (const struct sockaddr_un*)&ep->addr;
      if (unlink(sun->sun_path) != 0 && errno != ENOENT) fail_endpoint(ep, "unlink");
    }
    if (bind(fd, (const struct sockaddr*)&ep->addr, ep->addr_len) != 0) fail_endpoint(ep, "bind");
    if (type == SOCK_STREAM && listen(fd, PEER_LISTEN_BACKLOG) != 0) fail_endpoint(ep, "listen");
    ep->fd = fd;
  }
}

void peer_tune_accepted(const struct peer_endpoint* endpoint, int fd) {
  if (endpoint->transport == PEER_TCP) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

void peer_ready(void) {
  fputs("ready\n", stdout);
  fflush(stdout);
}

void peer_finish(const struct peer_config* config, const struct peer_endpoint* endpoints,
                 const struct peer_counters* c) {
  printf("connections %" PRIu64 ", messages_in %" PRIu64 ", bytes_in %" PRIu64
         ", bytes_out %" PRIu64 "\n",
         c->connections, c->messages_in, c->bytes_in, c->bytes_out);
  fflush(stdout);
  for (int i = 0; i < config->count; ++i) {
    const struct peer_endpoint* ep = &endpoints[i];
    if (ep->transport == PEER_UNIX && ep->fd >= 0) {
      unlink(((const struct sockaddr_un*)&ep->addr)->sun_path);
    }
  }
}

int peer_accept_should_pause(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

/* ------------------------------------------------------------ peer_run */

static int loops_total;
static int loops_ready;
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;

void peer_loop_ready(void) {
  pthread_mutex_lock(&ready_lock);
  if (++loops_ready == loops_total) peer_ready();
  pthread_mutex_unlock(&ready_lock);
}

struct stopper {
  sigset_t signals;
  int stop_fd;
};

/* Waits for SIGINT or SIGTERM (blocked in every thread), then makes the stop
 * eventfd readable for every loop. */
static void* wait_for_stop(void* arg) {
  struct stopper* s = arg;
  int sig = 0;
  while (sigwait(&s->signals, &sig) != 0) {
  }
  uint64_t one = 1;
  while (write(s->stop_fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  return NULL;
}

static void (*serve_loop)(struct peer_thread*);

static void* run_loop(void* arg) {
  serve_loop(arg);
  return NULL;
}

int peer_run(struct peer_config* config, int nonblocking, void (*loop)(struct peer_thread*)) {
  peer_setup_process();
  static struct peer_thread threads[PEER_MAX_THREADS];
  static struct stopper stopper;
  int n = config->threads;
  loops_total = n;
  serve_loop = loop;

  sigemptyset(&stopper.signals);
  sigaddset(&stopper.signals, SIGINT);
  sigaddset(&stopper.signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopper.signals, NULL); /* inherited by every thread */
  stopper.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stopper.stop_fd < 0) {
    fprintf(stderr, "%s: eventfd: %s\n", program_name, strerror(errno));
    return 1;
  }

  for (int t = 0; t < n; ++t) {
    struct peer_thread* th = &threads[t];
    th->stop_fd = stopper.stop_fd;
    peer_open_endpoints(config, th->endpoints, nonblocking, t == 0 ? NULL : threads[0].endpoints);
  }

  pthread_t stop_thread;
  int rc = pthread_create(&stop_thread, NULL, wait_for_stop, &stopper);
  if (rc != 0) {
    fprintf(stderr, "%s: pthread_create: %s\n", program_name, strerror(rc));
    return 1;
  }
  for (int t = 1; t < n; ++t) {
    rc = pthread_create(&threads[t].thread, NULL, run_loop, &threads[t]);
    if (rc != 0) {
      fprintf(stderr, "%s: pthread_create: %s\n", program_name, strerror(rc));
      exit(1);
    }
  }
  loop(&threads[0]);
  struct peer_counters total;
  memset(&total, 0, sizeof total);
  for (int t = 0; t < n; ++t) {
    if (t > 0) pthread_join(threads[t].thread, NULL);
    total.connections += threads[t].counters.connections;
    total.messages_in += threads[t].counters.messages_in;
    total.bytes_in += threads[t].counters.bytes_in;
    total.bytes_out += threads[t].counters.bytes_out;
  }
  pthread_join(stop_thread, NULL);
  peer_finish(config, threads[0].endpoints, &total);
  return 0;
}
