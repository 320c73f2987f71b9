/*
 * Vectored sends through the C ABI: rsk_sendv on a UNIX stream with small
 * buffers (many pieces, empty ones among them, short sends continued, every
 * byte in order), a deadline that ends a stuck rsk_sendv with the exact bytes
 * in rsk_op_transferred; rsk_sendtov of pieces to a UDP endpoint (one
 * datagram), one too large (-EMSGSIZE); and the refusals (IOV_MAX + 1, count
 * 0, no array, a piece without base) that leave the operation as it was.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define PIECES 300
#define PIECE_MAX 3000

static uint8_t tx[PIECES * PIECE_MAX];
static uint8_t rx[PIECES * PIECE_MAX];

/* PIECES pieces over tx of odd sizes, every 50th empty; returns the bytes. */
static size_t make_pieces(struct iovec* pieces) {
  size_t at = 0;
  int i;
  for (i = 0; i < PIECES; ++i) {
    size_t length = (i % 50 == 7) ? 0 : 1 + ((size_t)i * 7919u) % PIECE_MAX;
    pieces[i].iov_base = tx + at;
    pieces[i].iov_len = length;
    at += length;
  }
  for (i = 0; i < (int)at; ++i) tx[i] = (uint8_t)(i * 13 + (i >> 9));
  return at;
}

int test_sendv_stream(int backend) {
  t_loop t;
  rsk_op op = RSK_OP_INIT;
  t_rec rec;
  t_drain d;
  struct iovec pieces[PIECES];
  int pair[2];
  size_t total = make_pieces(pieces);
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&rec, 0, sizeof rec);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0);
  REQUIRE_INT(rsk_set_buffer_sizes(pair[0], 4096, 4096), ==, 0);

  /* Every byte of every piece, in order, across short sends. */
  REQUIRE_INT(rsk_sendv(&t.loop, &op, pair[0], pieces, PIECES, t_rec_cb, &rec), ==, 0);
  d.rec = &rec;
  d.fd = pair[1];
  d.buffer = rx;
  d.capacity = sizeof rx;
  d.want = total;
  d.have = 0;
  REQUIRE(t_run_until(&t, t_drained, &d, T_GUARD_MS));
  CHECK_INT(rec.calls, ==, 1);
  CHECK_INT(rec.result, ==, total);
  CHECK_INT(rsk_op_transferred(&op), ==, total);
  REQUIRE_INT(d.have, ==, total);
  CHECK(memcmp(rx, tx, total) == 0);

  /* A deadline ends a send the peer never reads, with the exact bytes. */
  memset(&rec, 0, sizeof rec);
  REQUIRE_INT(rsk_op_set_timeout(&op, 30 * T_MS), ==, 0);
  REQUIRE_INT(rsk_sendv(&t.loop, &op, pair[0], pieces, PIECES, t_rec_cb, &rec), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, -ETIMEDOUT);
  CHECK_INT(rsk_op_transferred(&op), <, total);
  REQUIRE_INT(shutdown(pair[0], SHUT_WR), ==, 0);
  d.have = 0;
  for (;;) {
    ssize_t n = recv(pair[1], rx + d.have, sizeof rx - d.have, MSG_DONTWAIT);
    if (n <= 0) break;
    d.have += (size_t)n;
  }
  CHECK_INT(d.have, ==, rsk_op_transferred(&op));
  CHECK(memcmp(rx, tx, d.have) == 0);

  close(pair[0]);
  close(pair[1]);
  t_loop_close(&t);
  return t_result();
}

