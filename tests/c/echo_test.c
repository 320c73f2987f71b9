/*
 * Echo over the C ABI on every transport: TCP (IPv4) and UNIX stream with
 * rsk_listen / rsk_socket / rsk_connect / rsk_accept, a server on
 * rsk_recv_multishot that echoes each lent buffer with rsk_send and gives it
 * back with rsk_loop_release_buffer, a client on rsk_send / rsk_recv; UDP and
 * UNIX datagram with rsk_bind_datagram, a server on rsk_recvfrom_multishot
 * replying with rsk_sendto to each sender, a connected client
 * (rsk_connect_datagram) and an unconnected one (rsk_socket + rsk_sendto).
 * Every round trip is verified byte for byte; every socket ends with rsk_close.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "harness.h"

#define ROUNDS 1000
#define UNCONNECTED_ROUNDS 50 /* datagrams: the last rounds from an unconnected client */
#define STREAM_MAX 6000       /* bytes per stream message: more than one pool buffer */
#define DGRAM_MAX 1400        /* bytes per datagram: fits a pool buffer with its header */
#define QUEUE_MAX 64

/* Round r's message: its length and its bytes. */
static uint32_t message_length(int round, uint32_t max) {
  return 1u + (uint32_t)((unsigned)round * 7919u) % max;
}
static void message_fill(uint8_t* out, int round, uint32_t length) {
  uint32_t i;
  for (i = 0; i < length; ++i) out[i] = (uint8_t)((unsigned)round * 31u + i * 7u + (i >> 8));
}

typedef struct queued {
  uint16_t buffer_id;
  const uint8_t* data;
  uint32_t length;
  rsk_endpoint peer; /* datagrams: where the reply goes */
} queued;

typedef struct echo {
  t_loop* t;
  int datagram;
  /* server */
  int listener;
  int server;
  rsk_op server_recv;
  rsk_op server_send;
  queued queue[QUEUE_MAX];
  unsigned queue_head;
  unsigned queue_count;
  int sending;
  int server_recv_calls;
  int server_recv_terminal;
  int32_t server_recv_end; /* the terminal result */
  unsigned max_queue;
  /* client */
  int client;
  const rsk_endpoint* client_peer; /* sendto's peer: NULL when connected */
  rsk_op client_send;
  rsk_op client_recv;
  int round;
  int rounds;
  uint32_t length;
  uint32_t received;
  int sent;
  int send_calls;
  int recv_calls;
  rsk_endpoint from;
  char server_url[RSK_ENDPOINT_URL_MAX];
  uint8_t tx[STREAM_MAX];
  uint8_t rx[STREAM_MAX + 64];
  int failed;
} echo;

static void echo_fail(echo* e, const char* what, int value) {
  if (!e->failed) fprintf(stderr, "round %d: %s (%d: %s)\n", e->round, what, value,
                          rsk_strerror(value));
  e->failed = 1;
  ++t_failures;
}

/* ---- server --------------------------------------------------------------- */

static void server_sent(rsk_loop* loop, rsk_op* op, const rsk_completion* c);

static void server_pump(rsk_loop* loop, echo* e) {
  queued* head;
  int rc;
  if (e->sending || e->queue_count == 0) return;
  head = &e->queue[e->queue_head];
  if (e->datagram) {
    rc = rsk_sendto(loop, &e->server_send, e->server, head->data, head->length, &head->peer,
                    server_sent, e);
  } else {
    rc = rsk_send(loop, &e->server_send, e->server, head->data, head->length, server_sent, e);
  }
  if (rc < 0) {
    echo_fail(e, "server send refused", rc);
    return;
  }
  e->sending = 1;
}

static void server_sent(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  echo* e = (echo*)rsk_op_user_data(op);
  queued* head = &e->queue[e->queue_head];
  e->sending = 0;
  if (c->more) echo_fail(e, "a send reported more", c->result);
  if (c->result != (int32_t)head->length) echo_fail(e, "server send result", c->result);
  if (!e->datagram && rsk_op_transferred(op) != head->length) {
    echo_fail(e, "server send transferred", (int)rsk_op_transferred(op));
  }
  /* The echoed pool buffer goes back now; a second release must be refused. */
  if (rsk_loop_release_buffer(loop, head->buffer_id) != 0) echo_fail(e, "release", -1);
  if (rsk_loop_release_buffer(loop, head->buffer_id) != -EINVAL) echo_fail(e, "re-release", -1);
  e->queue_head = (e->queue_head + 1) % QUEUE_MAX;
  --e->queue_count;
  server_pump(loop, e);
}

