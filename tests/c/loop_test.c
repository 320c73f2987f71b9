/*
 * The loop through the C ABI: timers, deadlines, cancel, a wake from another
 * thread, stop, what the loop reports about itself, and closing it from a
 * callback.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

int test_timer(int backend) {
  t_loop t;
  rsk_op zero = RSK_OP_INIT;
  rsk_op later;
  t_rec recs[2];
  uint64_t start;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(recs, 0, sizeof recs);
  rsk_op_init(&later);

  /* A 0 ns timer fires (result 0) on the next turn, never inside the submit. */
  start = t_now_ns();
  REQUIRE_INT(rsk_timeout(&t.loop, &zero, 0, t_rec_cb, &recs[0]), ==, 0);
  REQUIRE_INT(rsk_timeout(&t.loop, &later, 20 * T_MS, t_rec_cb, &recs[1]), ==, 0);
  CHECK_INT(recs[0].calls, ==, 0);
  CHECK(rsk_op_in_flight(&zero));
  CHECK_INT(rsk_loop_active(&t.loop), ==, 2);
  CHECK(rsk_op_user_data(&zero) == &recs[0]);
  REQUIRE(t_run_until(&t, t_rec_done, &recs[0], T_GUARD_MS));
  CHECK_INT(recs[0].result, ==, 0);
  CHECK_INT(recs[0].calls, ==, 1);
  CHECK(!rsk_op_in_flight(&zero));
  CHECK_INT(recs[1].calls, ==, 0); /* 20 ms is not over yet */
  /* A 20 ms timer never fires early (epoll rounds up to its 1 ms resolution). */
  REQUIRE(t_run_until(&t, t_rec_done, &recs[1], T_GUARD_MS));
  CHECK_INT(recs[1].result, ==, 0);
  CHECK_INT(recs[1].calls, ==, 1);
  CHECK_INT(t_now_ns() - start, >=, 20 * T_MS);
  /* An op may be resubmitted once it has ended. */
  memset(&recs[0], 0, sizeof recs[0]);
  REQUIRE_INT(rsk_timeout(&t.loop, &zero, 1 * T_MS, t_rec_cb, &recs[0]), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &recs[0], T_GUARD_MS));
  CHECK_INT(recs[0].calls, ==, 1);
  CHECK_INT(recs[0].result, ==, 0);
  /* rsk_nop: a round trip through the loop. */
  memset(&recs[0], 0, sizeof recs[0]);
  REQUIRE_INT(rsk_nop(&t.loop, &zero, t_rec_cb, &recs[0]), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_UNTIL_DONE), ==, 1);
  CHECK_INT(recs[0].result, ==, 0);
  CHECK_INT(recs[0].calls, ==, 1);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_NOWAIT), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_UNTIL_DONE), ==, 0); /* nothing in flight */
  t_loop_close(&t);
  return t_result();
}

int test_deadline(int backend) {
  t_loop t;
  rsk_op op = RSK_OP_INIT;
  rsk_op other = RSK_OP_INIT;
  t_rec rec, other_rec;
  int pair[2];
  char buf[16];
  uint64_t start;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&rec, 0, sizeof rec);
  memset(&other_rec, 0, sizeof other_rec);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0);

  /* An idle receive with a 30 ms deadline ends with -ETIMEDOUT, not before. */
  REQUIRE_INT(rsk_op_set_timeout(&op, 30 * T_MS), ==, 0);
  start = t_now_ns();
  REQUIRE_INT(rsk_recv(&t.loop, &op, pair[0], buf, sizeof buf, t_rec_cb, &rec), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, -ETIMEDOUT);
  CHECK_INT(rec.calls, ==, 1);
  CHECK_INT(t_now_ns() - start, >=, 30 * T_MS);

  /* The deadline persists across resubmissions; data in time wins over it. */
  memset(&rec, 0, sizeof rec);
  REQUIRE_INT(rsk_recv(&t.loop, &op, pair[0], buf, sizeof buf, t_rec_cb, &rec), ==, 0);
  REQUIRE_INT(write(pair[1], "hi", 2), ==, 2);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, 2);
  CHECK(memcmp(buf, "hi", 2) == 0);

  /* 0 turns it off: the receive waits until data comes (here: a 50 ms timer's worth). */
  REQUIRE_INT(rsk_op_set_timeout(&op, 0), ==, 0);
  memset(&rec, 0, sizeof rec);
  REQUIRE_INT(rsk_recv(&t.loop, &op, pair[0], buf, sizeof buf, t_rec_cb, &rec), ==, 0);
  REQUIRE_INT(rsk_timeout(&t.loop, &other, 50 * T_MS, t_rec_cb, &other_rec), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &other_rec, T_GUARD_MS));
  CHECK_INT(rec.calls, ==, 0);
  REQUIRE_INT(write(pair[1], "x", 1), ==, 1);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, 1);

  /* Not for timers, multishot operations or close: their submit is refused. */
  REQUIRE_INT(rsk_op_set_timeout(&other, 5 * T_MS), ==, 0);
  CHECK_INT(rsk_timeout(&t.loop, &other, T_MS, t_rec_cb, &other_rec), ==, -EINVAL);
  CHECK_INT(rsk_recv_multishot(&t.loop, &other, pair[0], t_rec_cb, &other_rec), ==, -EINVAL);
  CHECK_INT(rsk_recvfrom_multishot(&t.loop, &other, pair[0], t_rec_cb, &other_rec), ==, -EINVAL);
  CHECK_INT(rsk_accept_multishot(&t.loop, &other, pair[0], t_rec_cb, &other_rec), ==, -EINVAL);
  CHECK_INT(rsk_close(&t.loop, &other, pair[0], t_rec_cb, &other_rec), ==, -EINVAL);
  CHECK(!rsk_op_in_flight(&other));
  CHECK_INT(rsk_loop_active(&t.loop), ==, 0);
  CHECK_INT(other_rec.calls, ==, 1);
  close(pair[0]);
  close(pair[1]);
  t_loop_close(&t);
  return t_result();
}

