/* Shared by the peer servers (bench/peers): argument parsing, listening
 * sockets, process setup and the counters line, so that the peers differ only
 * in their event-loop code. Plain C, usable from C++. */
#ifndef RINGSOCK_BENCH_PEER_COMMON_H
#define RINGSOCK_BENCH_PEER_COMMON_H

#include <stdint.h>
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

struct peer_config {
  enum peer_mode mode;
  int reuseport;  /* --reuseport: SO_REUSEPORT on TCP/UDP sockets, for several instances */
  int count;
  struct peer_endpoint endpoints[PEER_MAX_ENDPOINTS];
};

struct peer_counters {
  uint64_t connections;  /* accepted */
  uint64_t messages_in;  /* reads that returned data, or datagrams */
  uint64_t bytes_in;
  uint64_t bytes_out;
};

/* Parses `[--mode echo|sink] [--reuseport] ENDPOINT...`; on bad arguments prints to stderr
 * and exits 2. `--help` prints the usage and exits 0. */
void peer_parse_args(int argc, char** argv, struct peer_config* config);

/* Ignores SIGPIPE and raises RLIMIT_NOFILE's soft limit to the hard one. */
void peer_setup_process(void);

/* Creates, binds and (streams) listens every endpoint's socket: SO_REUSEADDR
 * for TCP (and SO_REUSEPORT on TCP/UDP with --reuseport, so that several
 * instances share a port, as bench/compare.sh --server-threads runs them), backlog 4096, 4 MiB buffers on datagram sockets, a UNIX path
 * unlinked first. `nonblocking`: O_NONBLOCK on the sockets. On failure prints
 * the endpoint and the errno text and exits 1. */
void peer_open_endpoints(struct peer_config* config, int nonblocking);

/* Per accepted connection: TCP_NODELAY on TCP (as ringsock serve). */
void peer_tune_accepted(const struct peer_endpoint* endpoint, int fd);

/* Prints the line `ready` on stdout and flushes it. */
void peer_ready(void);

/* Prints `connections N, messages_in N, bytes_in N, bytes_out N`, flushes,
 * and unlinks the UNIX paths. */
void peer_finish(const struct peer_config* config, const struct peer_counters* counters);

/* errno values of accept() that mean "try again later", not "this
 * connection failed": EMFILE, ENFILE, ENOBUFS, ENOMEM. */
int peer_accept_should_pause(int error);

#ifdef __cplusplus
}
#endif

#endif
