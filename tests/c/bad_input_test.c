/*
 * Every refused call: NULL pointers, wrong sizes, zeroed or closed loops, bad
 * modes, backends, options, flags, transports, buffer ids and URLs, busy and
 * idle operations. Each must return the errno the header documents and
 * change nothing observable: the caller's storage (compared byte for byte),
 * the loop's operations in flight, the process's open descriptors.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define SENTINEL 0xa5

/* ---- submits, one wrapper each --------------------------------------------- */

static uint8_t scratch[64];
static rsk_endpoint scratch_peer;      /* a valid UDP endpoint */
static rsk_endpoint scratch_out;       /* accept / recvfrom output */

typedef int (*submit_fn)(rsk_loop* loop, rsk_op* op, int fd, rsk_callback cb, void* user);

static int s_accept(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_accept(l, o, fd, &scratch_out, cb, u);
}
static int s_accept_multishot(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_accept_multishot(l, o, fd, cb, u);
}
static int s_connect(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_connect(l, o, fd, &scratch_peer, cb, u);
}
static int s_send(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_send(l, o, fd, scratch, sizeof scratch, cb, u);
}
static int s_recv(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_recv(l, o, fd, scratch, sizeof scratch, cb, u);
}
static int s_recv_multishot(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_recv_multishot(l, o, fd, cb, u);
}
static int s_sendto(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_sendto(l, o, fd, scratch, sizeof scratch, &scratch_peer, cb, u);
}
static const struct iovec scratch_pieces[2] = {{scratch, 10}, {scratch + 10, sizeof scratch - 10}};
static int s_sendv(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_sendv(l, o, fd, scratch_pieces, 2, cb, u);
}
static int s_sendtov(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_sendtov(l, o, fd, scratch_pieces, 2, &scratch_peer, cb, u);
}
static int s_recvfrom(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_recvfrom(l, o, fd, scratch, sizeof scratch, &scratch_out, cb, u);
}
static int s_recvfrom_multishot(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_recvfrom_multishot(l, o, fd, cb, u);
}
static int s_shutdown(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_shutdown(l, o, fd, SHUT_WR, cb, u);
}
static int s_close(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  return rsk_close(l, o, fd, cb, u);
}
static int s_timeout(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  (void)fd;
  return rsk_timeout(l, o, T_MS, cb, u);
}
static int s_nop(rsk_loop* l, rsk_op* o, int fd, rsk_callback cb, void* u) {
  (void)fd;
  return rsk_nop(l, o, cb, u);
}

static const struct {
  const char* name;
  submit_fn fn;
  int takes_fd;
} submits[] = {
    {"rsk_accept", s_accept, 1},
    {"rsk_accept_multishot", s_accept_multishot, 1},
    {"rsk_connect", s_connect, 1},
    {"rsk_send", s_send, 1},
    {"rsk_recv", s_recv, 1},
    {"rsk_recv_multishot", s_recv_multishot, 1},
    {"rsk_sendto", s_sendto, 1},
    {"rsk_sendv", s_sendv, 1},
    {"rsk_sendtov", s_sendtov, 1},
    {"rsk_recvfrom", s_recvfrom, 1},
    {"rsk_recvfrom_multishot", s_recvfrom_multishot, 1},
    {"rsk_shutdown", s_shutdown, 1},
    {"rsk_close", s_close, 1},
    {"rsk_timeout", s_timeout, 0},
    {"rsk_nop", s_nop, 0},
};
enum { submit_count = sizeof submits / sizeof submits[0] };

static int callbacks_made = 0;
static void counting_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* c) {
  (void)loop;
  (void)op;
  (void)c;
  ++callbacks_made;
}

static void init_scratch(void) {
  memset(scratch, 0x11, sizeof scratch);
  memset(&scratch_out, SENTINEL, sizeof scratch_out);
  if (rsk_endpoint_parse("udp://127.0.0.1:9", &scratch_peer, NULL) != 0) abort();
}

/* Calls every submit (those with an fd when only_fd) with these arguments and
 * checks it returns `expected` and leaves the op, the output endpoint and the
 * loop's count of operations in flight as they were. */
static void expect_all_refused(rsk_loop* loop, rsk_op* op, int fd, rsk_callback cb,
                               int expected, int only_fd, const char* label) {
  rsk_op before;
  rsk_endpoint out_before = scratch_out;
  int active = rsk_loop_active(loop);
  int i;
  if (op != NULL) before = *op;
  for (i = 0; i < submit_count; ++i) {
    int rc;
    if (only_fd && !submits[i].takes_fd) continue;
    rc = submits[i].fn(loop, op, fd, cb, scratch);
    if (rc != expected) {
      fprintf(stderr, "%s: %s returned %d (%s), expected %d\n", label, submits[i].name, rc,
              rsk_strerror(rc), expected);
      ++t_failures;
    }
    if (op != NULL && memcmp(&before, op, sizeof before) != 0) {
      fprintf(stderr, "%s: refused %s changed the op\n", label, submits[i].name);
      ++t_failures;
      *op = before;
    }
  }
  CHECK(memcmp(&out_before, &scratch_out, sizeof scratch_out) == 0);
  CHECK_INT(rsk_loop_active(loop), ==, active);
}

/* ---- endpoints -------------------------------------------------------------- */

