/* Shared by the peer servers (bench/peers): argument parsing, listening
 * sockets, process setup and the counters line, so that the peers differ only
 * in their event-loop code. Plain C, usable from C++. */
#ifndef RINGSOCK_BENCH_PEER_COMMON_H
#define RINGSOCK_BENCH_PEER_COMMON_H

#include <stdint.h>
#include <pthread.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { PEER_MAX_ENDPOINTS = 16 };
enum { PEER_BUFFER_SIZE = 64 * 1024 };   /* read buffer per connection / socket */
enum { PEER_LISTEN_BACKLOG = 4096 };
enum { PEER_ACCEPT_PAUSE_MS = 50 };      /* after EMFILE and friends */
enum { PEER_DATAGRAM_SOCKET_BUFFER = 4 << 20 };  /* as ringsock serve */

enum peer_transport { PEER_TCP, PEER_UDP, PEER_UNIX };
enum peer_mode { PEER_ECHO, PEER_SINK };

struct peer_endpoint {
  enum peer_transport transport;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  const char* text;  /* as given on the command line */
  int fd;            /* the listening (stream) or bound (datagram) socket */
};

enum { PEER_MAX_THREADS = 64 };

struct peer_config {
  enum peer_mode mode;
  int threads;    /* --threads N: event loops, one per thread (1 by default) */
  int count;
  struct peer_endpoint endpoints[PEER_MAX_ENDPOINTS];
};

struct peer_counters {
  uint64_t connections;  /* accepted */
  uint64_t messages_in;  /* reads that returned data, or datagrams */
  uint64_t bytes_in;
  uint64_t bytes_out;
};

/* Parses `[--mode echo|sink] [--threads N] ENDPOINT...`; on bad
 * arguments prints to stderr and exits 2. `--help` prints the usage and exits 0. */
void peer_parse_args(int argc, char** argv, struct peer_config* config);

/* One event loop of a peer: its own sockets, and where it leaves its counts.
 * Loop 0 runs on the main thread. */
struct peer_thread {
  /* This loop's sockets, in the order of config->endpoints: with several
   * loops, a TCP or UDP endpoint has one SO_REUSEPORT socket per loop (the
   * kernel spreads connections and datagrams over them), a UNIX endpoint one
   * listening socket that every loop accepts on (each holds a dup). */
  struct peer_endpoint endpoints[PEER_MAX_ENDPOINTS];
  /* Readable (an eventfd) once the peer is stopping: a loop watches it for
   * readability, never reads it (so every loop sees it), and returns. */
  int stop_fd;
  struct peer_counters counters;  /* set by the loop before it returns */
  pthread_t thread;
};

/* Runs a peer: the process setup, the sockets of config->threads loops
 * (O_NONBLOCK when `nonblocking`), then `loop` once per loop, on its own
 * thread. SIGINT and SIGTERM are blocked in every loop thread; a thread of
 * its own waits for them and makes stop_fd readable. Once every loop has
 * returned, prints the summed counters (peer_finish). Returns the exit code.
 * Each loop calls peer_loop_ready() when it is set up; `ready` is printed
 * when all have. */
int peer_run(struct peer_config* config, int nonblocking, void (*loop)(struct peer_thread*));

/* Called by a loop once it serves its sockets; the last one prints `ready`. */
void peer_loop_ready(void);

/* Ignores SIGPIPE and raises RLIMIT_NOFILE's soft limit to the hard one. */
void peer_setup_process(void);

/* Creates, binds and (streams) listens every endpoint's socket of
 * `endpoints` (config->count of them): SO_REUSEADDR for TCP (and SO_REUSEPORT
 * on TCP/UDP with more than one thread, so that the loops share a port, once
 * a probe found the port free), backlog 4096, 4 MiB buffers on datagram
 * sockets, a UNIX path unlinked first. `nonblocking`: O_NONBLOCK on the
 * sockets. On failure prints the endpoint and the errno text and exits 1.
 * `first`: NULL, or the sockets of the first loop, whose UNIX listeners the
 * new set shares (a dup) instead of binding the path again.
 * peer_run calls it; only a peer that runs its own threads calls it itself. */
void peer_open_endpoints(const struct peer_config* config, struct peer_endpoint* endpoints,
                         int nonblocking, const struct peer_endpoint* first);

/* Per accepted connection: TCP_NODELAY on TCP (as ringsock serve). */
void peer_tune_accepted(const struct peer_endpoint* endpoint, int fd);

/* Prints the line `ready` on stdout and flushes it (peers with their own threads). */
void peer_ready(void);

/* Prints `connections N, messages_in N, bytes_in N, bytes_out N`, flushes,
 * and unlinks the UNIX paths of `endpoints` (the sockets peer_open_endpoints
 * opened, config->count of them). */
void peer_finish(const struct peer_config* config, const struct peer_endpoint* endpoints,
                 const struct peer_counters* counters);

/* errno values of accept() that mean "try again later", not "this
 * connection failed": EMFILE, ENFILE, ENOBUFS, ENOMEM. */
int peer_accept_should_pause(int error);

#ifdef __cplusplus
}
#endif

#endif
