/*
 * Zero-copy sends through the C ABI (rsk_loop_options.zero_copy_min_bytes):
 * off by default; with it set, an rsk_send and an rsk_sendv of pieces over
 * TCP deliver every byte
 * in order with one callback, and so does an rsk_sendto of a UDP datagram.
 * On io_uring they go out by SEND_ZC until loopback's first "copied" report;
 * on epoll the option is ignored. The engine's own tests check the counters.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define ZC_BYTES (256 * 1024)

static uint8_t zc_tx[ZC_BYTES];
static uint8_t zc_rx[ZC_BYTES];

/* A connected TCP pair over loopback: out[0] sends, out[1] receives. */
static int tcp_pair(int out[2]) {
  rsk_endpoint end;
  int listener, client, server;
  if (rsk_endpoint_parse("tcp://127.0.0.1:0", &end, NULL) != 0) return -1;
  listener = rsk_listen(&end, 0, 0);
  if (listener < 0 || rsk_local_endpoint(listener, RSK_TCP, &end) != 0) return -1;
  client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client < 0) return -1;
  if (connect(client, (const struct sockaddr*)&end.storage, end.length) != 0) return -1;
  server = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  close(listener);
  if (server < 0) return -1;
  out[0] = client;
  out[1] = server;
  return 0;
}

/* Sends zc_tx whole by rsk_send (vectored = 0) or in three pieces by
 * rsk_sendv, and checks what the peer received. T_FAIL when it could not. */
static int send_and_check(t_loop* t, int pair[2], int vectored) {
  rsk_op op = RSK_OP_INIT;
  t_rec rec;
  t_drain d;
  struct iovec pieces[3];
  memset(&rec, 0, sizeof rec);
  pieces[0].iov_base = zc_tx;
  pieces[0].iov_len = 100;
  pieces[1].iov_base = zc_tx + 100;
  pieces[1].iov_len = 0;
  pieces[2].iov_base = zc_tx + 100;
  pieces[2].iov_len = ZC_BYTES - 100;
  if (vectored) {
    REQUIRE_INT(rsk_sendv(&t->loop, &op, pair[0], pieces, 3, t_rec_cb, &rec), ==, 0);
  } else {
    REQUIRE_INT(rsk_send(&t->loop, &op, pair[0], zc_tx, ZC_BYTES, t_rec_cb, &rec), ==, 0);
  }
  d.rec = &rec;
  d.fd = pair[1];
  d.buffer = zc_rx;
  d.capacity = sizeof zc_rx;
  d.want = ZC_BYTES;
  d.have = 0;
  REQUIRE(t_run_until(t, t_drained, &d, T_GUARD_MS));
  CHECK_INT(rec.calls, ==, 1);
  CHECK_INT(rec.result, ==, ZC_BYTES);
  CHECK_INT(rsk_op_transferred(&op), ==, ZC_BYTES);
  REQUIRE_INT(d.have, ==, ZC_BYTES);
  CHECK(memcmp(zc_rx, zc_tx, ZC_BYTES) == 0);
  return T_PASS;
}

int test_zero_copy(int backend) {
  t_loop t;
  rsk_loop_options options;
  rsk_op op = RSK_OP_INIT;
  t_rec rec;
  rsk_endpoint server_end;
  int pair[2], round, server, client, i;
  int rc;
  rsk_loop_options_init(&options);
  CHECK_INT(options.zero_copy_min_bytes, ==, 0);
  options.zero_copy_min_bytes = 1024;
  rc = t_loop_init(&t, backend, &options);
  if (rc != T_PASS) return rc;
  for (i = 0; i < ZC_BYTES; ++i) zc_tx[i] = (uint8_t)(i * 13 + (i >> 9));

  /* Two connections: each asks for zero-copy again. */
  for (round = 0; round < 2; ++round) {
    REQUIRE_INT(tcp_pair(pair), ==, 0);
    /* Room for the whole send: the peer is read only between loop runs,
     * and a zero-copy send on a stream completes once, when every byte is
     * queued (the engine's own tests cover short sends with a reader on
     * the loop). */
    REQUIRE_INT(rsk_set_buffer_sizes(pair[0], 4 << 20, 0), ==, 0);
    REQUIRE_INT(send_and_check(&t, pair, round), ==, T_PASS);
    REQUIRE_INT(send_and_check(&t, pair, !round), ==, T_PASS);
    /* Through the loop, so that its fd table forgets them. */
    memset(&rec, 0, sizeof rec);
    REQUIRE_INT(rsk_close(&t.loop, &op, pair[0], t_rec_cb, &rec), ==, 0);
    REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
    CHECK_INT(rec.result, ==, 0);
    close(pair[1]);
  }

  /* One UDP datagram of 8 KiB arrives whole. */
  REQUIRE_INT(rsk_endpoint_parse("udp://127.0.0.1:0", &server_end, NULL), ==, 0);
  server = rsk_bind_datagram(&server_end, 0);
  REQUIRE(server >= 0);
  REQUIRE_INT(rsk_local_endpoint(server, RSK_UDP, &server_end), ==, 0);
  client = rsk_socket(&server_end);
  REQUIRE(client >= 0);
  memset(&rec, 0, sizeof rec);
  REQUIRE_INT(rsk_sendto(&t.loop, &op, client, zc_tx, 8192, &server_end, t_rec_cb, &rec), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, 8192);
  {
    struct pollfd ready;
    ready.fd = server;
    ready.events = POLLIN;
    ready.revents = 0;
    REQUIRE_INT(poll(&ready, 1, 10000), ==, 1);
    CHECK_INT(recv(server, zc_rx, sizeof zc_rx, MSG_DONTWAIT), ==, 8192);
    CHECK(memcmp(zc_rx, zc_tx, 8192) == 0);
  }
  close(client);
  close(server);
  t_loop_close(&t);
  return t_result();
}