int test_cancel(int backend) {
  t_loop t;
  rsk_op recv_op = RSK_OP_INIT, timer = RSK_OP_INIT, multi = RSK_OP_INIT, nop = RSK_OP_INIT;
  t_rec recs[4];
  int pair[2];
  char buf[16];
  int i;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(recs, 0, sizeof recs);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0);

  /* Idle: nothing to cancel. */
  CHECK_INT(rsk_cancel(&t.loop, &recv_op), ==, -ENOENT);

  REQUIRE_INT(rsk_recv(&t.loop, &recv_op, pair[0], buf, sizeof buf, t_rec_cb, &recs[0]), ==, 0);
  REQUIRE_INT(rsk_timeout(&t.loop, &timer, 3600ull * 1000 * T_MS, t_rec_cb, &recs[1]), ==, 0);
  REQUIRE_INT(rsk_recv_multishot(&t.loop, &multi, pair[1], t_rec_cb, &recs[2]), ==, 0);
  /* Let each reach the kernel (or epoll) before it is cancelled. */
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_NOWAIT), ==, 0);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 3);

  CHECK_INT(rsk_cancel(&t.loop, &recv_op), ==, 0);
  CHECK_INT(rsk_cancel(&t.loop, &recv_op), ==, -EALREADY);
  CHECK_INT(rsk_cancel(&t.loop, &timer), ==, 0);
  CHECK_INT(rsk_cancel(&t.loop, &multi), ==, 0);
  CHECK_INT(recs[0].calls + recs[1].calls + recs[2].calls, ==, 0); /* never inside cancel */
  REQUIRE_INT(rsk_loop_run(&t.loop, RSK_RUN_UNTIL_DONE), >=, 3);
  for (i = 0; i < 3; ++i) {
    CHECK_INT(recs[i].calls, ==, 1);
    CHECK_INT(recs[i].terminal, ==, 1);
    CHECK_INT(recs[i].result, ==, -ECANCELED);
  }
  /* Nothing more arrives for them: a few more turns, a nop round trip. */
  REQUIRE_INT(rsk_nop(&t.loop, &nop, t_rec_cb, &recs[3]), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &recs[3], T_GUARD_MS));
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_NOWAIT), ==, 0);
  for (i = 0; i < 3; ++i) CHECK_INT(recs[i].calls, ==, 1);
  CHECK_INT(rsk_cancel(&t.loop, &recv_op), ==, -ENOENT);
  CHECK_INT(rsk_cancel(&t.loop, &timer), ==, -ENOENT);
  CHECK_INT(rsk_cancel(&t.loop, &nop), ==, -ENOENT);

  /* The socket still works after the cancelled receive. */
  memset(&recs[0], 0, sizeof recs[0]);
  REQUIRE_INT(rsk_recv(&t.loop, &recv_op, pair[0], buf, sizeof buf, t_rec_cb, &recs[0]), ==, 0);
  REQUIRE_INT(write(pair[1], "ok", 2), ==, 2);
  REQUIRE(t_run_until(&t, t_rec_done, &recs[0], T_GUARD_MS));
  CHECK_INT(recs[0].result, ==, 2);
  close(pair[0]);
  close(pair[1]);
  t_loop_close(&t);
  return t_result();
}

/* ---- wake ----------------------------------------------------------------- */

struct waker {
  rsk_loop* loop;
  atomic_int done;
  atomic_int rc;
};