static const struct {
  const char* url;
  int transport;
  const char* formatted; /* NULL: the URL itself */
} good_urls[] = {
    {"tcp://127.0.0.1:9000", RSK_TCP, NULL},
    {"tcp://[::1]:9000", RSK_TCP, NULL},
    {"udp://0.0.0.0:5353", RSK_UDP, NULL},
    {"unix:///run/app.sock", RSK_UNIX, NULL},
    {"unix://@abstract", RSK_UNIX, NULL},
    {"unix-dgram:///tmp/d.sock", RSK_UNIX_DGRAM, NULL},
    {"unix-dgram://@d", RSK_UNIX_DGRAM, NULL},
    {"tcp://localhost:80", RSK_TCP, "tcp://127.0.0.1:80"},
    {"udp://255.255.255.255:65535", RSK_UDP, NULL},
    {"tcp://0.0.0.0:0", RSK_TCP, NULL},
    {"udp://[::]:53", RSK_UDP, NULL},
    {"tcp://[fe80::1%1]:80", RSK_TCP, NULL},
    {"tcp://[::ffff:10.0.0.1]:8080", RSK_TCP, NULL},
    {"unix://relative/path.sock", RSK_UNIX, NULL},
};

int test_endpoint_roundtrip(int backend) {
  char url[RSK_ENDPOINT_URL_MAX + 64];
  char out[RSK_ENDPOINT_URL_MAX];
  char path[128];
  rsk_endpoint ep;
  const char* error;
  size_t i;
  int n;
  (void)backend;
  for (i = 0; i < sizeof good_urls / sizeof good_urls[0]; ++i) {
    const char* expected = good_urls[i].formatted ? good_urls[i].formatted : good_urls[i].url;
    error = NULL;
    memset(&ep, SENTINEL, sizeof ep);
    n = rsk_endpoint_parse(good_urls[i].url, &ep, &error);
    if (n != 0) {
      fprintf(stderr, "%s: %s\n", good_urls[i].url, error ? error : "(no message)");
      ++t_failures;
      continue;
    }
    CHECK(error != NULL);
    CHECK_INT(ep.transport, ==, good_urls[i].transport);
    CHECK_INT(ep.length, >, 0);
    n = rsk_endpoint_format(&ep, out, sizeof out);
    CHECK_INT(n, ==, strlen(expected));
    CHECK_STR(out, expected);
  }

  /* The longest names: a 107-byte path and a 107-byte abstract name. */
  memset(path, 'p', sizeof path);
  path[0] = '/';
  path[107] = '\0';
  snprintf(url, sizeof url, "unix://%s", path);
  CHECK_INT(rsk_endpoint_parse(url, &ep, NULL), ==, 0);
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, strlen(url));
  CHECK_STR(out, url);
  path[0] = '@';
  path[108] = '\0';
  path[107] = 'p';
  snprintf(url, sizeof url, "unix-dgram://%s", path);
  CHECK_INT(strlen(url), <, RSK_ENDPOINT_URL_MAX);
  CHECK_INT(rsk_endpoint_parse(url, &ep, NULL), ==, 0);
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, strlen(url));
  CHECK_STR(out, url);

  /* Too small a buffer: -ENOSPC, and nothing past the capacity is written. */
  CHECK_INT(rsk_endpoint_parse("tcp://127.0.0.1:9000", &ep, NULL), ==, 0);
  memset(out, 'x', sizeof out);
  CHECK_INT(rsk_endpoint_format(&ep, out, 20), ==, -ENOSPC);
  CHECK(t_all_bytes(out + 1, sizeof out - 1, 'x'));
  memset(out, 'x', sizeof out);
  CHECK_INT(rsk_endpoint_format(&ep, out, 0), ==, -ENOSPC);
  CHECK(t_all_bytes(out, sizeof out, 'x'));
  CHECK_INT(rsk_endpoint_format(&ep, out, 1), ==, -ENOSPC);
  CHECK_INT(rsk_endpoint_format(&ep, out, 21), ==, 20);
  CHECK_STR(out, "tcp://127.0.0.1:9000");
  CHECK(t_all_bytes(out + 21, sizeof out - 21, 'x'));
  return t_result();
}

/* Malformed URLs: each one -EINVAL, a sentence, and *out untouched. */
static const char* const bad_urls[] = {
    "",
    "tcp",
    "tcp:",
    "tcp:/127.0.0.1:1",
    "tcp//127.0.0.1:1",
    "://127.0.0.1:1",
    "ftp://127.0.0.1:1",
    "TCP://127.0.0.1:1",
    "udp6://[::1]:1",
    "unix-stream:///tmp/x",
    "tcp://",
    "tcp://:80",
    "tcp://127.0.0.1",
    "tcp://127.0.0.1:",
    "tcp://127.0.0.1:65536",
    "tcp://127.0.0.1:99999",
    "tcp://127.0.0.1:123456",
    "tcp://127.0.0.1:-1",
    "tcp://127.0.0.1:+80",
    "tcp://127.0.0.1:080",
    "tcp://127.0.0.1:8o",
    "tcp://127.0.0.1:80/",
    "tcp://127.0.0.1:80:80",
    "tcp://256.0.0.1:1",
    "tcp://1.2.3:1",
    "tcp://1.2.3.4.5:1",
    "tcp://01.2.3.4:1",
    "tcp://1.2.3.4.:1",
    "tcp://0x7f.0.0.1:1",
    "tcp://example.com:80",
    "tcp://LOCALHOST:80",
    "tcp://::1:80",
    "tcp://[::1]",
    "tcp://[::1]80",
    "tcp://[::1]:",
    "tcp://[::1:80",
    "tcp://[127.0.0.1]:80",
    "tcp://[::g]:80",
    "tcp://[]:80",
    "tcp://[::1%]:80",
    "tcp://[fe80::1%0]:80",
    "tcp://[fe80::1%01]:80",
    "tcp://[fe80::1%no-such-if0]:80",
    "udp://127.0.0.1 :1",
    " tcp://127.0.0.1:1",
    "tcp://127.0.0.1:1\n",
    "tcp://127.0.0.1:1\t",
    "unix://",
    "unix://@",
    "unix-dgram://",
    "unix-dgram://@",
    "unix:///tmp/with space.sock",
    "unix:///tmp/\x01.sock",
};