static void server_data(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  echo* e = (echo*)rsk_op_user_data(op);
  ++e->server_recv_calls;
  if (c->has_buffer) {
    queued* slot;
    if (c->result <= 0 || c->data == NULL) echo_fail(e, "lent buffer without data", c->result);
    if (c->truncated) echo_fail(e, "datagram truncated", c->result);
    if (e->queue_count == QUEUE_MAX) {
      echo_fail(e, "server queue full", c->result);
      rsk_loop_release_buffer(loop, c->buffer_id);
      return;
    }
    slot = &e->queue[(e->queue_head + e->queue_count) % QUEUE_MAX];
    slot->buffer_id = c->buffer_id;
    slot->data = c->data;
    slot->length = (uint32_t)c->result;
    if (e->datagram) {
      /* The sender's address rides in the pool buffer: copy it into an endpoint. */
      if (c->peer == NULL || c->peer_length == 0 || c->peer_length > sizeof slot->peer.storage) {
        echo_fail(e, "datagram without a sender", (int)c->peer_length);
        rsk_loop_release_buffer(loop, c->buffer_id);
        return;
      }
      memset(&slot->peer, 0, sizeof slot->peer);
      memcpy(&slot->peer.storage, c->peer, c->peer_length);
      slot->peer.length = c->peer_length;
      slot->peer.transport = (uint8_t)(c->peer->sa_family == AF_UNIX ? RSK_UNIX_DGRAM : RSK_UDP);
    }
    ++e->queue_count;
    if (e->queue_count > e->max_queue) e->max_queue = e->queue_count;
    server_pump(loop, e);
  } else if (c->more) {
    echo_fail(e, "multishot result without a buffer", c->result);
  }
  if (!c->more) {
    ++e->server_recv_terminal;
    e->server_recv_end = c->result;
  }
}

/* ---- client --------------------------------------------------------------- */

static void client_sent(rsk_loop* loop, rsk_op* op, const rsk_completion* c);
static void client_received(rsk_loop* loop, rsk_op* op, const rsk_completion* c);

static void client_round(rsk_loop* loop, echo* e) {
  int rc;
  e->length = message_length(e->round, e->datagram ? DGRAM_MAX : STREAM_MAX);
  e->received = 0;
  e->sent = 0;
  message_fill(e->tx, e->round, e->length);
  memset(e->rx, 0xee, sizeof e->rx);
  if (e->datagram) {
    rc = rsk_sendto(loop, &e->client_send, e->client, e->tx, e->length, e->client_peer,
                    client_sent, e);
    if (rc == 0) {
      memset(&e->from, 0, sizeof e->from);
      rc = rsk_recvfrom(loop, &e->client_recv, e->client, e->rx, sizeof e->rx, &e->from,
                        client_received, e);
    }
  } else {
    rc = rsk_send(loop, &e->client_send, e->client, e->tx, e->length, client_sent, e);
    if (rc == 0) {
      rc = rsk_recv(loop, &e->client_recv, e->client, e->rx, e->length, client_received, e);
    }
  }
  if (rc < 0) echo_fail(e, "client submit refused", rc);
}

static void client_next(rsk_loop* loop, echo* e) {
  if (!e->sent || e->received != e->length) return;
  if (memcmp(e->tx, e->rx, e->length) != 0) {
    echo_fail(e, "echo differs from what was sent", (int)e->length);
    return;
  }
  if (!e->datagram && !t_all_bytes(e->rx + e->length, sizeof e->rx - e->length, 0xee)) {
    echo_fail(e, "rsk_recv wrote past its length", (int)e->length);
  }
  if (++e->round < e->rounds) client_round(loop, e);
}

static void client_sent(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  echo* e = (echo*)rsk_op_user_data(op);
  ++e->send_calls;
  if (c->result != (int32_t)e->length) {
    echo_fail(e, "client send result", c->result);
    return;
  }
  if (rsk_op_fd(op) != e->client) echo_fail(e, "rsk_op_fd of the send", rsk_op_fd(op));
  e->sent = 1;
  client_next(loop, e);
}

