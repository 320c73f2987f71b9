/*
 * Posts through the C ABI: rsk_post from several threads (each op called
 * back once, on the loop's thread, with its value); posts still waiting when
 * the loop closes (called back with -ECANCELED by rsk_loop_close, whose
 * callbacks find the loop refusing), refusals before and after; and
 * rsk_post_to between this loop and one on another thread, of either backend
 * (io_uring to io_uring goes by MSG_RING where the kernel has it).
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "harness.h"

#define POSTERS 4
#define PER_POSTER 500

typedef struct post_seen {
  int calls;
  int32_t result;
  uint64_t value;
  pthread_t thread;
} post_seen;

typedef struct post_set {
  rsk_op ops[POSTERS * PER_POSTER];
  post_seen seen[POSTERS * PER_POSTER];
  int delivered;
} post_set;

static void post_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  post_set* set = (post_set*)rsk_op_user_data(op);
  post_seen* s = &set->seen[op - set->ops];
  (void)loop;
  ++s->calls;
  s->result = c->result;
  s->value = rsk_op_post_value(op);
  s->thread = pthread_self();
  ++set->delivered;
}

static uint64_t value_of(int index) { return ((uint64_t)index << 32) | 0x5eedu; }

typedef struct poster {
  rsk_loop* loop;
  post_set* set;
  int first;
  int refused;
} poster;

static void* post_many(void* arg) {
  poster* p = (poster*)arg;
  int i;
  for (i = p->first; i < p->first + PER_POSTER; ++i) {
    if (rsk_post(p->loop, &p->set->ops[i], value_of(i), post_cb, p->set) != 0) ++p->refused;
  }
  return NULL;
}

static int all_delivered(void* arg) {
  post_set* set = (post_set*)arg;
  return set->delivered == POSTERS * PER_POSTER;
}

int test_post_threads(int backend) {
  t_loop t;
  post_set* set = (post_set*)t_zalloc_aligned(sizeof(post_set), _Alignof(post_set));
  pthread_t threads[POSTERS];
  poster posters[POSTERS];
  int i, rc = t_loop_init(&t, backend, NULL);
  REQUIRE(set != NULL);
  if (rc != T_PASS) {
    free(set);
    return rc;
  }
  for (i = 0; i < POSTERS; ++i) {
    posters[i].loop = &t.loop;
    posters[i].set = set;
    posters[i].first = i * PER_POSTER;
    posters[i].refused = 0;
    REQUIRE(pthread_create(&threads[i], NULL, post_many, &posters[i]) == 0);
  }
  CHECK(t_run_until(&t, all_delivered, set, T_GUARD_MS));
  for (i = 0; i < POSTERS; ++i) {
    REQUIRE(pthread_join(threads[i], NULL) == 0);
    CHECK_INT(posters[i].refused, ==, 0);
  }
  for (i = 0; i < POSTERS * PER_POSTER; ++i) {
    CHECK_INT(set->seen[i].calls, ==, 1);
    CHECK_INT(set->seen[i].result, ==, 0);
    CHECK(set->seen[i].value == value_of(i));
    CHECK(pthread_equal(set->seen[i].thread, pthread_self()));
    CHECK_INT(rsk_op_in_flight(&set->ops[i]), ==, 0);
  }
  t_loop_close(&t);
  free(set);
  return t_result();
}

typedef struct closing_probe {
  rsk_op other;
  int post_rc;
  int nop_rc;
  int calls;
  int32_t result;
} closing_probe;

static void noop_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  (void)loop;
  (void)op;
  (void)c;
}

static void probe_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  closing_probe* p = (closing_probe*)rsk_op_user_data(op);
  ++p->calls;
  p->result = c->result;
  p->post_rc = rsk_post(loop, &p->other, 1, noop_cb, NULL);
  p->nop_rc = rsk_nop(loop, &p->other, noop_cb, NULL);
}

int test_post_close(int backend) {
  t_loop t;
  post_set* set = (post_set*)t_zalloc_aligned(sizeof(post_set), _Alignof(post_set));
  rsk_op probe_op = RSK_OP_INIT;
  closing_probe probe;
  pthread_t thread;
  poster p;
  int i, rc = t_loop_init(&t, backend, NULL);
  REQUIRE(set != NULL);
  if (rc != T_PASS) {
    free(set);
    return rc;
  }
  memset(&probe, 0, sizeof probe);
  /* Refusals change nothing. */
  CHECK_INT(rsk_post(&t.loop, NULL, 1, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_post(&t.loop, &probe_op, 1, NULL, NULL), ==, -EINVAL);
  CHECK_INT(rsk_op_set_timeout(&probe_op, T_MS), ==, 0);
  CHECK_INT(rsk_post(&t.loop, &probe_op, 1, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_op_set_timeout(&probe_op, 0), ==, 0);
  CHECK_INT(rsk_op_in_flight(&probe_op), ==, 0);
  /* Posts from another thread that the loop never runs for. */
  p.loop = &t.loop;
  p.set = set;
  p.first = 0;
  p.refused = 0;
  REQUIRE(pthread_create(&thread, NULL, post_many, &p) == 0);
  REQUIRE(pthread_join(thread, NULL) == 0);
  CHECK_INT(p.refused, ==, 0);
  REQUIRE_INT(rsk_post(&t.loop, &probe_op, 9, probe_cb, &probe), ==, 0);
  CHECK_INT(rsk_post(&t.loop, &probe_op, 9, probe_cb, &probe), ==, -EBUSY);
  CHECK_INT(rsk_cancel(&t.loop, &probe_op), ==, -EALREADY);
  CHECK_INT(set->delivered, ==, 0);
  /* The guard timer of t_loop_init is not in flight: closing drops nothing else. */
  REQUIRE_INT(rsk_loop_close(&t.loop), ==, 0);
  CHECK_INT(set->delivered, ==, PER_POSTER);
  for (i = 0; i < PER_POSTER; ++i) {
    CHECK_INT(set->seen[i].calls, ==, 1);
    CHECK_INT(set->seen[i].result, ==, -ECANCELED);
    CHECK(set->seen[i].value == value_of(i));
  }
  CHECK_INT(probe.calls, ==, 1);
  CHECK_INT(probe.result, ==, -ECANCELED);
  CHECK(rsk_op_post_value(&probe_op) == 9);
  CHECK_INT(probe.post_rc, ==, -ESHUTDOWN);
  CHECK_INT(probe.nop_rc, ==, -EINVAL);
  CHECK_INT(rsk_op_in_flight(&probe.other), ==, 0);
  /* Closed: refused as a loop never initialised. */
  CHECK_INT(rsk_post(&t.loop, &probe_op, 1, noop_cb, NULL), ==, -EINVAL);
  free(set);
  return t_result();
}

/* ---- rsk_post_to between two loops ----------------------------------------- */

#define TOKENS 16
#define HOPS 200

typedef struct rally {
  rsk_loop* loops[2];
  rsk_op ops[TOKENS];
  int finished;  /* loop 0's thread only: the last hop lands there */
  int errors[2]; /* per loop's thread */
} rally;

static void rally_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  rally* r = (rally*)rsk_op_user_data(op);
  uint64_t hop = rsk_op_post_value(op);
  int here = loop == r->loops[0] ? 0 : 1;
  /* Even hops land on loop 1, odd ones on loop 0. */
  if (c->result != 0 || here != (int)((hop + 1) & 1)) ++r->errors[here];
  if (hop + 1 == HOPS) {
    ++r->finished;
    return;
  }
  if (rsk_post_to(loop, r->loops[1 - here], op, hop + 1, rally_cb, r) != 0) ++r->errors[here];
}