int test_bad_urls(int backend) {
  static const char untouched[] = "untouched";
  char long_url[3000];
  rsk_endpoint ep, sentinel;
  const char* error;
  size_t i;
  int rc;
  int count = 0;
  (void)backend;
  memset(&sentinel, SENTINEL, sizeof sentinel);
  for (i = 0; i < sizeof bad_urls / sizeof bad_urls[0] + 6; ++i) {
    const char* url;
    size_t n = i - sizeof bad_urls / sizeof bad_urls[0];
    if (i < sizeof bad_urls / sizeof bad_urls[0]) {
      url = bad_urls[i];
    } else {
      /* Names and URLs that are too long: 108-byte path and abstract name,
       * 513 bytes, 1024 bytes, 2999 bytes (more than the parser reads). */
      static const size_t lengths[] = {7 + 108, 8 + 108, 513, 1024, 1025, sizeof long_url - 1};
      static const char* const heads[] = {"unix:///", "unix://@", "tcp://1", "tcp://1",
                                          "tcp://1", "unix:///"};
      size_t head = strlen(heads[n]);
      memset(long_url, '1', sizeof long_url);
      memcpy(long_url, heads[n], head);
      if (n == 0) long_url[7] = '/';
      long_url[lengths[n]] = '\0';
      url = long_url;
    }
    memcpy(&ep, &sentinel, sizeof ep);
    error = untouched;
    rc = rsk_endpoint_parse(url, &ep, &error);
    ++count;
    if (rc != -EINVAL) {
      fprintf(stderr, "\"%.60s\" (%zu bytes): %d, expected -EINVAL\n", url, strlen(url), rc);
      ++t_failures;
    }
    if (error == NULL || error == untouched || error[0] == '\0') {
      fprintf(stderr, "\"%.60s\": no error sentence\n", url);
      ++t_failures;
    }
    if (memcmp(&ep, &sentinel, sizeof ep) != 0) {
      fprintf(stderr, "\"%.60s\": *out was written\n", url);
      ++t_failures;
    }
    /* Without the error pointer: the same result. */
    CHECK_INT(rsk_endpoint_parse(url, &ep, NULL), ==, -EINVAL);
    CHECK(memcmp(&ep, &sentinel, sizeof ep) == 0);
    if (rc == -EINVAL && error != NULL && error != untouched && strlen(url) < 64) {
      char shown[256];
      size_t k, used = 0;
      for (k = 0; url[k] != '\0'; ++k) {  /* control bytes as \xNN */
        unsigned char byte = (unsigned char)url[k];
        used += (size_t)snprintf(shown + used, sizeof shown - used,
                                 byte < 0x20 || byte == 0x7f ? "\\x%02x" : "%c", byte);
      }
      if (used == 0) snprintf(shown, sizeof shown, "(empty)");
      printf("  %-34s %s\n", shown, error);
    }
  }
  CHECK_INT(count, >=, 20);
  printf("%d malformed URLs refused\n", count);
  return t_result();
}