static void client_received(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  echo* e = (echo*)rsk_op_user_data(op);
  ++e->recv_calls;
  if (c->more || c->has_buffer) echo_fail(e, "single recv with more or a buffer", c->result);
  if (c->result <= 0) {
    echo_fail(e, "client recv", c->result);
    return;
  }
  if (e->datagram) {
    char url[RSK_ENDPOINT_URL_MAX];
    /* One datagram, whole, from the server. */
    if (c->result != (int32_t)e->length || c->truncated) {
      echo_fail(e, "reply datagram length", c->result);
      return;
    }
    if (rsk_endpoint_format(&e->from, url, sizeof url) < 0 || strcmp(url, e->server_url) != 0) {
      fprintf(stderr, "reply from %s, expected %s\n", url, e->server_url);
      echo_fail(e, "reply from someone else", 0);
    }
    e->received = e->length;
  } else {
    e->received += (uint32_t)c->result;
    if (e->received > e->length) {
      echo_fail(e, "more bytes than sent", c->result);
      return;
    }
    if (e->received < e->length) {
      /* A short read: the rest of this message. */
      int rc = rsk_recv(loop, op, e->client, e->rx + e->received, e->length - e->received,
                        client_received, e);
      if (rc < 0) echo_fail(e, "client recv resubmit", rc);
      return;
    }
  }
  client_next(loop, e);
}

static int rounds_done(void* arg) {
  echo* e = (echo*)arg;
  return e->failed || e->round >= e->rounds;
}

/* ---- closing ---------------------------------------------------------------- */

typedef struct closer {
  rsk_op op;
  t_rec rec;
} closer;

static int close_fd(t_loop* t, closer* c, int fd) {
  memset(c, 0, sizeof *c);
  return rsk_close(&t->loop, &c->op, fd, t_rec_cb, &c->rec);
}

struct closing {
  closer* closers;
  int count;
  echo* e; /* with a server EOF to wait for, or NULL */
};

static int closes_done(void* arg) {
  struct closing* c = (struct closing*)arg;
  int i;
  for (i = 0; i < c->count; ++i) {
    if (c->closers[i].rec.terminal == 0) return 0;
  }
  return c->e == NULL || c->e->server_recv_terminal > 0;
}

/* ---- streams ---------------------------------------------------------------- */

static int connected(void* arg) {
  t_rec* recs = (t_rec*)arg;
  return recs[0].terminal && recs[1].terminal;
}