typedef struct loop_thread {
  rsk_loop loop;
  int backend;
  int init_rc; /* 1 until the thread has tried */
  int stop;    /* the thread's alone */
  rsk_op stop_op;
} loop_thread;

static void stop_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  (void)loop;
  (void)c;
  ((loop_thread*)rsk_op_user_data(op))->stop = 1;
}

static void* run_loop_thread(void* arg) {
  loop_thread* lt = (loop_thread*)arg;
  rsk_loop_options options;
  int rc;
  rsk_loop_options_init(&options);
  options.backend = (uint32_t)lt->backend;
  rc = rsk_loop_init(&lt->loop, sizeof lt->loop, &options);
  __atomic_store_n(&lt->init_rc, rc, __ATOMIC_RELEASE);
  if (rc < 0) return NULL;
  while (!lt->stop && rsk_loop_run(&lt->loop, RSK_RUN_ONCE) >= 0) {
  }
  rsk_loop_close(&lt->loop);
  return NULL;
}

static int rally_done(void* arg) { return ((rally*)arg)->finished == TOKENS; }

static int rally_with(t_loop* t, int other_backend) {
  loop_thread* lt = (loop_thread*)t_zalloc_aligned(sizeof(loop_thread), _Alignof(loop_thread));
  rally r;
  pthread_t thread;
  int i;
  REQUIRE(lt != NULL);
  lt->backend = other_backend;
  lt->init_rc = 1;
  REQUIRE(pthread_create(&thread, NULL, run_loop_thread, lt) == 0);
  while (__atomic_load_n(&lt->init_rc, __ATOMIC_ACQUIRE) == 1) sched_yield();
  if (lt->init_rc < 0) {
    pthread_join(thread, NULL);
    free(lt);
    return other_backend == RSK_BACKEND_URING ? T_SKIP : T_FAIL;
  }
  memset(&r, 0, sizeof r);
  r.loops[0] = &t->loop;
  r.loops[1] = &lt->loop;
  /* Refused: no target. */
  CHECK_INT(rsk_post_to(&t->loop, NULL, &r.ops[0], 0, rally_cb, &r), ==, -EINVAL);
  for (i = 0; i < TOKENS; ++i) {
    CHECK_INT(rsk_post_to(&t->loop, &lt->loop, &r.ops[i], 0, rally_cb, &r), ==, 0);
  }
  CHECK(t_run_until(t, rally_done, &r, T_GUARD_MS));
  CHECK_INT(rsk_post(&lt->loop, &lt->stop_op, 0, stop_cb, lt), ==, 0);
  REQUIRE(pthread_join(thread, NULL) == 0);
  CHECK_INT(r.errors[0], ==, 0);
  CHECK_INT(r.errors[1], ==, 0);
  CHECK_INT(r.finished, ==, TOKENS);
  /* lt's loop is closed now: a post to it is refused, and changes nothing. */
  CHECK_INT(rsk_post_to(&t->loop, &lt->loop, &r.ops[0], 0, rally_cb, &r), ==, -EINVAL);
  CHECK_INT(rsk_op_in_flight(&r.ops[0]), ==, 0);
  free(lt);
  return T_PASS;
}

int test_post_to(int backend) {
  t_loop t;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  /* Either backend on the other side: the same, and mixed. */
  rc = rally_with(&t, RSK_BACKEND_URING);
  if (rc != T_SKIP) CHECK_INT(rc, ==, T_PASS);
  rc = rally_with(&t, RSK_BACKEND_EPOLL);
  CHECK_INT(rc, ==, T_PASS);
  t_loop_close(&t);
  return t_result();
}