int test_bad_endpoint_args(int backend) {
  static const char untouched[] = "untouched";
  rsk_endpoint ep, sentinel, good;
  char out[RSK_ENDPOINT_URL_MAX];
  const char* error = untouched;
  int fds = t_count_fds();
  (void)backend;
  memset(&sentinel, SENTINEL, sizeof sentinel);
  memcpy(&ep, &sentinel, sizeof ep);
  REQUIRE_INT(rsk_endpoint_parse("tcp://127.0.0.1:1", &good, NULL), ==, 0);

  /* rsk_endpoint_parse */
  CHECK_INT(rsk_endpoint_parse(NULL, &ep, &error), ==, -EINVAL);
  CHECK(error != untouched && error != NULL);
  CHECK(memcmp(&ep, &sentinel, sizeof ep) == 0);
  error = untouched;
  CHECK_INT(rsk_endpoint_parse("tcp://127.0.0.1:1", NULL, &error), ==, -EINVAL);
  CHECK(error != untouched && error != NULL);
  CHECK_INT(rsk_endpoint_parse(NULL, NULL, NULL), ==, -EINVAL);
  CHECK_INT(rsk_endpoint_parse(NULL, &ep, NULL), ==, -EINVAL);
  CHECK(memcmp(&ep, &sentinel, sizeof ep) == 0);

  /* rsk_endpoint_format: NULL, and endpoints that have no URL */
  memset(out, 'x', sizeof out);
  CHECK_INT(rsk_endpoint_format(NULL, out, sizeof out), ==, -EINVAL);
  CHECK_INT(rsk_endpoint_format(&good, NULL, sizeof out), ==, -EINVAL);
  CHECK_INT(rsk_endpoint_format(NULL, NULL, 0), ==, -EINVAL);
  memset(&ep, 0, sizeof ep); /* empty */
  ep.transport = RSK_TCP;
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, -EINVAL);
  ep = good;
  ep.transport = 0;
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, -EINVAL);
  ep.transport = 5;
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, -EINVAL);
  ep.transport = RSK_UNIX; /* an AF_INET address is no UNIX name */
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, -EINVAL);
  ep = good;
  ep.length = (socklen_t)sizeof ep.storage + 1;
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, -EINVAL);
  ep.length = 4; /* shorter than a sockaddr_in */
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, -EINVAL);
  memset(&ep, 0, sizeof ep); /* an unnamed UNIX socket */
  ep.storage.ss_family = AF_UNIX;
  ep.length = sizeof(sa_family_t);
  ep.transport = RSK_UNIX;
  CHECK_INT(rsk_endpoint_format(&ep, out, sizeof out), ==, -EINVAL);
  CHECK(t_all_bytes(out, sizeof out, 'x'));

  /* socket set-up with NULL endpoints: no descriptor is opened */
  CHECK_INT(rsk_listen(NULL, 0, 0), ==, -EINVAL);
  CHECK_INT(rsk_socket(NULL), ==, -EINVAL);
  CHECK_INT(rsk_bind_datagram(NULL, 0), ==, -EINVAL);
  CHECK_INT(rsk_connect_datagram(NULL, NULL), ==, -EINVAL);
  CHECK_INT(rsk_connect_datagram(NULL, &good), ==, -EINVAL);
  CHECK_INT(rsk_local_endpoint(0, RSK_TCP, NULL), ==, -EINVAL);
  CHECK_INT(t_count_fds(), ==, fds);

  /* Loop options and op accessors take NULL quietly. */
  rsk_loop_options_init(NULL);
  rsk_op_init(NULL);
  CHECK(rsk_op_user_data(NULL) == NULL);
  CHECK_INT(rsk_op_fd(NULL), ==, -EINVAL);
  CHECK_INT(rsk_op_transferred(NULL), ==, 0);
  CHECK_INT(rsk_op_in_flight(NULL), ==, 0);
  CHECK_INT(rsk_op_set_timeout(NULL, T_MS), ==, -EINVAL);
  return t_result();
}

int test_bad_socket_setup(int backend) {
  static const unsigned bad_listen_flags[] = {0x10u, 0x20u, 0x100u, 0x80000000u, ~0u,
                                              RSK_LISTEN_UNLINK | 0x40u};
  static const unsigned bad_bind_flags[] = {RSK_LISTEN_UNLINK, RSK_LISTEN_V6ONLY,
                                            RSK_LISTEN_NO_REUSEADDR, 0x10u, ~0u};
  static const int bad_transports[] = {0, 5, 6, 127, 255};
  rsk_endpoint tcp, udp, unix_dgram, ep, before, out, sentinel;
  int fds, i, fd;
  (void)backend;
  REQUIRE_INT(rsk_endpoint_parse("tcp://127.0.0.1:0", &tcp, NULL), ==, 0);
  REQUIRE_INT(rsk_endpoint_parse("udp://127.0.0.1:0", &udp, NULL), ==, 0);
  REQUIRE_INT(rsk_endpoint_parse("unix-dgram://@ringsock-c-bad", &unix_dgram, NULL), ==, 0);
  memset(&sentinel, SENTINEL, sizeof sentinel);
  fds = t_count_fds();

  /* Unknown flags */
  for (i = 0; i < (int)(sizeof bad_listen_flags / sizeof bad_listen_flags[0]); ++i) {
    CHECK_INT(rsk_listen(&tcp, 0, bad_listen_flags[i]), ==, -EINVAL);
  }
  for (i = 0; i < (int)(sizeof bad_bind_flags / sizeof bad_bind_flags[0]); ++i) {
    CHECK_INT(rsk_bind_datagram(&udp, bad_bind_flags[i]), ==, -EINVAL);
  }
  CHECK_INT(t_count_fds(), ==, fds);

  /* Transport values outside RSK_TCP..RSK_UNIX_DGRAM */
  for (i = 0; i < (int)(sizeof bad_transports / sizeof bad_transports[0]); ++i) {
    ep = tcp;
    ep.transport = (uint8_t)bad_transports[i];
    before = ep;
    CHECK_INT(rsk_listen(&ep, 0, 0), ==, -EINVAL);
    CHECK_INT(rsk_socket(&ep), ==, -EINVAL);
    ep = udp;
    ep.transport = (uint8_t)bad_transports[i];
    before = ep;
    CHECK_INT(rsk_bind_datagram(&ep, 0), ==, -EINVAL);
    CHECK_INT(rsk_connect_datagram(&ep, NULL), ==, -EINVAL);
    CHECK_INT(rsk_connect_datagram(&udp, &ep), ==, -EINVAL);
    CHECK(memcmp(&ep, &before, sizeof ep) == 0);
  }
  /* A transport that does not fit the address, and an empty endpoint */
  ep = tcp;
  ep.transport = RSK_UNIX;
  CHECK_INT(rsk_listen(&ep, 0, 0), ==, -EINVAL);
  CHECK_INT(rsk_socket(&ep), ==, -EINVAL);
  memset(&ep, 0, sizeof ep);
  ep.transport = RSK_TCP;
  CHECK_INT(rsk_listen(&ep, 0, 0), ==, -EINVAL);
  CHECK_INT(rsk_socket(&ep), ==, -EINVAL);
  ep.transport = RSK_UDP;
  CHECK_INT(rsk_bind_datagram(&ep, 0), ==, -EINVAL);
  CHECK_INT(rsk_connect_datagram(&ep, NULL), ==, -EINVAL);
  ep = tcp;
  ep.length = (socklen_t)sizeof ep.storage + 1;
  CHECK_INT(rsk_listen(&ep, 0, 0), ==, -EINVAL);
  /* Stream where a datagram socket is needed, and the reverse: -EPROTOTYPE */
  CHECK_INT(rsk_listen(&udp, 0, 0), ==, -EPROTOTYPE);
  CHECK_INT(rsk_bind_datagram(&tcp, 0), ==, -EPROTOTYPE);
  CHECK_INT(rsk_connect_datagram(&tcp, NULL), ==, -EPROTOTYPE);
  /* A local address of another family than the peer */
  CHECK_INT(rsk_connect_datagram(&udp, &unix_dgram), ==, -EINVAL);
  CHECK_INT(t_count_fds(), ==, fds);

  /* rsk_local_endpoint: bad transport argument, bad fd, wrong family; *out untouched */
  fd = rsk_bind_datagram(&udp, 0);
  REQUIRE_INT(fd, >=, 0);
  for (i = 0; i < (int)(sizeof bad_transports / sizeof bad_transports[0]); ++i) {
    memcpy(&out, &sentinel, sizeof out);
    CHECK_INT(rsk_local_endpoint(fd, bad_transports[i], &out), ==, -EINVAL);
    CHECK(memcmp(&out, &sentinel, sizeof out) == 0);
  }
  memcpy(&out, &sentinel, sizeof out);
  CHECK_INT(rsk_local_endpoint(fd, -1, &out), ==, -EINVAL);
  CHECK_INT(rsk_local_endpoint(fd, 256 + RSK_TCP, &out), ==, -EINVAL);
  CHECK_INT(rsk_local_endpoint(fd, RSK_UNIX, &out), ==, -EINVAL);
  CHECK_INT(rsk_local_endpoint(fd, RSK_UNIX_DGRAM, &out), ==, -EINVAL);
  CHECK_INT(rsk_local_endpoint(-1, RSK_UDP, &out), ==, -EBADF);
  CHECK(memcmp(&out, &sentinel, sizeof out) == 0);
  CHECK_INT(rsk_local_endpoint(fd, RSK_UDP, &out), ==, 0);
  CHECK_INT(out.transport, ==, RSK_UDP);
  close(fd);

  /* Socket options on a bad descriptor */
  CHECK_INT(rsk_set_nodelay(-1, 1), ==, -EBADF);
  CHECK_INT(rsk_set_buffer_sizes(-1, 4096, 4096), ==, -EBADF);
  CHECK_INT(rsk_set_linger_reset(-1), ==, -EBADF);
  CHECK_INT(t_count_fds(), ==, fds);
  return t_result();
}