static void* wake_later(void* arg) {
  struct waker* w = (struct waker*)arg;
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  /* The flag first, then the wake: the loop sees the flag once run returns. */
  atomic_store(&w->done, 1);
  atomic_store(&w->rc, rsk_loop_wake(w->loop));
  return NULL;
}

int test_wake(int backend) {
  t_loop t;
  rsk_op guard = RSK_OP_INIT;
  t_rec rec;
  struct waker w;
  pthread_t thread;
  uint64_t start;
  int turns = 0;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&rec, 0, sizeof rec);
  w.loop = &t.loop;
  atomic_init(&w.done, 0);
  atomic_init(&w.rc, 1);

  /* A waiting rsk_loop_run (a 10 s timer is all there is) returns on the wake. */
  REQUIRE_INT(rsk_timeout(&t.loop, &guard, (uint64_t)T_GUARD_MS * T_MS, t_rec_cb, &rec), ==, 0);
  start = t_now_ns();
  REQUIRE(pthread_create(&thread, NULL, wake_later, &w) == 0);
  while (!atomic_load(&w.done) && rec.calls == 0) {
    REQUIRE_INT(rsk_loop_run(&t.loop, RSK_RUN_ONCE), >=, 0);
    ++turns;
  }
  REQUIRE(pthread_join(thread, NULL) == 0);
  CHECK_INT(atomic_load(&w.rc), ==, 0);
  CHECK_INT(rec.calls, ==, 0); /* woken, not timed out */
  CHECK_INT(t_now_ns() - start, <, 5000 * T_MS);
  CHECK_INT(t_now_ns() - start, >=, 40 * T_MS);
  printf("woken after %.1f ms, %d turns\n", (double)(t_now_ns() - start) / 1e6, turns);

  /* A wake before the run is not lost: the next run returns at once. */
  CHECK_INT(rsk_loop_wake(&t.loop), ==, 0);
  start = t_now_ns();
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_ONCE), >=, 0);
  CHECK_INT(rec.calls, ==, 0);
  CHECK_INT(t_now_ns() - start, <, 5000 * T_MS);

  CHECK_INT(rsk_cancel(&t.loop, &guard), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_UNTIL_DONE), ==, 1);
  CHECK_INT(rec.result, ==, -ECANCELED);
  t_loop_close(&t);
  return t_result();
}

/* ---- stop ----------------------------------------------------------------- */

static void stop_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  t_rec* rec = (t_rec*)rsk_op_user_data(op);
  t_rec_cb(loop, op, c);
  rec->first_result = rsk_loop_stop(loop);
  /* No nested runs from a callback. */
  rec->more = (uint8_t)(rsk_loop_run(loop, RSK_RUN_NOWAIT) == -EBUSY);
}

int test_stop(int backend) {
  t_loop t;
  rsk_op timer = RSK_OP_INIT, nop = RSK_OP_INIT;
  t_rec timer_rec, nop_rec;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&timer_rec, 0, sizeof timer_rec);
  memset(&nop_rec, 0, sizeof nop_rec);

  /* RUN_UNTIL_DONE with a 10 s timer in flight returns once a callback stops it. */
  REQUIRE_INT(rsk_timeout(&t.loop, &timer, (uint64_t)T_GUARD_MS * T_MS, t_rec_cb, &timer_rec), ==,
              0);
  REQUIRE_INT(rsk_nop(&t.loop, &nop, stop_cb, &nop_rec), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_UNTIL_DONE), ==, 1);
  CHECK_INT(nop_rec.calls, ==, 1);
  CHECK_INT(nop_rec.first_result, ==, 0); /* rsk_loop_stop's result */
  CHECK_INT(nop_rec.more, ==, 1);         /* rsk_loop_run from a callback: -EBUSY */
  CHECK_INT(timer_rec.calls, ==, 0);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 1);

  /* A stop outside run ends the next run after its first turn (which a
   * wake ends: otherwise it would wait for the timer). */
  CHECK_INT(rsk_loop_stop(&t.loop), ==, 0);
  CHECK_INT(rsk_loop_wake(&t.loop), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_UNTIL_DONE), ==, 0);
  CHECK_INT(timer_rec.calls, ==, 0);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 1);

  CHECK_INT(rsk_cancel(&t.loop, &timer), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_UNTIL_DONE), ==, 1);
  CHECK_INT(timer_rec.result, ==, -ECANCELED);
  t_loop_close(&t);
  return t_result();
}

/* ---- what the loop says about itself -------------------------------------- */

