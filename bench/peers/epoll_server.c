/* peer-epoll: a hand-written epoll server, the way a competent one is written.
 * Edge-triggered, non-blocking; every readable socket is read until EAGAIN
 * into one 64 KiB loop buffer and (echo) written straight back; what a short
 * write leaves is kept per connection, reading stops and EPOLLOUT is armed
 * until it has gone out. UDP: recvfrom until EAGAIN, sendto the sender (a
 * reply the socket cannot take is dropped, as UDP allows). --threads N runs
 * N such loops, each with its own epoll set and sockets (peer_run); the stop
 * eventfd is in every set.
 *
 * --replies-after-batch (an experiment, not how the server runs in
 * bench/compare): stream echo reads each ready connection once, and only
 * after the whole epoll_wait batch has been read writes the replies - the
 * order of an engine whose callbacks run after its poll step (ringsock's).
 * It isolates what the order alone costs or saves (bench/results/
 * 2026-12-04-vm-reply-order.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "peer_common.h"

enum kind { KIND_LISTENER, KIND_DATAGRAM, KIND_CONN, KIND_STOP };

struct handle {  /* what epoll_data.ptr points at */
  enum kind kind;
  int fd;
};

struct listener {
  struct handle h;
  const struct peer_endpoint* endpoint;
  int64_t paused_until_ms;  /* 0: accepting */
};

struct conn {
  struct handle h;
  char* pending;  /* echo output a short write left, PEER_BUFFER_SIZE bytes */
  size_t pending_start;
  size_t pending_end;
  int want_out;   /* EPOLLOUT armed */
};

static struct peer_config config;
static int replies_after_batch;
/* One loop's state: each thread has its own. */
static _Thread_local struct peer_counters counters;
static _Thread_local int epfd;
static _Thread_local char buffer[PEER_BUFFER_SIZE];
static _Thread_local struct listener listeners[PEER_MAX_ENDPOINTS];
static _Thread_local struct handle datagrams[PEER_MAX_ENDPOINTS];

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_conn(struct conn* c) {
  close(c->h.fd);  /* also leaves the epoll set: the fd is never dup'ed */
  free(c->pending);
  free(c);
}

static int set_out(struct conn* c, int on) {
  struct epoll_event ev;
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? EPOLLOUT : 0);
  ev.data.ptr = c;
  c->want_out = on;
  return epoll_ctl(epfd, EPOLL_CTL_MOD, c->h.fd, &ev);
}

/* Writes [data, data + n); keeps the rest when the socket is full.
 * Returns -1 when the connection failed, 1 when output is pending, else 0. */
static int send_all(struct conn* c, const char* data, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = send(c->h.fd, data + done, n - done, MSG_NOSIGNAL);
    if (w > 0) {
      done += (size_t)w;
      counters.bytes_out += (uint64_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (c->pending == NULL && (c->pending = malloc(PEER_BUFFER_SIZE)) == NULL) return -1;
      memcpy(c->pending, data + done, n - done);
      c->pending_start = 0;
      c->pending_end = n - done;
      if (set_out(c, 1) != 0) return -1;
      return 1;
    } else {
      return -1;
    }
  }
  return 0;
}

/* Sends what a short write left; 1 while some remains, -1 on failure. */
static int flush_pending(struct conn* c) {
  while (c->pending_start < c->pending_end) {
    ssize_t w = send(c->h.fd, c->pending + c->pending_start, c->pending_end - c->pending_start,
                     MSG_NOSIGNAL);
    if (w > 0) {
      c->pending_start += (size_t)w;
      counters.bytes_out += (uint64_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return 1;
    } else {
      return -1;
    }
  }
  c->pending_start = c->pending_end = 0;
  return set_out(c, 0) == 0 ? 0 : -1;
}

/* Counts what a read brought and (echo) writes it back: send_all's result. */
static int take_input(struct conn* c, const char* data, size_t n) {
  ++counters.messages_in;
  counters.bytes_in += (uint64_t)n;
  return config.mode == PEER_ECHO ? send_all(c, data, n) : 0;
}

static void on_conn(struct conn* c, uint32_t events) {
  if (c->pending_end > c->pending_start) {
    int rc = flush_pending(c);
    if (rc < 0) {
      close_conn(c);
      return;
    }
    if (rc > 0) return;  /* still full: wait for the next EPOLLOUT */
    /* Drained: the input left unread meanwhile gives no new edge, read it now. */
  } else if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    return;
  }
  for (;;) {
    ssize_t n = recv(c->h.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      int rc = take_input(c, buffer, (size_t)n);
      if (rc < 0) break;
      if (rc > 0) return;  /* stop reading until the output has gone */
    } else if (n == 0) {
      break;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      break;  /* ECONNRESET and the like */
    }
  }
  close_conn(c);
}

static void accept_all(struct listener* l) {
  for (;;) {
    int fd = accept4(l->h.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (peer_accept_should_pause(errno)) {
        /* Out of fds: the backlog stays readable and, edge-triggered, gives no
         * new event; come back after a pause instead of spinning. */
        l->paused_until_ms = now_ms() + PEER_ACCEPT_PAUSE_MS;
        return;
      }
      return;
    }
    peer_tune_accepted(l->endpoint, fd);
    struct conn* c = calloc(1, sizeof *c);
    if (c == NULL) {
      close(fd);
      continue;
    }
    c->h.kind = KIND_CONN;
    c->h.fd = fd;
    struct epoll_event ev;
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      free(c);
      continue;
    }
    ++counters.connections;
  }
}