/* ---- loops -------------------------------------------------------------- */

int test_bad_loop_init(int backend) {
  rsk_loop loop;
  rsk_loop_options options;
  const char* reason;
  int i;
  int fds = t_count_fds();
  (void)backend;
  unsetenv("RINGSOCK_BACKEND");
  memset(&loop, 0, sizeof loop);

  CHECK_INT(rsk_loop_init(NULL, sizeof(rsk_loop), NULL), ==, -EINVAL);
  /* loop_size must be sizeof(rsk_loop) */
  CHECK_INT(rsk_loop_init(&loop, 0, NULL), ==, -EINVAL);
  CHECK_INT(rsk_loop_init(&loop, sizeof loop - 1, NULL), ==, -EINVAL);
  CHECK_INT(rsk_loop_init(&loop, sizeof loop + 1, NULL), ==, -EINVAL);
  CHECK_INT(rsk_loop_init(&loop, 2 * sizeof loop, NULL), ==, -EINVAL);
  CHECK_INT(rsk_loop_init(&loop, (size_t)-1, NULL), ==, -EINVAL);
  CHECK(t_all_bytes(&loop, sizeof loop, 0));

  /* A backend value that does not exist */
  rsk_loop_options_init(&options);
  options.backend = 3;
  CHECK_INT(rsk_loop_init(&loop, sizeof loop, &options), ==, -EINVAL);
  options.backend = 0xffffffffu;
  CHECK_INT(rsk_loop_init(&loop, sizeof loop, &options), ==, -EINVAL);
  CHECK(t_all_bytes(&loop, sizeof loop, 0));
  CHECK(t_all_bytes(&loop, sizeof loop, 0));
  CHECK_INT(rsk_loop_backend(&loop), ==, -EINVAL);
  reason = rsk_loop_backend_reason(&loop);
  CHECK(reason != NULL && reason[0] != '\0');

  /* Capacities the engine refuses: -EINVAL, nothing held, a reason to read */
  for (i = 0; i < 9; ++i) {
    rsk_loop_options_init(&options);
    options.backend = RSK_BACKEND_EPOLL;
    switch (i) {
      case 0: options.buffer_count = 3; break;         /* not a power of two */
      case 1: options.buffer_size = 100; break;        /* below 256 */
      case 2: options.buffer_size = 2u << 20; break;   /* above 1 MiB */
      case 3: options.ring_entries = 1; break;
      case 4: options.completion_entries = 8; break;   /* fewer than ring_entries */
      case 5: options.busy_poll_us = 1000001; break;   /* above one second */
      case 6: options.batch_wait_us = 1000001; break;  /* above one second */
      case 7:                                          /* a batch the CQ cannot hold */
        options.batch_wait_us = 10;
        options.completion_entries = 1024;
        options.batch_wait_count = 1025;
        break;
      default: options.max_fds = 1u << 30; break;
    }
    CHECK_INT(rsk_loop_init(&loop, sizeof loop, &options), ==, -EINVAL);
    CHECK_INT(rsk_loop_backend(&loop), ==, -EINVAL);
    CHECK_INT(rsk_loop_active(&loop), ==, -EINVAL);
    CHECK_INT(rsk_loop_run(&loop, RSK_RUN_NOWAIT), ==, -EINVAL);
    reason = rsk_loop_backend_reason(&loop);
    CHECK(reason != NULL);
  }
  CHECK_INT(t_count_fds(), ==, fds);

  /* RINGSOCK_BACKEND with a bad value fails the init, and says so */
  setenv("RINGSOCK_BACKEND", "bogus", 1);
  CHECK_INT(rsk_loop_init(&loop, sizeof loop, NULL), ==, -EINVAL);
  reason = rsk_loop_backend_reason(&loop);
  CHECK(reason != NULL && strstr(reason, "RINGSOCK_BACKEND") != NULL);
  printf("bad RINGSOCK_BACKEND: %s\n", reason ? reason : "(null)");
  unsetenv("RINGSOCK_BACKEND");
  CHECK_INT(t_count_fds(), ==, fds);

  /* The same storage still takes a good loop (automatic: io_uring or epoll) */
  CHECK_INT(rsk_loop_init(&loop, sizeof loop, NULL), ==, 0);
  CHECK_INT(rsk_loop_backend(&loop), >, 0);
  printf("automatic backend: %s\n", rsk_loop_backend_reason(&loop));
  CHECK_INT(rsk_loop_close(&loop), ==, 0);
  CHECK_INT(t_count_fds(), ==, fds);
  return t_result();
}