int test_loop_info(int backend) {
  t_loop t;
  rsk_loop_options options;
  char caps[512];
  char tiny[8];
  const char* reason;
  int rc;
  rsk_loop_options_init(&options);
  CHECK_INT(options.backend, ==, RSK_BACKEND_AUTO);
  CHECK_INT(options.ring_entries, ==, 256);
  CHECK_INT(options.buffer_count, ==, 512);
  CHECK_INT(options.buffer_size, ==, 4096);
  CHECK_INT(options.zero_copy_min_bytes, ==, 0);
  options.buffer_count = 64;
  options.buffer_size = 2048;
  rc = t_loop_init(&t, backend, &options);
  if (rc != T_PASS) return rc;

  CHECK_INT(rsk_loop_backend(&t.loop), ==, backend);
  reason = rsk_loop_backend_reason(&t.loop);
  REQUIRE(reason != NULL);
  CHECK(reason[0] != '\0');
  CHECK_INT(rsk_loop_buffer_size(&t.loop), ==, 2048);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 0);
  rc = rsk_loop_capabilities(&t.loop, caps, sizeof caps);
  CHECK_INT(rc, >, 0);
  CHECK_INT(rc, ==, strlen(caps));
  CHECK(strncmp(caps, backend == RSK_BACKEND_URING ? "io_uring" : "epoll",
                backend == RSK_BACKEND_URING ? 8 : 5) == 0);
  printf("backend %s: %s\ncapabilities: %s\n", t_backend_name(backend), reason, caps);
  /* Too small: -ENOSPC and an empty string, never a line cut short. */
  memset(tiny, 'x', sizeof tiny);
  CHECK_INT(rsk_loop_capabilities(&t.loop, tiny, 4), ==, -ENOSPC);
  CHECK(tiny[0] == '\0');
  CHECK(tiny[4] == 'x');
  CHECK_INT(rsk_loop_capabilities(&t.loop, caps, (size_t)rc), ==, -ENOSPC); /* no room for NUL */
  CHECK_INT(rsk_loop_capabilities(&t.loop, caps, (size_t)rc + 1), ==, rc);   /* exactly enough */
  /* Initialising twice is refused and leaves the loop as it was. */
  CHECK_INT(rsk_loop_init(&t.loop, sizeof t.loop, NULL), ==, -EALREADY);
  CHECK_INT(rsk_loop_backend(&t.loop), ==, backend);
  CHECK_INT(rsk_loop_buffer_size(&t.loop), ==, 2048);
  t_loop_close(&t);
  /* Closed: the storage is free again, and can hold a new loop. */
  CHECK_INT(rsk_loop_backend(&t.loop), ==, -EINVAL);
  CHECK_INT(rsk_loop_close(&t.loop), ==, -EINVAL);
  rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  CHECK_INT(rsk_loop_buffer_size(&t.loop), ==, 4096);
  t_loop_close(&t);
  return t_result();
}

/* ---- closing the loop from a callback -------------------------------------- */

static void close_loop_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  t_rec* rec = (t_rec*)rsk_op_user_data(op);
  t_rec_cb(loop, op, c);
  rec->first_result = rsk_loop_close(loop);
}

int test_close_in_callback(int backend) {
  t_loop t;
  rsk_op nop = RSK_OP_INIT, timer = RSK_OP_INIT;
  t_rec nop_rec, timer_rec;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&nop_rec, 0, sizeof nop_rec);
  memset(&timer_rec, 0, sizeof timer_rec);

  /* Closed from a callback: it takes effect when rsk_loop_run returns, the
   * storage is closed then, and the timer still in flight is dropped without
   * a callback. */
  REQUIRE_INT(rsk_timeout(&t.loop, &timer, (uint64_t)T_GUARD_MS * T_MS, t_rec_cb, &timer_rec), ==,
              0);
  REQUIRE_INT(rsk_nop(&t.loop, &nop, close_loop_cb, &nop_rec), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_UNTIL_DONE), ==, 1);
  CHECK_INT(nop_rec.calls, ==, 1);
  CHECK_INT(nop_rec.first_result, ==, 0);
  CHECK_INT(timer_rec.calls, ==, 0);
  CHECK_INT(rsk_loop_backend(&t.loop), ==, -EINVAL);
  CHECK_INT(rsk_loop_active(&t.loop), ==, -EINVAL);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_NOWAIT), ==, -EINVAL);
  CHECK_INT(rsk_nop(&t.loop, &nop, t_rec_cb, &nop_rec), ==, -EINVAL);
  /* Closed, as after a close outside run: a second close is refused. */
  CHECK_INT(rsk_loop_close(&t.loop), ==, -EINVAL);
  /* A dropped op stays marked in flight: it is re-initialised before reuse. */
  CHECK(rsk_op_in_flight(&timer));
  rsk_op_init(&timer);
  CHECK(!rsk_op_in_flight(&timer));
  rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  REQUIRE_INT(rsk_timeout(&t.loop, &timer, 0, t_rec_cb, &timer_rec), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &timer_rec, T_GUARD_MS));
  CHECK_INT(timer_rec.result, ==, 0);
  t_loop_close(&t);
  return t_result();
}
