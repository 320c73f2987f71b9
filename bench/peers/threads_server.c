/* peer-threads: blocking sockets, a thread per connection. One thread per
 * listening socket accepts and starts a detached pthread for every
 * connection, which loops on a blocking recv and (echo) sends everything back;
 * one thread per UDP socket loops on recvfrom/sendto. The main thread only
 * waits for SIGINT/SIGTERM (blocked in every thread, taken with sigwait).
 * Counters are shared: relaxed atomic adds. It is threaded by nature, so
 * --threads (event loops) does not apply to it and is refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "peer_common.h"

enum { kThreadStack = 256 * 1024 };  /* the 64 KiB buffer lives on it */

static struct peer_config config;
static struct peer_endpoint endpoints[PEER_MAX_ENDPOINTS];
static struct peer_counters counters;
static pthread_attr_t detached;

static void add(uint64_t* counter, uint64_t n) { __atomic_fetch_add(counter, n, __ATOMIC_RELAXED); }

static void* serve_connection(void* arg) {
  int fd = (int)(intptr_t)arg;
  char buffer[PEER_BUFFER_SIZE];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    add(&counters.messages_in, 1);
    add(&counters.bytes_in, (uint64_t)n);
    if (config.mode != PEER_ECHO) continue;
    ssize_t done = 0;
    while (done < n) {
      ssize_t w = send(fd, buffer + done, (size_t)(n - done), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) goto out;
      done += w;
      add(&counters.bytes_out, (uint64_t)w);
    }
  }
out:
  close(fd);
  return NULL;
}

static void* accept_loop(void* arg) {
  const struct peer_endpoint* ep = arg;
  for (;;) {
    int fd = accept4(ep->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (peer_accept_should_pause(errno)) {
        struct timespec pause = {0, PEER_ACCEPT_PAUSE_MS * 1000000L};
        nanosleep(&pause, NULL);
      }
      continue;  /* EINTR, ECONNABORTED... */
    }
    peer_tune_accepted(ep, fd);
    pthread_t thread;
    if (pthread_create(&thread, &detached, serve_connection, (void*)(intptr_t)fd) != 0) {
      close(fd);  /* out of threads: refuse this one */
      continue;
    }
    add(&counters.connections, 1);
  }
  return NULL;
}

static void* datagram_loop(void* arg) {
  const struct peer_endpoint* ep = arg;
  char buffer[PEER_BUFFER_SIZE];
  for (;;) {
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(ep->fd, buffer, sizeof buffer, 0, (struct sockaddr*)&from, &from_len);
    if (n < 0) continue;  /* EINTR, an ICMP error */
    add(&counters.messages_in, 1);
    add(&counters.bytes_in, (uint64_t)n);
    if (config.mode == PEER_ECHO) {
      ssize_t w = sendto(ep->fd, buffer, (size_t)n, MSG_NOSIGNAL, (struct sockaddr*)&from, from_len);
      if (w > 0) add(&counters.bytes_out, (uint64_t)w);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  peer_parse_args(argc, argv, &config);
  if (config.threads != 1) {
    fprintf(stderr, "peer-threads: --threads does not apply: it runs a thread per connection\n");
    return 2;
  }
  peer_setup_process();

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);  /* inherited by every thread */

  pthread_attr_init(&detached);
  pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&detached, kThreadStack);

  peer_open_endpoints(&config, endpoints, 0, NULL);
  for (int i = 0; i < config.count; ++i) {
    const struct peer_endpoint* ep = &endpoints[i];
    pthread_t thread;
    int rc = pthread_create(&thread, &detached, ep->transport == PEER_UDP ? datagram_loop : accept_loop,
                            (void*)ep);
    if (rc != 0) {
      fprintf(stderr, "peer-threads: %s: pthread_create: %s\n", ep->text, strerror(rc));
      return 1;
    }
  }
  peer_ready();
  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  struct peer_counters snapshot;
  snapshot.connections = __atomic_load_n(&counters.connections, __ATOMIC_RELAXED);
  snapshot.messages_in = __atomic_load_n(&counters.messages_in, __ATOMIC_RELAXED);
  snapshot.bytes_in = __atomic_load_n(&counters.bytes_in, __ATOMIC_RELAXED);
  snapshot.bytes_out = __atomic_load_n(&counters.bytes_out, __ATOMIC_RELAXED);
  peer_finish(&config, endpoints, &snapshot);
  return 0;  /* exit() ends the other threads */
}