/* Every loop function on storage that holds no loop. */
static void expect_no_loop(rsk_loop* loop, const char* label) {
  rsk_op op = RSK_OP_INIT;
  rsk_op fresh;
  char caps[64];
  int mode;
  memset(caps, 'x', sizeof caps);
  CHECK_INT(rsk_loop_close(loop), ==, -EINVAL);
  for (mode = -1; mode <= 3; ++mode) CHECK_INT(rsk_loop_run(loop, mode), ==, -EINVAL);
  CHECK_INT(rsk_loop_stop(loop), ==, -EINVAL);
  CHECK_INT(rsk_loop_wake(loop), ==, -EINVAL);
  CHECK_INT(rsk_loop_backend(loop), ==, -EINVAL);
  CHECK(rsk_loop_backend_reason(loop) != NULL);
  CHECK_INT(rsk_loop_capabilities(loop, caps, sizeof caps), ==, -EINVAL);
  CHECK(t_all_bytes(caps, sizeof caps, 'x'));
  CHECK_INT(rsk_loop_active(loop), ==, -EINVAL);
  CHECK_INT(rsk_loop_buffer_size(loop), ==, -EINVAL);
  CHECK_INT(rsk_loop_release_buffer(loop, 0), ==, -EINVAL);
  CHECK_INT(rsk_cancel(loop, &op), ==, -EINVAL);
  fresh = op;
  expect_all_refused(loop, &op, 0, counting_cb, -EINVAL, 0, label);
  CHECK(memcmp(&op, &fresh, sizeof op) == 0);
  CHECK_INT(callbacks_made, ==, 0);
}

int test_zeroed_loop(int backend) {
  rsk_loop zeroed, filled, closed;
  t_loop t;
  (void)backend;
  init_scratch();
  memset(&zeroed, 0, sizeof zeroed);
  expect_no_loop(&zeroed, "zeroed loop");
  CHECK(t_all_bytes(&zeroed, sizeof zeroed, 0));
  CHECK_STR(rsk_loop_backend_reason(&zeroed), "loop not initialised");
  /* NULL is no loop either */
  expect_no_loop(NULL, "NULL loop");
  /* Nor is storage full of some other pattern */
  memset(&filled, 0x5a, sizeof filled);
  expect_no_loop(&filled, "0x5a-filled loop");
  CHECK(t_all_bytes(&filled, sizeof filled, 0x5a));
  /* Nor a closed one */
  if (t_loop_init(&t, RSK_BACKEND_EPOLL, NULL) != T_PASS) return T_FAIL;
  t_loop_close(&t);
  closed = t.loop;
  expect_no_loop(&t.loop, "closed loop");
  CHECK(memcmp(&closed, &t.loop, sizeof closed) == 0);
  return t_result();
}

/* ---- operations on a good loop -------------------------------------------- */

