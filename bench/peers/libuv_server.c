/* peer-libuv: libuv streams (uv_tcp_t, uv_pipe_t) and uv_udp_t on the
 * default loop.
 *
 * Streams: alloc_cb hands out the connection's own 64 KiB buffer. Echo
 * writes it back with uv_try_write; only when the socket takes less does the
 * rest go through uv_write, with the connection's one embedded uv_write_t
 * (the request "pool" is one deep: while it is out, reading is stopped, so
 * the buffer it points into cannot be overwritten). No malloc per read or
 * write: one per connection.
 * UDP: the same with uv_udp_try_send; a reply the socket cannot take now is
 * dropped, as UDP allows.
 * EMFILE on accept: libuv's own reserve-fd trick (uv__emfile_trick) accepts
 * and closes what waits, so the loop does not spin; the callback sees the
 * error and ignores it.
 * --threads N: a uv_loop_t per thread, each with its own sockets; each loop
 * stops when a uv_poll_t sees peer_run's stop eventfd readable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "peer_common.h"

static struct peer_config config;
static _Thread_local struct peer_counters counters; /* each loop its own */

struct conn {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;
  uv_write_t write_req;
  size_t queued;  /* bytes the write request carries */
  char buffer[PEER_BUFFER_SIZE];
};

struct listener {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_udp_t udp;
  } h;
  const struct peer_endpoint* endpoint;
  char buffer[PEER_BUFFER_SIZE];  /* UDP */
};

static _Thread_local struct listener listeners[PEER_MAX_ENDPOINTS];

static void on_conn_closed(uv_handle_t* handle) { free(handle->data); }

static void close_conn(struct conn* c) {
  if (!uv_is_closing(&c->h.handle)) uv_close(&c->h.handle, on_conn_closed);
}

static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)suggested;
  struct conn* c = handle->data;
  *buf = uv_buf_init(c->buffer, sizeof c->buffer);
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

static void on_written(uv_write_t* req, int status) {
  struct conn* c = req->data;
  if (status < 0) {
    close_conn(c);
    return;
  }
  counters.bytes_out += c->queued;
  if (uv_read_start(&c->h.stream, on_alloc, on_read) != 0) close_conn(c);
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  struct conn* c = stream->data;
  if (nread == 0) return;  /* EAGAIN */
  if (nread < 0) {         /* UV_EOF, reset... */
    close_conn(c);
    return;
  }
  ++counters.messages_in;
  counters.bytes_in += (uint64_t)nread;
  if (config.mode != PEER_ECHO) return;
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
  int sent = uv_try_write(stream, &out, 1);
  if (sent == (int)nread) {
    counters.bytes_out += (uint64_t)nread;
    return;
  }
  if (sent < 0 && sent != UV_EAGAIN) {
    close_conn(c);
    return;
  }
  if (sent < 0) sent = 0;
  counters.bytes_out += (uint64_t)sent;
  c->queued = (size_t)(nread - sent);
  out = uv_buf_init(buf->base + sent, (unsigned)(nread - sent));
  c->write_req.data = c;
  uv_read_stop(stream);  /* the buffer is on loan to the write until it completes */
  if (uv_write(&c->write_req, stream, &out, 1, on_written) != 0) close_conn(c);
}

static void on_connection(uv_stream_t* server, int status) {
  struct listener* l = server->data;
  if (status < 0) return;  /* EMFILE and such: see the comment at the top */
  struct conn* c = malloc(sizeof *c);
  if (c == NULL) return;
  int rc = l->endpoint->transport == PEER_TCP ? uv_tcp_init(server->loop, &c->h.tcp)
                                               : uv_pipe_init(server->loop, &c->h.pipe, 0);
  if (rc != 0) {
    free(c);
    return;
  }
  c->h.handle.data = c;
  if (uv_accept(server, &c->h.stream) != 0) {
    close_conn(c);
    return;
  }
  ++counters.connections;
  if (l->endpoint->transport == PEER_TCP) uv_tcp_nodelay(&c->h.tcp, 1);
  if (uv_read_start(&c->h.stream, on_alloc, on_read) != 0) close_conn(c);
}

static void on_udp_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
  (void)suggested;
  struct listener* l = handle->data;
  *buf = uv_buf_init(l->buffer, sizeof l->buffer);
}

static void on_datagram(uv_udp_t* udp, ssize_t nread, const uv_buf_t* buf,
                        const struct sockaddr* from, unsigned flags) {
  (void)flags;
  if (nread < 0 || from == NULL) return;  /* nothing more now, or an ICMP error */
  ++counters.messages_in;
  counters.bytes_in += (uint64_t)nread;
  if (config.mode != PEER_ECHO) return;
  uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
  int sent = uv_udp_try_send(udp, &out, 1, from);
  if (sent > 0) counters.bytes_out += (uint64_t)sent;
}

static void on_stop(uv_poll_t* handle, int status, int events) {
  (void)status;
  (void)events;
  uv_stop(handle->loop);
}

static void die(const struct peer_endpoint* ep, const char* step, int rc) {
  fprintf(stderr, "peer-libuv: %s: %s: %s\n", ep->text, step, uv_strerror(rc));
  exit(1);
}

static void serve(struct peer_thread* t) {
  uv_loop_t loop_storage;
  uv_loop_t* loop = &loop_storage;
  int rc = uv_loop_init(loop);
  uv_poll_t stop;
  if (rc != 0 || (rc = uv_poll_init(loop, &stop, t->stop_fd)) != 0 ||
      (rc = uv_poll_start(&stop, UV_READABLE, on_stop)) != 0) {
    fprintf(stderr, "peer-libuv: setting up the loop: %s\n", uv_strerror(rc));
    exit(1);
  }

  for (int i = 0; i < config.count; ++i) {
    const struct peer_endpoint* ep = &t->endpoints[i];
    struct listener* l = &listeners[i];
    l->endpoint = ep;
    switch (ep->transport) {
      case PEER_TCP:
        uv_tcp_init(loop, &l->h.tcp);
        if ((rc = uv_tcp_open(&l->h.tcp, ep->fd)) != 0) die(ep, "uv_tcp_open", rc);
        break;
      case PEER_UNIX:
        uv_pipe_init(loop, &l->h.pipe, 0);
        if ((rc = uv_pipe_open(&l->h.pipe, ep->fd)) != 0) die(ep, "uv_pipe_open", rc);
        break;
      case PEER_UDP:
        uv_udp_init(loop, &l->h.udp);
        if ((rc = uv_udp_open(&l->h.udp, ep->fd)) != 0) die(ep, "uv_udp_open", rc);
        break;
    }
    l->h.handle.data = l;
    if (ep->transport == PEER_UDP) {
      if ((rc = uv_udp_recv_start(&l->h.udp, on_udp_alloc, on_datagram)) != 0) {
        die(ep, "uv_udp_recv_start", rc);
      }
    } else if ((rc = uv_listen(&l->h.stream, PEER_LISTEN_BACKLOG, on_connection)) != 0) {
      die(ep, "uv_listen", rc);
    }
  }
  peer_loop_ready();
  uv_run(loop, UV_RUN_DEFAULT);
  t->counters = counters;
}

int main(int argc, char** argv) {
  peer_parse_args(argc, argv, &config);
  return peer_run(&config, 1, serve);
}