static int stream_echo(int backend, const char* url_base, int transport) {
  t_loop t;
  static echo e; /* large buffers: not on the stack */
  rsk_op accept_op = RSK_OP_INIT;
  rsk_op connect_op = RSK_OP_INIT;
  t_rec recs[2];
  rsk_endpoint requested, bound, peer;
  closer closers[3];
  struct closing closing;
  char dir[64] = "";
  char url[256];
  char text[RSK_ENDPOINT_URL_MAX];
  const char* error = NULL;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&e, 0, sizeof e);
  memset(recs, 0, sizeof recs);
  e.t = &t;
  e.rounds = ROUNDS;

  if (transport == RSK_UNIX) {
    REQUIRE(t_mkdtemp(dir, sizeof dir) == 0);
    snprintf(url, sizeof url, "%s%s/echo.sock", url_base, dir);
  } else {
    snprintf(url, sizeof url, "%s", url_base);
  }
  REQUIRE_INT(rsk_endpoint_parse(url, &requested, &error), ==, 0);
  REQUIRE_INT(requested.transport, ==, transport);
  e.listener = rsk_listen(&requested, 0, transport == RSK_UNIX ? RSK_LISTEN_UNLINK : 0);
  REQUIRE_INT(e.listener, >=, 0);
  REQUIRE_INT(rsk_local_endpoint(e.listener, transport, &bound), ==, 0);
  REQUIRE_INT(rsk_endpoint_format(&bound, text, sizeof text), >, 0);
  printf("%s echo on %s, backend %s\n", transport == RSK_TCP ? "tcp" : "unix", text,
         t_backend_name(backend));

  /* Connect and accept through the loop. */
  e.client = rsk_socket(&bound);
  REQUIRE_INT(e.client, >=, 0);
  memset(&peer, 0, sizeof peer);
  REQUIRE_INT(rsk_accept(&t.loop, &accept_op, e.listener, &peer, t_rec_cb, &recs[0]), ==, 0);
  REQUIRE_INT(rsk_connect(&t.loop, &connect_op, e.client, &bound, t_rec_cb, &recs[1]), ==, 0);
  CHECK_INT(recs[0].calls + recs[1].calls, ==, 0); /* never inside a submit */
  CHECK_INT(rsk_loop_active(&t.loop), ==, 2);
  REQUIRE(t_run_until(&t, connected, recs, T_GUARD_MS));
  REQUIRE_INT(recs[1].result, ==, 0);
  REQUIRE_INT(recs[0].result, >=, 0);
  CHECK_INT(recs[0].calls, ==, 1);
  CHECK_INT(recs[1].calls, ==, 1);
  e.server = recs[0].result;
  CHECK_INT(peer.transport, ==, transport);
  if (transport == RSK_TCP) {
    CHECK_INT(rsk_endpoint_format(&peer, text, sizeof text), >, 0);
    CHECK(strncmp(text, "tcp://127.0.0.1:", 16) == 0);
    CHECK_INT(rsk_set_nodelay(e.client, 1), ==, 0);
    CHECK_INT(rsk_set_nodelay(e.server, 1), ==, 0);
  }
  /* Small socket buffers: messages split into several reads and buffers. */
  CHECK_INT(rsk_set_buffer_sizes(e.client, 4096, 4096), ==, 0);
  CHECK_INT(rsk_set_buffer_sizes(e.server, 4096, 4096), ==, 0);

  /* The echo. */
  REQUIRE_INT(rsk_recv_multishot(&t.loop, &e.server_recv, e.server, server_data, &e), ==, 0);
  client_round(&t.loop, &e);
  REQUIRE(t_run_until(&t, rounds_done, &e, 4 * T_GUARD_MS));
  CHECK(!e.failed);
  CHECK_INT(e.round, ==, ROUNDS);
  CHECK_INT(e.send_calls, ==, ROUNDS);
  CHECK_INT(e.recv_calls, >=, ROUNDS);
  CHECK_INT(e.server_recv_terminal, ==, 0);
  printf("%d round trips verified; %d client receives, %d server chunks, queue up to %u\n",
         e.round, e.recv_calls, e.server_recv_calls, e.max_queue);

  /* The client closes; the server's multishot receive ends with EOF (0). */
  REQUIRE_INT(close_fd(&t, &closers[0], e.client), ==, 0);
  closing.closers = closers;
  closing.count = 1;
  closing.e = &e;
  REQUIRE(t_run_until(&t, closes_done, &closing, T_GUARD_MS));
  CHECK_INT(closers[0].rec.result, ==, 0);
  CHECK_INT(e.server_recv_terminal, ==, 1);
  CHECK_INT(e.server_recv_end, ==, 0);
  CHECK(!rsk_op_in_flight(&e.server_recv));
  CHECK_INT(e.queue_count, ==, 0);
  REQUIRE_INT(close_fd(&t, &closers[1], e.server), ==, 0);
  REQUIRE_INT(close_fd(&t, &closers[2], e.listener), ==, 0);
  closing.count = 3;
  REQUIRE(t_run_until(&t, closes_done, &closing, T_GUARD_MS));
  CHECK_INT(closers[0].rec.calls + closers[1].rec.calls + closers[2].rec.calls, ==, 3);
  CHECK_INT(closers[1].rec.result, ==, 0);
  CHECK_INT(closers[2].rec.result, ==, 0);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 0);
  CHECK_INT(e.server_recv_terminal, ==, 1); /* exactly one terminal callback */
  t_loop_close(&t);
  if (dir[0] != '\0') t_rmdir(dir);
  return t_result();
}

/* ---- datagrams -------------------------------------------------------------- */