int test_bad_ops(int backend) {
  t_loop t;
  rsk_op op = RSK_OP_INIT;
  rsk_op fresh, before;
  rsk_endpoint empty;
  t_rec rec;
  char caps[32];
  int pair[2];
  int mode;
  unsigned id;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  init_scratch();
  memset(&rec, 0, sizeof rec);
  memset(&empty, 0, sizeof empty);
  empty.transport = RSK_UDP;
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0);
  fresh = op;

  /* A fresh op: nothing in flight, no user data, nothing transferred. */
  CHECK(!rsk_op_in_flight(&op));
  CHECK(rsk_op_user_data(&op) == NULL);
  CHECK_INT(rsk_op_transferred(&op), ==, 0);

  /* NULL loop, NULL op, NULL callback: -EINVAL, nothing changes. */
  expect_all_refused(NULL, &op, pair[0], counting_cb, -EINVAL, 0, "NULL loop");
  expect_all_refused(&t.loop, NULL, pair[0], counting_cb, -EINVAL, 0, "NULL op");
  expect_all_refused(&t.loop, &op, pair[0], NULL, -EINVAL, 0, "NULL callback");
  /* Bad descriptors: -EBADF. */
  expect_all_refused(&t.loop, &op, -1, counting_cb, -EBADF, 1, "fd -1");
  expect_all_refused(&t.loop, &op, INT_MIN, counting_cb, -EBADF, 1, "fd INT_MIN");
  expect_all_refused(&t.loop, &op, 1 << 20, counting_cb, -EBADF, 1, "fd 2^20");
  CHECK(memcmp(&op, &fresh, sizeof op) == 0);

  /* NULL or impossible pointer arguments. */
  CHECK_INT(rsk_connect(&t.loop, &op, pair[0], NULL, counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_connect(&t.loop, &op, pair[0], &empty, counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_send(&t.loop, &op, pair[0], NULL, 1, counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_recv(&t.loop, &op, pair[0], NULL, 1, counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_sendto(&t.loop, &op, pair[0], NULL, 1, NULL, counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_sendto(&t.loop, &op, pair[0], scratch, 1, &empty, counting_cb, NULL), ==,
            -EINVAL);
  CHECK_INT(rsk_recvfrom(&t.loop, &op, pair[0], NULL, 1, NULL, counting_cb, NULL), ==, -EINVAL);
  /* Lengths beyond INT32_MAX. */
  CHECK_INT(rsk_send(&t.loop, &op, pair[0], scratch, (size_t)INT32_MAX + 1, counting_cb, NULL),
            ==, -EINVAL);
  CHECK_INT(rsk_recv(&t.loop, &op, pair[0], scratch, (size_t)-1, counting_cb, NULL), ==, -EINVAL);
  /* shutdown's how */
  CHECK_INT(rsk_shutdown(&t.loop, &op, pair[0], 3, counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_shutdown(&t.loop, &op, pair[0], -1, counting_cb, NULL), ==, -EINVAL);
  CHECK(memcmp(&op, &fresh, sizeof op) == 0);

  /* A deadline on an op that cannot have one. */
  REQUIRE_INT(rsk_op_set_timeout(&op, T_MS), ==, 0);
  before = op;
  CHECK_INT(rsk_timeout(&t.loop, &op, T_MS, counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_nop(&t.loop, &op, counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_recv_multishot(&t.loop, &op, pair[0], counting_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_close(&t.loop, &op, pair[0], counting_cb, NULL), ==, -EINVAL);
  CHECK(memcmp(&op, &before, sizeof op) == 0);
  REQUIRE_INT(rsk_op_set_timeout(&op, 0), ==, 0);

  /* Run modes that do not exist: -EINVAL, and no callback is made. */
  REQUIRE_INT(rsk_nop(&t.loop, &op, t_rec_cb, &rec), ==, 0);
  for (mode = -2; mode <= 100; mode += (mode == 3 ? 97 : 1)) {
    if (mode >= RSK_RUN_ONCE && mode <= RSK_RUN_UNTIL_DONE) continue;
    CHECK_INT(rsk_loop_run(&t.loop, mode), ==, -EINVAL);
  }
  CHECK_INT(rsk_loop_run(&t.loop, INT_MIN), ==, -EINVAL);
  CHECK_INT(rsk_loop_run(&t.loop, INT_MAX), ==, -EINVAL);
  CHECK_INT(rec.calls, ==, 0);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 1);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.calls, ==, 1);

  /* Buffer ids that are not lent: -EINVAL. */
  for (id = 0; id < 512; id += 73) CHECK_INT(rsk_loop_release_buffer(&t.loop, id), ==, -EINVAL);
  CHECK_INT(rsk_loop_release_buffer(&t.loop, 511), ==, -EINVAL);
  CHECK_INT(rsk_loop_release_buffer(&t.loop, 512), ==, -EINVAL);
  CHECK_INT(rsk_loop_release_buffer(&t.loop, 0xffff), ==, -EINVAL);
  CHECK_INT(rsk_loop_release_buffer(&t.loop, 0x10000), ==, -EINVAL);
  CHECK_INT(rsk_loop_release_buffer(&t.loop, 0x10000 + 1), ==, -EINVAL);
  CHECK_INT(rsk_loop_release_buffer(&t.loop, ~0u), ==, -EINVAL);

  /* Cancel: NULLs, idle ops. */
  CHECK_INT(rsk_cancel(NULL, &op), ==, -EINVAL);
  CHECK_INT(rsk_cancel(&t.loop, NULL), ==, -EINVAL);
  CHECK_INT(rsk_cancel(&t.loop, &op), ==, -ENOENT); /* ended */
  memset(&op, 0, sizeof op);
  CHECK_INT(rsk_cancel(&t.loop, &op), ==, -ENOENT); /* never submitted */
  rsk_op_init(&op);
  CHECK_INT(rsk_cancel(&t.loop, &op), ==, -ENOENT);

  /* Capabilities into nothing. */
  memset(caps, 'x', sizeof caps);
  CHECK_INT(rsk_loop_capabilities(&t.loop, NULL, sizeof caps), ==, -EINVAL);
  CHECK_INT(rsk_loop_capabilities(&t.loop, caps, 0), ==, -ENOSPC); /* as rsk_endpoint_format */
  CHECK(t_all_bytes(caps, sizeof caps, 'x'));
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_NOWAIT), ==, 0);
  CHECK_INT(callbacks_made, ==, 0);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 0);
  close(pair[0]);
  close(pair[1]);
  t_loop_close(&t);
  return t_result();
}

/* An op in flight, submitted again through every function: -EBUSY, same bytes. */
int test_busy_op(int backend) {
  t_loop t;
  rsk_op busy = RSK_OP_INIT, timer = RSK_OP_INIT;
  t_rec rec, timer_rec;
  char buf[8];
  int pair[2];
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  init_scratch();
  memset(&rec, 0, sizeof rec);
  memset(&timer_rec, 0, sizeof timer_rec);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0);

  REQUIRE_INT(rsk_recv(&t.loop, &busy, pair[0], buf, sizeof buf, t_rec_cb, &rec), ==, 0);
  REQUIRE_INT(rsk_timeout(&t.loop, &timer, 3600ull * 1000 * T_MS, t_rec_cb, &timer_rec), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_NOWAIT), ==, 0);
  CHECK(rsk_op_in_flight(&busy));
  expect_all_refused(&t.loop, &busy, pair[0], counting_cb, -EBUSY, 0, "recv in flight");
  expect_all_refused(&t.loop, &timer, pair[1], counting_cb, -EBUSY, 0, "timer in flight");
  CHECK(rsk_op_user_data(&busy) == &rec);
  CHECK_INT(rsk_op_fd(&busy), ==, pair[0]);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 2);

  /* The op still ends once, through its own callback and user data. */
  REQUIRE_INT(write(pair[1], "abc", 3), ==, 3);
  REQUIRE(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.calls, ==, 1);
  CHECK_INT(rec.result, ==, 3);
  CHECK(memcmp(buf, "abc", 3) == 0);
  CHECK_INT(rsk_cancel(&t.loop, &timer), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &timer_rec, T_GUARD_MS));
  CHECK_INT(timer_rec.calls, ==, 1);
  CHECK_INT(timer_rec.result, ==, -ECANCELED);
  CHECK_INT(callbacks_made, ==, 0);
  close(pair[0]);
  close(pair[1]);
  t_loop_close(&t);
  return t_result();
}

