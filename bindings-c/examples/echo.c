/*
 * echo.c - a TCP echo server and its client in one process, on one ringsock
 * loop, through the C ABI. Against an installed ringsock:
 *   cc echo.c $(pkg-config --cflags --libs ringsock) -o echo && ./echo
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ringsock.h"

#define ROUNDS 100

typedef struct peer {
  int fd;
  rsk_op send, recv, close; /* caller storage: alive and unmoved until each callback */
  char in[64], out[64];
  size_t length, got; /* client: the message, and how much of it came back */
} peer;

static peer server, client;
static int rounds, failed;

static int check(int rc, const char* what) {
  if (rc < 0) {
    fprintf(stderr, "%s: %s\n", what, rsk_strerror(rc));
    failed = 1;
  }
  return rc;
}

static void closed(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  (void)loop, (void)op;
  check(c->result, "close");
}
static void sent(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  (void)loop, (void)op;
  check(c->result, "send");
}

/* The server: receive what comes, send it back, receive again; close on EOF. */
static void server_received(rsk_loop* loop, rsk_op* op, const rsk_completion* c);
static void server_receive(rsk_loop* loop) {
  check(rsk_recv(loop, &server.recv, server.fd, server.in, sizeof server.in, server_received,
                 NULL), "server recv");
}
static void server_sent(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  (void)op;
  if (check(c->result, "server send") >= 0) server_receive(loop);
}
static void server_received(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  (void)op;
  if (c->result > 0) {
    check(rsk_send(loop, &server.send, server.fd, server.in, (size_t)c->result, server_sent,
                   NULL), "server send");
  } else {  /* 0: the client closed; < 0: -errno */
    check(c->result, "server recv");
    check(rsk_close(loop, &server.close, server.fd, closed, NULL), "server close");
  }
}

/* The client: send a message, read until all of it is back, compare, repeat. */
static void client_received(rsk_loop* loop, rsk_op* op, const rsk_completion* c);
static void client_next(rsk_loop* loop) {
  if (rounds == ROUNDS || failed) {
    check(rsk_close(loop, &client.close, client.fd, closed, NULL), "client close");
    return;
  }
  client.length = (size_t)snprintf(client.out, sizeof client.out, "message %d", rounds);
  client.got = 0;
  check(rsk_send(loop, &client.send, client.fd, client.out, client.length, sent, NULL),
        "client send");
  check(rsk_recv(loop, &client.recv, client.fd, client.in, client.length, client_received, NULL),
        "client recv");
}
static void client_received(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  if (c->result <= 0) {  /* 0 would be EOF: the server never closes first */
    check(c->result == 0 ? -ECONNRESET : c->result, "client recv");
    return;
  }
  client.got += (size_t)c->result;
  if (client.got < client.length) {  /* a short read: wait for the rest */
    check(rsk_recv(loop, op, client.fd, client.in + client.got, client.length - client.got,
                   client_received, NULL), "client recv");
    return;
  }
  if (memcmp(client.in, client.out, client.length) != 0) check(-EBADMSG, "echo differs");
  ++rounds;
  client_next(loop);
}

static void accepted(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  int listener = (int)(intptr_t)rsk_op_user_data(op);
  server.fd = check(c->result, "accept");
  if (server.fd >= 0) server_receive(loop);
  /* The accept has ended: its op may close the listener now. */
  check(rsk_close(loop, op, listener, closed, NULL), "listener close");
}

static void connected(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  (void)op;
  if (check(c->result, "connect") >= 0) client_next(loop);
}

int main(void) {
  rsk_loop loop = RSK_LOOP_INIT;
  rsk_op accept_op = RSK_OP_INIT, connect_op = RSK_OP_INIT;
  rsk_endpoint where;
  char url[RSK_ENDPOINT_URL_MAX] = "?";
  int listener;
  if (check(rsk_loop_init(&loop, sizeof loop, NULL), "loop init") < 0) return 1;
  if (check(rsk_endpoint_parse("tcp://127.0.0.1:0", &where, NULL), "parse") < 0 ||
      check(listener = rsk_listen(&where, 0, 0), "listen") < 0 ||
      check(rsk_local_endpoint(listener, RSK_TCP, &where), "local endpoint") < 0 ||  /* the port */
      check(client.fd = rsk_socket(&where), "socket") < 0) {
    return 1;
  }
  rsk_endpoint_format(&where, url, sizeof url);
  check(rsk_accept(&loop, &accept_op, listener, NULL, accepted, (void*)(intptr_t)listener),
        "accept");
  check(rsk_connect(&loop, &connect_op, client.fd, &where, connected, NULL), "connect");
  /* Callbacks run here, until every operation has ended (all sockets closed). */
  check(rsk_loop_run(&loop, RSK_RUN_UNTIL_DONE), "run");
  printf("%d round trips over %s on %s: %s\n", rounds, url, rsk_loop_backend_reason(&loop),
         failed || rounds != ROUNDS ? "FAILED" : "OK");
  rsk_loop_close(&loop);
  return failed || rounds != ROUNDS;
}