static void on_datagram(struct handle* h) {
  for (;;) {
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(h->fd, buffer, sizeof buffer, 0, (struct sockaddr*)&from, &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  /* EAGAIN; or an ICMP error reported on the socket */
    }
    ++counters.messages_in;
    counters.bytes_in += (uint64_t)n;
    if (config.mode == PEER_ECHO) {
      ssize_t w = sendto(h->fd, buffer, (size_t)n, MSG_NOSIGNAL, (struct sockaddr*)&from, from_len);
      if (w > 0) counters.bytes_out += (uint64_t)w;
    }
  }
}

static int add_fd(int fd, void* ptr, uint32_t events) {
  struct epoll_event ev;
  ev.events = events;
  ev.data.ptr = ptr;
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

enum { kEvents = 256, kStash = 4096 };

/* --replies-after-batch: the first read of each ready connection, kept until
 * the batch has been read. */
static _Thread_local char stash[kEvents][kStash];
static _Thread_local ssize_t stashed[kEvents]; /* -1: the event was served at once */

static int read_first(struct epoll_event* event, int i) {
  struct handle* h = event->data.ptr;
  stashed[i] = -1;
  if (!replies_after_batch || h->kind != KIND_CONN || config.mode != PEER_ECHO ||
      ((struct conn*)h)->pending_end > ((struct conn*)h)->pending_start) {
    return 0;
  }
  ssize_t n;
  do {
    n = recv(h->fd, stash[i], kStash, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return 0;  /* nothing yet, or an error: served at once, as without the option */
  stashed[i] = n;
  return 1;
}

/* Writes the replies of the batch's first reads, then serves each connection
 * as usual (the rest of its input, to EAGAIN). */
static void reply_batch(struct epoll_event* events, int n) {
  for (int i = 0; i < n; ++i) {
    if (stashed[i] < 0) continue;
    struct conn* c = events[i].data.ptr;
    if (stashed[i] == 0) {
      close_conn(c);
      continue;
    }
    int rc = take_input(c, stash[i], (size_t)stashed[i]);
    if (rc < 0) {
      close_conn(c);
    } else if (rc == 0) {
      on_conn(c, EPOLLIN);
    }
  }
}

static void serve(struct peer_thread* t) {
  struct handle stop_handle = {KIND_STOP, t->stop_fd};
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    perror("peer-epoll: epoll_create1");
    exit(1);
  }
  add_fd(stop_handle.fd, &stop_handle, EPOLLIN);  /* level-triggered, never read */

  for (int i = 0; i < config.count; ++i) {
    const struct peer_endpoint* ep = &t->endpoints[i];
    int rc;
    if (ep->transport == PEER_UDP) {
      datagrams[i] = (struct handle){KIND_DATAGRAM, ep->fd};
      rc = add_fd(ep->fd, &datagrams[i], EPOLLIN | EPOLLET);
    } else {
      listeners[i] = (struct listener){{KIND_LISTENER, ep->fd}, ep, 0};
      rc = add_fd(ep->fd, &listeners[i], EPOLLIN | EPOLLET);
    }
    if (rc != 0) {
      fprintf(stderr, "peer-epoll: %s: epoll_ctl: %s\n", ep->text, strerror(errno));
      exit(1);
    }
  }
  peer_loop_ready();

  struct epoll_event events[kEvents];
  int running = 1;
  while (running) {
    int timeout = -1;
    int64_t now = 0;
    for (int i = 0; i < config.count; ++i) {
      if (listeners[i].paused_until_ms == 0) continue;
      if (now == 0) now = now_ms();
      int64_t left = listeners[i].paused_until_ms - now;
      if (left <= 0) {
        listeners[i].paused_until_ms = 0;
        accept_all(&listeners[i]);
        if (listeners[i].paused_until_ms != 0) left = PEER_ACCEPT_PAUSE_MS;
        else continue;
      }
      if (timeout < 0 || left < timeout) timeout = (int)left;
    }
    int n = epoll_wait(epfd, events, kEvents, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("peer-epoll: epoll_wait");
      exit(1);
    }
    for (int i = 0; i < n; ++i) {
      struct handle* h = events[i].data.ptr;
      if (read_first(&events[i], i)) continue;
      switch (h->kind) {
        case KIND_CONN:
          on_conn((struct conn*)h, events[i].events);
          break;
        case KIND_LISTENER: {
          struct listener* l = (struct listener*)h;
          if (l->paused_until_ms == 0) accept_all(l);
          break;
        }
        case KIND_DATAGRAM:
          on_datagram(h);
          break;
        case KIND_STOP:
          running = 0;
          break;
      }
    }
    if (replies_after_batch) reply_batch(events, n);
  }
  t->counters = counters;
}

int main(int argc, char** argv) {
  int kept = 1;
  for (int i = 1; i < argc; ++i) {  /* this server's own option, before the common ones */
    if (strcmp(argv[i], "--replies-after-batch") == 0) {
      replies_after_batch = 1;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  peer_parse_args(argc, argv, &config);
  return peer_run(&config, 1, serve);
}
