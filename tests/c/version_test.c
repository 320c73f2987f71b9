/* The version and storage-size contract, and rsk_strerror. */
#define _GNU_SOURCE 1

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "harness.h"

/* The header's numbers, checked when this file compiles. */
_Static_assert(RSK_VERSION == RSK_MAKE_VERSION(RSK_VERSION_MAJOR, RSK_VERSION_MINOR,
                                               RSK_VERSION_PATCH),
               "RSK_VERSION is RSK_MAKE_VERSION of the parts");
_Static_assert(sizeof(rsk_loop) == RSK_LOOP_SIZE, "rsk_loop is RSK_LOOP_SIZE bytes");
_Static_assert(sizeof(rsk_op) == RSK_OP_SIZE, "rsk_op is RSK_OP_SIZE bytes");
_Static_assert(_Alignof(rsk_loop) >= RSK_LOOP_ALIGN, "rsk_loop is RSK_LOOP_ALIGN aligned");
_Static_assert(_Alignof(rsk_op) >= RSK_OP_ALIGN, "rsk_op is RSK_OP_ALIGN aligned");

int test_version(int backend) {
  char expected[32];
  (void)backend;
  CHECK_INT(rsk_version(), ==, RSK_VERSION);
  CHECK_INT(RSK_VERSION >> 16, ==, RSK_VERSION_MAJOR);
  CHECK_INT((RSK_VERSION >> 8) & 0xff, ==, RSK_VERSION_MINOR);
  CHECK_INT(RSK_VERSION & 0xff, ==, RSK_VERSION_PATCH);
  CHECK(RSK_MAKE_VERSION(0, 1, 0) < RSK_MAKE_VERSION(0, 2, 0));
  CHECK(RSK_MAKE_VERSION(0, 255, 255) < RSK_MAKE_VERSION(1, 0, 0));
  snprintf(expected, sizeof expected, "%d.%d.%d", RSK_VERSION_MAJOR, RSK_VERSION_MINOR,
           RSK_VERSION_PATCH);
  CHECK(rsk_version_string() != NULL);
  CHECK_STR(rsk_version_string(), expected);
#ifdef RSK_TEST_PROJECT_VERSION
  /* The CMake project version names the SONAME; the header must agree. */
  CHECK_STR(rsk_version_string(), RSK_TEST_PROJECT_VERSION);
#endif
  CHECK_INT(sizeof(rsk_loop), ==, rsk_loop_size());
  CHECK_INT(sizeof(rsk_op), ==, rsk_op_size());
  CHECK_INT(_Alignof(rsk_loop), >=, RSK_LOOP_ALIGN);
  CHECK_INT(_Alignof(rsk_op), >=, RSK_OP_ALIGN);
  CHECK_INT(alignof(rsk_loop), >=, RSK_LOOP_ALIGN);
  {
    /* Storage inside a caller's struct keeps its alignment. */
    struct holder {
      char c;
      rsk_op op;
      char d;
      rsk_loop loop;
    } h;
    CHECK_INT((uintptr_t)&h.op % RSK_OP_ALIGN, ==, 0);
    CHECK_INT((uintptr_t)&h.loop % RSK_LOOP_ALIGN, ==, 0);
    h.c = h.d = 0;
    (void)h.c;
    (void)h.d;
  }
  CHECK(RSK_ENDPOINT_URL_MAX >= 1 + sizeof("unix-dgram://") + 107);
  printf("ringsock %s (0x%06x), rsk_loop %zu bytes, rsk_op %zu bytes\n", rsk_version_string(),
         (unsigned)rsk_version(), rsk_loop_size(), rsk_op_size());
  return t_result();
}

int test_strerror(int backend) {
  (void)backend;
  CHECK_STR(rsk_strerror(0), "Success");
  CHECK_STR(rsk_strerror(42), "Success");
  CHECK_STR(rsk_strerror(INT_MAX), "Success");
  CHECK_STR(rsk_strerror(-EINVAL), strerrordesc_np(EINVAL));
  CHECK_STR(rsk_strerror(-ECANCELED), strerrordesc_np(ECANCELED));
  CHECK_STR(rsk_strerror(-ETIMEDOUT), strerrordesc_np(ETIMEDOUT));
  CHECK_STR(rsk_strerror(-100000), "Unknown error");
  /* -INT_MIN does not exist: this must not overflow (UBSan aborts if it does). */
  CHECK_STR(rsk_strerror(INT_MIN), "Unknown error");
  CHECK_STR(rsk_strerror(INT_MIN + 1), "Unknown error");
  return t_result();
}
