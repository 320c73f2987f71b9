/*
 * A tiny test harness for the C ABI, in plain C11: one process runs one test
 * case on one backend (CTest registers each pair, with a time limit), checks
 * report file:line and the values, and every wait on the loop is bounded by
 * an rsk_timeout guard.
 */
#ifndef RINGSOCK_C_TEST_HARNESS_H
#define RINGSOCK_C_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ringsock.h"

/* Exit codes: CTest's SKIP_RETURN_CODE is 77. */
#define T_PASS 0
#define T_FAIL 1
#define T_SKIP 77

/* A test case gets the backend it runs on (RSK_BACKEND_URING or
 * RSK_BACKEND_EPOLL), or 0 for the cases that need no loop of their own. */
typedef int (*t_test_fn)(int backend);

typedef struct t_case {
  const char* name;
  t_test_fn fn;
  int per_backend; /* 1: run once per backend; 0: takes no backend */
} t_case;

/* ---- checks ------------------------------------------------------------- */

extern int t_failures;
void t_fail(const char* file, int line, const char* what);
void t_fail_values(const char* file, int line, const char* what, long long a, long long b);
/* Failed checks so far: T_FAIL if any, else T_PASS. */
int t_result(void);

/* CHECK* record a failure and go on; REQUIRE* return T_FAIL from the test. */
#define CHECK(cond) \
  do { \
    if (!(cond)) t_fail(__FILE__, __LINE__, #cond); \
  } while (0)
#define CHECK_INT(a, op, b) \
  do { \
    long long t_a_ = (long long)(a), t_b_ = (long long)(b); \
    if (!(t_a_ op t_b_)) t_fail_values(__FILE__, __LINE__, #a " " #op " " #b, t_a_, t_b_); \
  } while (0)
#define REQUIRE(cond) \
  do { \
    if (!(cond)) { \
      t_fail(__FILE__, __LINE__, #cond); \
      return T_FAIL; \
    } \
  } while (0)
#define REQUIRE_INT(a, op, b) \
  do { \
    long long t_a_ = (long long)(a), t_b_ = (long long)(b); \
    if (!(t_a_ op t_b_)) { \
      t_fail_values(__FILE__, __LINE__, #a " " #op " " #b, t_a_, t_b_); \
      return T_FAIL; \
    } \
  } while (0)
/* A string compare that prints both sides. */
#define CHECK_STR(a, b) t_check_str(__FILE__, __LINE__, #a " == " #b, (a), (b))
void t_check_str(const char* file, int line, const char* what, const char* a, const char* b);

/* ---- loops -------------------------------------------------------------- */

#define T_MS 1000000ull /* nanoseconds */
/* How long any single wait of a test may take before it counts as a hang. */
#define T_GUARD_MS 10000u

typedef struct t_loop {
  rsk_loop loop;
  rsk_op guard;     /* the timer that bounds each t_run_until */
  int guard_fired;  /* the guard ran out: something hung */
  int backend;
} t_loop;

/* Inits a loop forced onto `backend` (RINGSOCK_BACKEND is cleared so the
 * option decides). options may be NULL. Returns T_PASS, T_SKIP (io_uring
 * cannot start here: the reason is printed) or T_FAIL. */
int t_loop_init(t_loop* t, int backend, const rsk_loop_options* options);
/* Runs the loop until done(arg) is true. Returns 1, or 0 (and records a
 * failure) when the guard of `guard_ms` fired or rsk_loop_run failed. The
 * guard is cancelled and reaped before it returns. */
int t_run_until(t_loop* t, int (*done)(void* arg), void* arg, unsigned guard_ms);
/* Closes the loop; fails the test if user operations are still in flight. */
void t_loop_close(t_loop* t);
const char* t_backend_name(int backend);

/* ---- odds and ends ------------------------------------------------------ */

/* Open file descriptors of this process (to prove a refused call opened none). */
int t_count_fds(void);
/* A private directory under /tmp for UNIX socket paths; t_rmdir removes it
 * and the socket files named in it. Returns 0 or -1. */
int t_mkdtemp(char* path, size_t capacity);
void t_rmdir(const char* path);
/* Monotonic nanoseconds. */
uint64_t t_now_ns(void);
/* Whether `size` bytes at p all equal `byte`. */
int t_all_bytes(const void* p, size_t size, unsigned char byte);
/* One non-blocking recv from fd once it is readable (at most 10 s): for
 * what a peer already sent, so the wait is only for loopback's delivery.
 * The recv's result, or -1 if fd never became readable. */
ssize_t t_recv_ready(int fd, void* out, size_t capacity);
/* Zeroed heap memory aligned to `align` (free() releases it): where a struct
 * holding rsk_op or rsk_loop storage lives on the heap. malloc and calloc
 * align to 8 bytes only on 32-bit targets (armhf), less than RSK_OP_ALIGN,
 * and the library refuses misaligned storage. */
void* t_zalloc_aligned(size_t size, size_t align);

/* A recorder: every completion of one operation, counted. */
typedef struct t_rec {
  int calls;     /* callbacks made */
  int terminal;  /* callbacks with more == 0: must end up exactly 1 */
  int32_t result;  /* the last result */
  int32_t first_result;
  uint8_t more;
} t_rec;
/* The callback for a t_rec passed as user_data; releases any lent buffer. */
void t_rec_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* completion);
/* For t_run_until: the t_rec* in arg has had its terminal callback. */
int t_rec_done(void* arg);

/* The receiving end of a stream send, read between loop runs. */
typedef struct t_drain {
  t_rec* rec;       /* the send's recorder */
  int fd;           /* the peer's socket (non-blocking reads) */
  uint8_t* buffer;  /* where the bytes go */
  size_t capacity;
  size_t want;      /* bytes the send sends */
  size_t have;      /* bytes read so far */
} t_drain;
/* For t_run_until: reads what the peer has; done when the send had its
 * terminal callback and `want` bytes arrived. */
int t_drained(void* arg);

#endif