static int dgram_echo(int backend, const char* url_base, int transport) {
  t_loop t;
  static echo e;
  rsk_endpoint requested, bound;
  closer closers[3];
  struct closing closing;
  t_rec cancel_rec;
  int unconnected;
  char dir[64] = "";
  char url[256];
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&e, 0, sizeof e);
  memset(&cancel_rec, 0, sizeof cancel_rec);
  e.t = &t;
  e.datagram = 1;

  if (transport == RSK_UNIX_DGRAM) {
    REQUIRE(t_mkdtemp(dir, sizeof dir) == 0);
    snprintf(url, sizeof url, "%s%s/echo.sock", url_base, dir);
  } else {
    snprintf(url, sizeof url, "%s", url_base);
  }
  REQUIRE_INT(rsk_endpoint_parse(url, &requested, NULL), ==, 0);
  e.server = rsk_bind_datagram(&requested, 0);
  REQUIRE_INT(e.server, >=, 0);
  REQUIRE_INT(rsk_local_endpoint(e.server, transport, &bound), ==, 0);
  REQUIRE_INT(rsk_endpoint_format(&bound, e.server_url, sizeof e.server_url), >, 0);
  printf("%s echo on %s, backend %s\n", transport == RSK_UDP ? "udp" : "unix-dgram",
         e.server_url, t_backend_name(backend));
  REQUIRE_INT(rsk_recvfrom_multishot(&t.loop, &e.server_recv, e.server, server_data, &e), ==, 0);

  /* A connected client: replies from anyone else are filtered by the kernel. */
  e.client = rsk_connect_datagram(&bound, NULL);
  REQUIRE_INT(e.client, >=, 0);
  e.client_peer = NULL;
  e.rounds = ROUNDS - UNCONNECTED_ROUNDS;
  client_round(&t.loop, &e);
  REQUIRE(t_run_until(&t, rounds_done, &e, 4 * T_GUARD_MS));
  CHECK(!e.failed);
  CHECK_INT(e.round, ==, ROUNDS - UNCONNECTED_ROUNDS);

  /* An unconnected client: rsk_socket, and rsk_sendto with the server's address. */
  unconnected = rsk_socket(&bound);
  REQUIRE_INT(unconnected, >=, 0);
  closing.closers = closers;
  REQUIRE_INT(close_fd(&t, &closers[0], e.client), ==, 0);
  e.client = unconnected;
  e.client_peer = &bound;
  e.rounds = ROUNDS;
  client_round(&t.loop, &e);
  REQUIRE(t_run_until(&t, rounds_done, &e, 4 * T_GUARD_MS));
  CHECK(!e.failed);
  CHECK_INT(e.round, ==, ROUNDS);
  CHECK_INT(e.send_calls, ==, ROUNDS);
  CHECK_INT(e.recv_calls, ==, ROUNDS);
  CHECK_INT(e.server_recv_calls, ==, ROUNDS);
  CHECK_INT(e.server_recv_terminal, ==, 0);
  printf("%d round trips verified (%d unconnected)\n", e.round, UNCONNECTED_ROUNDS);

  /* The datagram server ends by cancel: one terminal -ECANCELED. */
  REQUIRE_INT(rsk_cancel(&t.loop, &e.server_recv), ==, 0);
  closing.count = 1;
  closing.e = &e;
  REQUIRE(t_run_until(&t, closes_done, &closing, T_GUARD_MS));
  CHECK_INT(e.server_recv_terminal, ==, 1);
  CHECK_INT(e.server_recv_end, ==, -ECANCELED);
  CHECK_INT(rsk_cancel(&t.loop, &e.server_recv), ==, -ENOENT);
  CHECK_INT(closers[0].rec.result, ==, 0);
  REQUIRE_INT(close_fd(&t, &closers[1], e.server), ==, 0);
  REQUIRE_INT(close_fd(&t, &closers[2], unconnected), ==, 0);
  closing.count = 3;
  REQUIRE(t_run_until(&t, closes_done, &closing, T_GUARD_MS));
  CHECK_INT(closers[1].rec.result, ==, 0);
  CHECK_INT(closers[2].rec.result, ==, 0);
  CHECK_INT(closers[0].rec.calls + closers[1].rec.calls + closers[2].rec.calls, ==, 3);
  CHECK_INT(e.server_recv_terminal, ==, 1);
  t_loop_close(&t);
  if (dir[0] != '\0') t_rmdir(dir);
  return t_result();
}

int test_echo_tcp(int backend) { return stream_echo(backend, "tcp://127.0.0.1:0", RSK_TCP); }
int test_echo_unix(int backend) { return stream_echo(backend, "unix://", RSK_UNIX); }
int test_echo_udp(int backend) { return dgram_echo(backend, "udp://127.0.0.1:0", RSK_UDP); }
int test_echo_unix_dgram(int backend) {
  return dgram_echo(backend, "unix-dgram://", RSK_UNIX_DGRAM);
}
