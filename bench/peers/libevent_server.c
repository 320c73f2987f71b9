/* peer-libevent: the idiomatic libevent 2.1 server. Streams: an
 * evconnlistener, a bufferevent per connection, and in the read callback
 * evbuffer_add_buffer(output, input) (echo) or evbuffer_drain (sink). So that
 * a client that does not read cannot grow the output without bound, reading
 * stops while more than 64 KiB wait to go out and resumes when it has gone.
 * UDP: a plain persistent EV_READ event; recvfrom until EAGAIN, sendto the
 * sender (dropped if the socket cannot take it now).
 * --threads N: an event_base per thread, each with its own sockets; a base
 * stops when peer_run's stop eventfd is readable. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "peer_common.h"

static struct peer_config config;
/* One loop's state: each thread has its own. */
static _Thread_local struct peer_counters counters;
static _Thread_local struct event_base* base;

struct listener {
  const struct peer_endpoint* endpoint;
  struct evconnlistener* listener;
  struct event* pause;  /* re-enables accepting after EMFILE */
  struct event* datagram;
  char buffer[PEER_BUFFER_SIZE];  /* UDP */
};

static _Thread_local struct listener listeners[PEER_MAX_ENDPOINTS];

/* Bytes leaving the output buffer are bytes written to the socket. */
static void on_output_changed(struct evbuffer* output, const struct evbuffer_cb_info* info,
                              void* arg) {
  (void)output;
  (void)arg;
  counters.bytes_out += info->n_deleted;
}

static void on_read(struct bufferevent* bev, void* arg) {
  (void)arg;
  struct evbuffer* input = bufferevent_get_input(bev);
  size_t n = evbuffer_get_length(input);
  if (n == 0) return;
  ++counters.messages_in;
  counters.bytes_in += n;
  if (config.mode != PEER_ECHO) {
    evbuffer_drain(input, n);
    return;
  }
  struct evbuffer* output = bufferevent_get_output(bev);
  evbuffer_add_buffer(output, input);
  if (evbuffer_get_length(output) > PEER_BUFFER_SIZE) bufferevent_disable(bev, EV_READ);
}

/* The output has drained (the write low watermark is 0). */
static void on_written(struct bufferevent* bev, void* arg) {
  (void)arg;
  if (!(bufferevent_get_enabled(bev) & EV_READ)) bufferevent_enable(bev, EV_READ);
}

static void on_event(struct bufferevent* bev, short events, void* arg) {
  (void)arg;
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

static void on_accept(struct evconnlistener* listener, evutil_socket_t fd, struct sockaddr* addr,
                      int len, void* arg) {
  (void)listener;
  (void)addr;
  (void)len;
  struct listener* l = arg;
  peer_tune_accepted(l->endpoint, fd);
  struct bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == NULL) {
    evutil_closesocket(fd);
    return;
  }
  ++counters.connections;
  bufferevent_set_max_single_read(bev, PEER_BUFFER_SIZE);
  if (config.mode == PEER_ECHO) {
    evbuffer_add_cb(bufferevent_get_output(bev), on_output_changed, NULL);
  }
  bufferevent_setcb(bev, on_read, on_written, on_event, NULL);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_pause_over(evutil_socket_t fd, short what, void* arg) {
  (void)fd;
  (void)what;
  struct listener* l = arg;
  evconnlistener_enable(l->listener);
}

static void on_accept_error(struct evconnlistener* listener, void* arg) {
  struct listener* l = arg;
  if (!peer_accept_should_pause(EVUTIL_SOCKET_ERROR())) return;
  /* Out of fds: the listener is level-triggered and would fire at once again. */
  evconnlistener_disable(listener);
  struct timeval pause = {0, PEER_ACCEPT_PAUSE_MS * 1000};
  evtimer_add(l->pause, &pause);
}

static void on_datagram(evutil_socket_t fd, short what, void* arg) {
  (void)what;
  struct listener* l = arg;
  for (;;) {
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(fd, l->buffer, sizeof l->buffer, 0, (struct sockaddr*)&from, &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  /* EAGAIN, or an ICMP error reported on the socket */
    }
    ++counters.messages_in;
    counters.bytes_in += (uint64_t)n;
    if (config.mode == PEER_ECHO) {
      ssize_t w = sendto(fd, l->buffer, (size_t)n, MSG_NOSIGNAL, (struct sockaddr*)&from, from_len);
      if (w > 0) counters.bytes_out += (uint64_t)w;
    }
  }
}

static void on_stop(evutil_socket_t fd, short what, void* arg) {
  (void)fd;
  (void)what;
  (void)arg;
  event_base_loopbreak(base);
}

static void serve(struct peer_thread* t) {
  base = event_base_new();
  struct event* stop = base != NULL ? event_new(base, t->stop_fd, EV_READ, on_stop, NULL) : NULL;
  if (stop == NULL || event_add(stop, NULL) != 0) {
    fprintf(stderr, "peer-libevent: event_base_new/event_add failed\n");
    exit(1);
  }

  for (int i = 0; i < config.count; ++i) {
    const struct peer_endpoint* ep = &t->endpoints[i];
    struct listener* l = &listeners[i];
    l->endpoint = ep;
    if (ep->transport == PEER_UDP) {
      l->datagram = event_new(base, ep->fd, EV_READ | EV_PERSIST, on_datagram, l);
      if (l->datagram == NULL || event_add(l->datagram, NULL) != 0) {
        fprintf(stderr, "peer-libevent: %s: event_add failed\n", ep->text);
        exit(1);
      }
      continue;
    }
    /* backlog 0: the socket is listening already (backlog 4096). */
    l->listener = evconnlistener_new(base, on_accept, l, LEV_OPT_CLOSE_ON_FREE, 0, ep->fd);
    l->pause = evtimer_new(base, on_pause_over, l);
    if (l->listener == NULL || l->pause == NULL) {
      fprintf(stderr, "peer-libevent: %s: evconnlistener_new failed\n", ep->text);
      exit(1);
    }
    evconnlistener_set_error_cb(l->listener, on_accept_error);
  }
  peer_loop_ready();
  event_base_dispatch(base);
  t->counters = counters;
}

int main(int argc, char** argv) {
  peer_parse_args(argc, argv, &config);
  return peer_run(&config, 1, serve);
}
