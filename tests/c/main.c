/*
 * c_abi_tests: the C ABI's tests, one case per process.
 *
 *   c_abi_tests CASE [uring|epoll]   run one case (a backend for per-backend cases)
 *   c_abi_tests --list               every runnable CASE[.BACKEND]
 *   c_abi_tests --registered NAME... exit 1 unless NAME... is exactly --list
 *                                    (CMake passes what it registered with CTest)
 *
 * Exit status: 0 pass, 1 fail, 2 usage, 77 skipped (io_uring cannot start).
 */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "harness.h"

static const t_case cases[] = {
    {"version", test_version, 0},
    {"strerror", test_strerror, 0},
    {"endpoint_roundtrip", test_endpoint_roundtrip, 0},
    {"bad_urls", test_bad_urls, 0},
    {"bad_endpoint_args", test_bad_endpoint_args, 0},
    {"bad_socket_setup", test_bad_socket_setup, 0},
    {"bad_loop_init", test_bad_loop_init, 0},
    {"zeroed_loop", test_zeroed_loop, 0},
    {"refused_submit", test_refused_submit, 0},
    {"bad_ops", test_bad_ops, 1},
    {"busy_op", test_busy_op, 1},
    {"echo_tcp", test_echo_tcp, 1},
    {"echo_udp", test_echo_udp, 1},
    {"echo_unix", test_echo_unix, 1},
    {"echo_unix_dgram", test_echo_unix_dgram, 1},
    {"timer", test_timer, 1},
    {"deadline", test_deadline, 1},
    {"cancel", test_cancel, 1},
    {"wake", test_wake, 1},
    {"stop", test_stop, 1},
    {"loop_info", test_loop_info, 1},
    {"close_in_callback", test_close_in_callback, 1},
    {"options_size", test_options_size, 0},
    {"misaligned_storage", test_misaligned_storage, 1},
    {"foreign_thread", test_foreign_thread, 1},
    {"loop_refusals", test_loop_refusals, 1},
    {"sendv_stream", test_sendv_stream, 1},
    {"sendtov_dgram", test_sendtov_dgram, 1},
    {"sendv_refused", test_sendv_refused, 1},
    {"close_sq_full", test_close_sq_full, 1},
    {"post_threads", test_post_threads, 1},
    {"post_close", test_post_close, 1},
    {"post_to", test_post_to, 1},
    {"zero_copy", test_zero_copy, 1},
    {"direct_descriptors", test_direct_descriptors, 1},
};
enum { case_count = sizeof cases / sizeof cases[0] };
static const char* const backends[] = {"uring", "epoll"};

static int backend_of(const char* name) {
  if (strcmp(name, "uring") == 0) return RSK_BACKEND_URING;
  if (strcmp(name, "epoll") == 0) return RSK_BACKEND_EPOLL;
  return -1;
}

/* Every runnable name, in order, through `emit`; returns how many. */
static int each_name(void (*emit)(const char* name, void* arg), void* arg) {
  char name[128];
  int n = 0;
  size_t i, b;
  for (i = 0; i < case_count; ++i) {
    if (!cases[i].per_backend) {
      emit(cases[i].name, arg);
      ++n;
      continue;
    }
    for (b = 0; b < 2; ++b) {
      snprintf(name, sizeof name, "%s.%s", cases[i].name, backends[b]);
      emit(name, arg);
      ++n;
    }
  }
  return n;
}

static void print_name(const char* name, void* arg) {
  (void)arg;
  printf("%s\n", name);
}

struct registered {
  char** names;
  int count;
  int missing;
};

static void find_name(const char* name, void* arg) {
  struct registered* r = (struct registered*)arg;
  int i;
  for (i = 0; i < r->count; ++i) {
    if (strcmp(r->names[i], name) == 0) return;
  }
  fprintf(stderr, "case %s is not registered with CTest (tests/c/CMakeLists.txt)\n", name);
  ++r->missing;
}

static int usage(void) {
  fprintf(stderr, "usage: c_abi_tests CASE [uring|epoll] | --list | --registered NAME...\n");
  return 2;
}

int main(int argc, char** argv) {
  size_t i;
  if (argc < 2) return usage();
  if (strcmp(argv[1], "--list") == 0) {
    each_name(print_name, NULL);
    return 0;
  }
  if (strcmp(argv[1], "--registered") == 0) {
    struct registered r = {argv + 2, argc - 2, 0};
    int n = each_name(find_name, &r);
    if (r.missing == 0 && n != r.count) {
      fprintf(stderr, "CTest registers %d names, the binary has %d cases\n", r.count, n);
      return 1;
    }
    return r.missing == 0 ? 0 : 1;
  }
  for (i = 0; i < case_count; ++i) {
    int backend = 0;
    int rc;
    if (strcmp(cases[i].name, argv[1]) != 0) continue;
    if (cases[i].per_backend) {
      if (argc != 3 || (backend = backend_of(argv[2])) < 0) return usage();
    } else if (argc != 2) {
      return usage();
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    rc = cases[i].fn(backend);
    if (rc == T_PASS && t_failures != 0) rc = T_FAIL;
    printf("%s %s%s%s\n", rc == T_PASS ? "PASS" : rc == T_SKIP ? "SKIP" : "FAIL", cases[i].name,
           backend ? "." : "", backend ? t_backend_name(backend) : "");
    return rc;
  }
  fprintf(stderr, "no case named %s\n", argv[1]);
  return usage();
}
