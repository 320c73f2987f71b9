/* The harness: checks, bounded loop runs, fd counting, temporary dirs. */
#define _GNU_SOURCE 1

#include "harness.h"

#include <dirent.h>
#include <poll.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int t_failures = 0;

void t_fail(const char* file, int line, const char* what) {
  ++t_failures;
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
}

void t_fail_values(const char* file, int line, const char* what, long long a, long long b) {
  ++t_failures;
  fprintf(stderr, "%s:%d: check failed: %s (%lld vs %lld", file, line, what, a, b);
  if (a < -1 && a > -4096) fprintf(stderr, "; left is -%s", strerrorname_np((int)-a));
  fprintf(stderr, ")\n");
}

void t_check_str(const char* file, int line, const char* what, const char* a, const char* b) {
  if (a != NULL && b != NULL && strcmp(a, b) == 0) return;
  ++t_failures;
  fprintf(stderr, "%s:%d: check failed: %s (\"%s\" vs \"%s\")\n", file, line, what,
          a ? a : "(null)", b ? b : "(null)");
}

int t_result(void) { return t_failures == 0 ? T_PASS : T_FAIL; }

const char* t_backend_name(int backend) {
  switch (backend) {
    case RSK_BACKEND_URING: return "uring";
    case RSK_BACKEND_EPOLL: return "epoll";
    default: return "none";
  }
}

int t_loop_init(t_loop* t, int backend, const rsk_loop_options* options) {
  rsk_loop_options o;
  int rc;
  memset(t, 0, sizeof *t);
  rsk_op_init(&t->guard);
  t->backend = backend;
  if (options != NULL) {
    o = *options;
  } else {
    rsk_loop_options_init(&o);
  }
  o.backend = (uint32_t)backend;
  /* The test forces its backend in the options; the variable would override it. */
  unsetenv("RINGSOCK_BACKEND");
  rc = rsk_loop_init(&t->loop, sizeof t->loop, &o);
  if (rc < 0) {
    const char* why = rsk_loop_backend_reason(&t->loop);
    if (backend == RSK_BACKEND_URING && rc != -EINVAL) {
      printf("SKIP: io_uring cannot start here (%s): %s\n", rsk_strerror(rc), why);
      rsk_loop_close(&t->loop);
      return T_SKIP;
    }
    fprintf(stderr, "rsk_loop_init on %s: %s (%s)\n", t_backend_name(backend), rsk_strerror(rc),
            why);
    ++t_failures;
    return T_FAIL;
  }
  if (rsk_loop_backend(&t->loop) != backend) {
    fprintf(stderr, "asked for %s, runs %d (%s)\n", t_backend_name(backend),
            rsk_loop_backend(&t->loop), rsk_loop_backend_reason(&t->loop));
    ++t_failures;
    return T_FAIL;
  }
  return T_PASS;
}

static void guard_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  t_loop* t = (t_loop*)rsk_op_user_data(op);
  (void)loop;
  if (c->result == 0) t->guard_fired = 1;
}

int t_run_until(t_loop* t, int (*done)(void* arg), void* arg, unsigned guard_ms) {
  int ok = 1;
  int rc;
  t->guard_fired = 0;
  rc = rsk_timeout(&t->loop, &t->guard, (uint64_t)guard_ms * T_MS, guard_cb, t);
  if (rc < 0) {
    t_fail_values(__FILE__, __LINE__, "rsk_timeout(guard) == 0", rc, 0);
    return 0;
  }
  while (!done(arg)) {
    if (t->guard_fired) {
      fprintf(stderr, "guard of %u ms ran out: the loop is stuck (%d ops in flight)\n", guard_ms,
              rsk_loop_active(&t->loop));
      ++t_failures;
      ok = 0;
      break;
    }
    rc = rsk_loop_run(&t->loop, RSK_RUN_ONCE);
    if (rc < 0) {
      t_fail_values(__FILE__, __LINE__, "rsk_loop_run(ONCE) >= 0", rc, 0);
      ok = 0;
      break;
    }
  }
  if (rsk_op_in_flight(&t->guard)) {
    rc = rsk_cancel(&t->loop, &t->guard);
    if (rc < 0 && rc != -EALREADY) t_fail_values(__FILE__, __LINE__, "cancel(guard)", rc, 0);
    while (rsk_op_in_flight(&t->guard)) {
      if (rsk_loop_run(&t->loop, RSK_RUN_ONCE) < 0) break;
    }
  }
  return ok;
}

void t_loop_close(t_loop* t) {
  int active = rsk_loop_active(&t->loop);
  if (active != 0) t_fail_values(__FILE__, __LINE__, "ops in flight at close", active, 0);
  CHECK_INT(rsk_loop_close(&t->loop), ==, 0);
}

int t_count_fds(void) {
  DIR* dir = opendir("/proc/self/fd");
  struct dirent* entry;
  int count = 0;
  if (dir == NULL) return -1;
  while ((entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1; /* the directory's own fd */
}

int t_mkdtemp(char* path, size_t capacity) {
  static const char templ[] = "/tmp/ringsock-c-XXXXXX";
  if (capacity < sizeof templ) return -1;
  memcpy(path, templ, sizeof templ);
  return mkdtemp(path) != NULL ? 0 : -1;
}

void t_rmdir(const char* path) {
  DIR* dir = opendir(path);
  struct dirent* entry;
  char file[512];
  if (dir == NULL) return;
  while ((entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] == '.') continue;
    snprintf(file, sizeof file, "%s/%s", path, entry->d_name);
    unlink(file);
  }
  closedir(dir);
  rmdir(path);
}

uint64_t t_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

void* t_zalloc_aligned(size_t size, size_t align) {
  size_t rounded = (size + align - 1) / align * align; /* aligned_alloc wants a multiple */
  void* p = aligned_alloc(align, rounded);
  if (p != NULL) memset(p, 0, rounded);
  return p;
}

ssize_t t_recv_ready(int fd, void* out, size_t capacity) {
  struct pollfd ready;
  ready.fd = fd;
  ready.events = POLLIN;
  ready.revents = 0;
  if (poll(&ready, 1, 10000) != 1) return -1;
  return recv(fd, out, capacity, MSG_DONTWAIT);
}

int t_all_bytes(const void* p, size_t size, unsigned char byte) {
  const unsigned char* bytes = (const unsigned char*)p;
  size_t i;
  for (i = 0; i < size; ++i) {
    if (bytes[i] != byte) return 0;
  }
  return 1;
}

void t_rec_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  t_rec* rec = (t_rec*)rsk_op_user_data(op);
  if (rec->calls == 0) rec->first_result = c->result;
  ++rec->calls;
  rec->result = c->result;
  rec->more = c->more;
  if (!c->more) ++rec->terminal;
  if (c->has_buffer) rsk_loop_release_buffer(loop, c->buffer_id);
}

int t_rec_done(void* arg) { return ((const t_rec*)arg)->terminal > 0; }

int t_drained(void* arg) {
  t_drain* d = (t_drain*)arg;
  ssize_t n;
  while (d->have < d->capacity &&
         (n = recv(d->fd, d->buffer + d->have, d->capacity - d->have, MSG_DONTWAIT)) > 0) {
    d->have += (size_t)n;
  }
  return d->rec->terminal && d->have >= d->want;
}