/* A submit the engine refuses after its argument checks (here: epoll's
 * deadline heap is full, -EAGAIN) must leave the op as it was too: its user
 * data, fd and transferred count are what the caller reads back. */
int test_refused_submit(int backend) {
  t_loop t;
  rsk_loop_options options;
  rsk_op timer = RSK_OP_INIT, fresh = RSK_OP_INIT, send = RSK_OP_INIT;
  t_rec timer_rec, send_rec, other;
  char payload[100];
  int pair[2];
  int rc;
  (void)backend;
  rsk_loop_options_init(&options);
  options.max_timers = 1;
  rc = t_loop_init(&t, RSK_BACKEND_EPOLL, &options);
  if (rc != T_PASS) return rc;
  memset(&timer_rec, 0, sizeof timer_rec);
  memset(&send_rec, 0, sizeof send_rec);
  memset(&other, 0, sizeof other);
  memset(payload, 'p', sizeof payload);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0);

  /* A finished send: fd, user data and 100 bytes transferred. */
  REQUIRE_INT(rsk_send(&t.loop, &send, pair[0], payload, sizeof payload, t_rec_cb, &send_rec), ==,
              0);
  REQUIRE(t_run_until(&t, t_rec_done, &send_rec, T_GUARD_MS));
  REQUIRE_INT(send_rec.result, ==, 100);
  CHECK_INT(rsk_op_transferred(&send), ==, 100);

  /* The only timer slot taken: */
  REQUIRE_INT(rsk_timeout(&t.loop, &timer, 3600ull * 1000 * T_MS, t_rec_cb, &timer_rec), ==, 0);
  /* a fresh timer is refused, and stays fresh; */
  CHECK_INT(rsk_timeout(&t.loop, &fresh, T_MS, t_rec_cb, &other), ==, -EAGAIN);
  CHECK(!rsk_op_in_flight(&fresh));
  CHECK(rsk_op_user_data(&fresh) == NULL);
  CHECK_INT(rsk_op_fd(&fresh), ==, 0);
  /* the finished send, resubmitted with a deadline, is refused and keeps its results. */
  REQUIRE_INT(rsk_op_set_timeout(&send, 1000 * T_MS), ==, 0);
  CHECK_INT(rsk_send(&t.loop, &send, pair[1], payload, 10, t_rec_cb, &other), ==, -EAGAIN);
  CHECK(!rsk_op_in_flight(&send));
  CHECK(rsk_op_user_data(&send) == &send_rec);
  CHECK_INT(rsk_op_fd(&send), ==, pair[0]);
  CHECK_INT(rsk_op_transferred(&send), ==, 100);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 1);

  CHECK_INT(rsk_cancel(&t.loop, &timer), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &timer_rec, T_GUARD_MS));
  CHECK_INT(other.calls, ==, 0);
  CHECK_INT(send_rec.calls, ==, 1);
  close(pair[0]);
  close(pair[1]);
  t_loop_close(&t);
  return t_result();
}