int test_sendtov_dgram(int backend) {
  t_loop t;
  rsk_op op = RSK_OP_INIT;
  t_rec rec;
  rsk_endpoint server_end;
  struct iovec pieces[4];
  static uint8_t big[3][30000];
  struct iovec big_pieces[3];
  char got[64];
  int server, client, i;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&rec, 0, sizeof rec);
  REQUIRE_INT(rsk_endpoint_parse("udp://127.0.0.1:0", &server_end, NULL), ==, 0);
  server = rsk_bind_datagram(&server_end, 0);
  REQUIRE(server >= 0);
  REQUIRE_INT(rsk_local_endpoint(server, RSK_UDP, &server_end), ==, 0);
  client = rsk_socket(&server_end);
  REQUIRE(client >= 0);

  /* One datagram made of the pieces, to the endpoint. */
  pieces[0].iov_base = (void*)"hello";
  pieces[0].iov_len = 5;
  pieces[1].iov_base = NULL; /* an empty piece needs no base */
  pieces[1].iov_len = 0;
  pieces[2].iov_base = (void*)", ";
  pieces[2].iov_len = 2;
  pieces[3].iov_base = (void*)"world";
  pieces[3].iov_len = 5;
  REQUIRE_INT(rsk_sendtov(&t.loop, &op, client, pieces, 4, &server_end, t_rec_cb, &rec), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, 12);
  CHECK_INT(t_recv_ready(server, got, sizeof got), ==, 12);
  CHECK(memcmp(got, "hello, world", 12) == 0);

  /* Larger than a UDP datagram can be: -EMSGSIZE, as a result. */
  for (i = 0; i < 3; ++i) {
    big_pieces[i].iov_base = big[i];
    big_pieces[i].iov_len = sizeof big[i];
  }
  memset(&rec, 0, sizeof rec);
  REQUIRE_INT(rsk_sendtov(&t.loop, &op, client, big_pieces, 3, &server_end, t_rec_cb, &rec),
              ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, -EMSGSIZE);

  /* A connected socket: rsk_sendv is one datagram too, no address. */
  close(client);
  client = rsk_connect_datagram(&server_end, NULL);
  REQUIRE(client >= 0);
  memset(&rec, 0, sizeof rec);
  REQUIRE_INT(rsk_sendv(&t.loop, &op, client, pieces, 4, t_rec_cb, &rec), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, 12);
  CHECK_INT(t_recv_ready(server, got, sizeof got), ==, 12);

  close(client);
  close(server);
  t_loop_close(&t);
  return t_result();
}

int test_sendv_refused(int backend) {
  t_loop t;
  rsk_op op = RSK_OP_INIT;
  rsk_op before;
  t_rec rec;
  static struct iovec many[IOV_MAX + 1];
  static uint8_t byte;
  struct iovec no_base = {NULL, 1};
  int pair[2], i;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&rec, 0, sizeof rec);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0);
  for (i = 0; i <= IOV_MAX; ++i) {
    many[i].iov_base = &byte;
    many[i].iov_len = 1;
  }
  before = op;
  CHECK_INT(rsk_sendv(&t.loop, &op, pair[0], many, IOV_MAX + 1, t_rec_cb, &rec), ==, -EINVAL);
  CHECK_INT(rsk_sendtov(&t.loop, &op, pair[0], many, IOV_MAX + 1, NULL, t_rec_cb, &rec), ==,
            -EINVAL);
  CHECK_INT(rsk_sendv(&t.loop, &op, pair[0], many, 0, t_rec_cb, &rec), ==, -EINVAL);
  CHECK_INT(rsk_sendv(&t.loop, &op, pair[0], NULL, 1, t_rec_cb, &rec), ==, -EINVAL);
  CHECK_INT(rsk_sendv(&t.loop, &op, pair[0], &no_base, 1, t_rec_cb, &rec), ==, -EINVAL);
  CHECK_INT(rsk_sendv(&t.loop, &op, pair[0], many, 1, NULL, &rec), ==, -EINVAL);
  CHECK_INT(rsk_sendv(NULL, &op, pair[0], many, 1, t_rec_cb, &rec), ==, -EINVAL);
  CHECK(memcmp(&op, &before, sizeof op) == 0);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 0);

  /* IOV_MAX itself is taken. */
  REQUIRE_INT(rsk_sendv(&t.loop, &op, pair[0], many, IOV_MAX, t_rec_cb, &rec), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, IOV_MAX);
  CHECK_INT(rec.calls, ==, 1);

  close(pair[0]);
  close(pair[1]);
  t_loop_close(&t);
  return t_result();
}
