/*
 * Direct descriptors through the C ABI (rsk_loop_options.direct_descriptors):
 * a TCP connection accepted into the loop's table (on io_uring; an fd on
 * epoll, where the option is ignored), a request received on it and echoed
 * with rsk_send, then rsk_close, after which the slot is empty (-EBADF).
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

/* Whether an io_uring loop must have the table here: Linux 6.13 or later,
 * and RLIMIT_NOFILE at least the slots. */
static int table_expected(unsigned slots) {
  struct utsname name;
  struct rlimit limit;
  unsigned major = 0, minor = 0;
  if (uname(&name) != 0 || sscanf(name.release, "%u.%u", &major, &minor) != 2) return 0;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < slots) return 0;
  return major > 6 || (major == 6 && minor >= 13);
}

int test_direct_descriptors(int backend) {
  t_loop t;
  rsk_loop_options options;
  rsk_endpoint any, bound;
  rsk_op accept_op = RSK_OP_INIT, recv_op = RSK_OP_INIT, send_op = RSK_OP_INIT;
  rsk_op close_op = RSK_OP_INIT, late_op = RSK_OP_INIT, connect_op = RSK_OP_INIT;
  t_rec accepted, connected, received, sent, closed, late;
  char caps[512];
  char request[] = "direct hello", reply[sizeof request], back[sizeof request];
  int listener, client, server, direct, rc;
  rsk_loop_options_init(&options);
  options.direct_descriptors = 8;
  rc = t_loop_init(&t, backend, &options);
  if (rc != T_PASS) return rc;
  memset(&accepted, 0, sizeof accepted);
  memset(&connected, 0, sizeof connected);
  memset(&received, 0, sizeof received);
  memset(&sent, 0, sizeof sent);
  memset(&closed, 0, sizeof closed);
  memset(&late, 0, sizeof late);
  REQUIRE(rsk_loop_capabilities(&t.loop, caps, sizeof caps) > 0);
  direct = strstr(caps, "direct=8") != NULL;
  if (backend == RSK_BACKEND_EPOLL) CHECK(!direct);
  if (backend == RSK_BACKEND_URING && table_expected(8)) CHECK(direct);

  REQUIRE_INT(rsk_endpoint_parse("tcp://127.0.0.1:0", &any, NULL), ==, 0);
  listener = rsk_listen(&any, 16, 0);
  REQUIRE(listener >= 0);
  REQUIRE_INT(rsk_local_endpoint(listener, RSK_TCP, &bound), ==, 0);
  client = rsk_socket(&bound);
  REQUIRE(client >= 0);
  REQUIRE_INT(rsk_accept(&t.loop, &accept_op, listener, NULL, t_rec_cb, &accepted), ==, 0);
  REQUIRE_INT(rsk_connect(&t.loop, &connect_op, client, &bound, t_rec_cb, &connected), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &accepted, T_GUARD_MS));
  REQUIRE(t_run_until(&t, t_rec_done, &connected, T_GUARD_MS));
  REQUIRE_INT(connected.result, ==, 0);
  server = accepted.result;
  REQUIRE(server >= 0);
  CHECK_INT(RSK_IS_DIRECT_DESCRIPTOR(server), ==, direct);

  /* Request in, reply out, over the accepted side. */
  REQUIRE(send(client, request, sizeof request, MSG_NOSIGNAL) == (ssize_t)sizeof request);
  REQUIRE_INT(rsk_recv(&t.loop, &recv_op, server, reply, sizeof reply, t_rec_cb, &received), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &received, T_GUARD_MS));
  CHECK_INT(received.result, ==, sizeof request);
  CHECK(memcmp(reply, request, sizeof request) == 0);
  REQUIRE_INT(rsk_send(&t.loop, &send_op, server, reply, sizeof reply, t_rec_cb, &sent), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &sent, T_GUARD_MS));
  CHECK_INT(sent.result, ==, sizeof reply);
  memset(back, 0, sizeof back);
  CHECK(t_recv_ready(client, back, sizeof back) == (ssize_t)sizeof back);
  CHECK(memcmp(back, request, sizeof back) == 0);

  /* Close empties the slot; the peer sees EOF. */
  REQUIRE_INT(rsk_close(&t.loop, &close_op, server, t_rec_cb, &closed), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &closed, T_GUARD_MS));
  CHECK_INT(closed.result, ==, 0);
  CHECK(t_recv_ready(client, back, sizeof back) == 0);
  if (direct) {
    /* An empty slot: refused, and a second close leaves the table alone. */
    CHECK_INT(rsk_recv(&t.loop, &late_op, server, reply, sizeof reply, t_rec_cb, &late), ==,
              -EBADF);
    CHECK_INT(rsk_close(&t.loop, &late_op, server, t_rec_cb, &late), ==, -EBADF);
  }
  close(client);
  close(listener);
  t_loop_close(&t);
  return t_result();
}
