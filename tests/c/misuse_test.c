/* Misuse refused with an errno, the same on both backends: storage that is
 * not aligned, calls from a thread that does not own the loop, and option
 * structs of another size than the library's. */
#define _GNU_SOURCE 1

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

static void noop_cb(rsk_loop* loop, rsk_op* op, const rsk_completion* completion) {
  (void)loop;
  (void)op;
  (void)completion;
}

/* Storage with room to be placed 8 bytes off its alignment (what ctypes and
 * many FFIs give for an rsk_op after a pointer in a struct). */
typedef struct {
  RSK_ALIGNED(16) unsigned char bytes[sizeof(rsk_loop) + 32];
} t_raw;

int test_misaligned_storage(int backend) {
  t_loop t;
  t_raw raw, before;
  rsk_op* op = (rsk_op*)(void*)(raw.bytes + 8);
  rsk_loop* loop = (rsk_loop*)(void*)(raw.bytes + 8);
  int sv[2];
  char buffer[8] = {0};
  struct iovec piece;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  CHECK_INT(rsk_op_align(), ==, RSK_OP_ALIGN);
  CHECK_INT(rsk_loop_align(), ==, RSK_LOOP_ALIGN);
  REQUIRE(((uintptr_t)op % rsk_op_align()) != 0);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  piece.iov_base = buffer;
  piece.iov_len = sizeof buffer;

  memset(&raw, 0x5a, sizeof raw);
  before = raw;
  rsk_op_init(op); /* left untouched */
  CHECK_INT(rsk_nop(&t.loop, op, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_timeout(&t.loop, op, T_MS, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_recv(&t.loop, op, sv[0], buffer, sizeof buffer, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_send(&t.loop, op, sv[0], buffer, sizeof buffer, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_recv_multishot(&t.loop, op, sv[0], noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_recvfrom_multishot(&t.loop, op, sv[0], noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_sendto(&t.loop, op, sv[0], buffer, sizeof buffer, NULL, noop_cb, NULL), ==,
            -EINVAL);
  CHECK_INT(rsk_recvfrom(&t.loop, op, sv[0], buffer, sizeof buffer, NULL, noop_cb, NULL), ==,
            -EINVAL);
  CHECK_INT(rsk_sendv(&t.loop, op, sv[0], &piece, 1, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_sendtov(&t.loop, op, sv[0], &piece, 1, NULL, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_accept(&t.loop, op, sv[0], NULL, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_accept_multishot(&t.loop, op, sv[0], noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_shutdown(&t.loop, op, sv[0], SHUT_WR, noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_close(&t.loop, op, sv[0], noop_cb, NULL), ==, -EINVAL);
  CHECK_INT(rsk_cancel(&t.loop, op), ==, -EINVAL);
  CHECK_INT(rsk_op_set_timeout(op, T_MS), ==, -EINVAL);
  CHECK(memcmp(&raw, &before, sizeof raw) == 0);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 0);

  /* A misaligned loop: refused before anything is written. */
  memset(&raw, 0, sizeof raw);
  before = raw;
  CHECK_INT(rsk_loop_init(loop, sizeof(rsk_loop), NULL), ==, -EINVAL);
  CHECK(memcmp(&raw, &before, sizeof raw) == 0);
  CHECK_INT(rsk_loop_run(loop, RSK_RUN_NOWAIT), ==, -EINVAL);
  CHECK_INT(rsk_loop_close(loop), ==, -EINVAL);

  close(sv[0]);
  close(sv[1]);
  t_loop_close(&t);
  return t_result();
}

struct foreign {
  rsk_loop* loop;
  rsk_op* op;
  rsk_op* nop;
  int nop_rc, run_rc, stop_rc, close_rc, cancel_rc, release_rc, wake_rc;
};

static void* call_from_other_thread(void* arg) {
  struct foreign* f = arg;
  f->nop_rc = rsk_nop(f->loop, f->nop, noop_cb, NULL);
  f->run_rc = rsk_loop_run(f->loop, RSK_RUN_NOWAIT);
  f->stop_rc = rsk_loop_stop(f->loop);
  f->cancel_rc = rsk_cancel(f->loop, f->op);
  f->release_rc = rsk_loop_release_buffer(f->loop, 0);
  f->close_rc = rsk_loop_close(f->loop);
  f->wake_rc = rsk_loop_wake(f->loop);
  return NULL;
}

int test_foreign_thread(int backend) {
  t_loop t;
  rsk_op timer = RSK_OP_INIT;
  rsk_op nop = RSK_OP_INIT;
  t_rec rec;
  struct foreign f;
  pthread_t thread;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&rec, 0, sizeof rec);
  REQUIRE_INT(rsk_timeout(&t.loop, &timer, 60000 * T_MS, t_rec_cb, &rec), ==, 0);
  f.loop = &t.loop;
  f.op = &timer;
  f.nop = &nop;
  REQUIRE(pthread_create(&thread, NULL, call_from_other_thread, &f) == 0);
  REQUIRE(pthread_join(thread, NULL) == 0);
  CHECK_INT(f.nop_rc, ==, -EPERM);
  CHECK_INT(rsk_op_in_flight(&nop), ==, 0);
  CHECK_INT(f.run_rc, ==, -EPERM);
  CHECK_INT(f.stop_rc, ==, -EPERM);
  CHECK_INT(f.cancel_rc, ==, -EPERM);
  CHECK_INT(f.release_rc, ==, -EPERM);
  CHECK_INT(f.close_rc, ==, -EPERM);
  CHECK_INT(f.wake_rc, ==, 0);
  /* The loop is whole, and its owner runs it to the end. */
  CHECK_INT(rsk_loop_backend(&t.loop), ==, backend);
  CHECK_INT(rsk_loop_active(&t.loop), ==, 1);
  CHECK_INT(rsk_cancel(&t.loop, &timer), ==, 0);
  CHECK(t_run_until(&t, t_rec_done, &rec, T_GUARD_MS));
  CHECK_INT(rec.result, ==, -ECANCELED);
  t_loop_close(&t);
  return t_result();
}

int test_options_size(int backend) {
  rsk_loop_options full;
  struct {
    rsk_loop_options options;
    unsigned char after[16];
  } holder;
  rsk_loop loop;
  const size_t first_layout = offsetof(rsk_loop_options, max_lent_per_fd); /* 0.2's options */
  (void)backend;
  rsk_loop_options_init(&full);

  /* An older, shorter struct: nothing is written past its end. */
  memset(&holder, 0xee, sizeof holder);
  CHECK_INT(rsk_loop_options_init_size(&holder.options, first_layout), ==, 0);
  CHECK(memcmp(&holder.options, &full, first_layout) == 0);
  CHECK(t_all_bytes((const unsigned char*)&holder.options + first_layout,
                    sizeof holder - first_layout, 0xee));
  /* The library's own size: the same as rsk_loop_options_init. */
  memset(&holder, 0xee, sizeof holder);
  CHECK_INT(rsk_loop_options_init_size(&holder.options, sizeof holder.options), ==, 0);
  CHECK(memcmp(&holder.options, &full, sizeof full) == 0);
  CHECK(t_all_bytes(holder.after, sizeof holder.after, 0xee));
  /* A newer, longer struct: the library fills what it knows. */
  memset(&holder, 0xee, sizeof holder);
  CHECK_INT(rsk_loop_options_init_size(&holder.options, sizeof holder), ==, 0);
  CHECK(memcmp(&holder.options, &full, sizeof full) == 0);
  /* Too short to be any layout, or NULL. */
  CHECK_INT(rsk_loop_options_init_size(&holder.options, first_layout - 1), ==, -EINVAL);
  CHECK_INT(rsk_loop_options_init_size(NULL, sizeof full), ==, -EINVAL);

  /* rsk_loop_init_size reads no further than it is told. */
  unsetenv("RINGSOCK_BACKEND");
  memset(&holder, 0, sizeof holder);
  CHECK_INT(rsk_loop_options_init_size(&holder.options, first_layout), ==, 0);
  holder.options.backend = RSK_BACKEND_EPOLL;
  holder.options.max_lent_per_fd = 0xeeeeeeee; /* beyond the size: not read */
  holder.options.batch_wait_us = 0xeeeeeeee;   /* likewise */
  holder.options.zero_copy_min_bytes = 0xeeeeeeee; /* likewise */
  memset(&loop, 0, sizeof loop);
  CHECK_INT(rsk_loop_init_size(&loop, sizeof loop, &holder.options, first_layout), ==, 0);
  CHECK_INT(rsk_loop_backend(&loop), ==, RSK_BACKEND_EPOLL);
  CHECK_INT(rsk_loop_close(&loop), ==, 0);
  /* Unknown options a longer struct sets are refused, not ignored. */
  memset(&holder, 0, sizeof holder);
  rsk_loop_options_init(&holder.options);
  holder.after[3] = 1;
  CHECK_INT(rsk_loop_init_size(&loop, sizeof loop, &holder.options, sizeof holder), ==, -EINVAL);
  holder.after[3] = 0;
  holder.options.max_lent_per_fd = 4;
  CHECK_INT(rsk_loop_init_size(&loop, sizeof loop, &holder.options, sizeof holder), ==, 0);
  CHECK_INT(rsk_loop_close(&loop), ==, 0);
  CHECK_INT(rsk_loop_init_size(&loop, sizeof loop, &holder.options, first_layout - 1), ==,
            -EINVAL);

  /* A program built against 0.2 calls the exported rsk_loop_options_init and
   * rsk_loop_init with 0.2's 48 bytes: nothing after them is written or read
   * (here they are 0xee, which as direct_descriptors would be refused as too
   * large, as reserved words too). */
  memset(&holder, 0xee, sizeof holder);
  (rsk_loop_options_init)(&holder.options);
  CHECK(memcmp(&holder.options, &full, offsetof(rsk_loop_options, direct_descriptors)) == 0);
  CHECK(t_all_bytes((const unsigned char*)&holder.options +
                        offsetof(rsk_loop_options, direct_descriptors),
                    sizeof holder - offsetof(rsk_loop_options, direct_descriptors), 0xee));
  holder.options.backend = RSK_BACKEND_EPOLL;
  memset(&loop, 0, sizeof loop);
  CHECK_INT((rsk_loop_init)(&loop, sizeof loop, &holder.options), ==, 0);
  CHECK_INT(rsk_loop_close(&loop), ==, 0);
  /* This header's rsk_loop_init reads the whole struct: a reserved word set
   * is refused, and so is a table of direct descriptors past the bound. */
  rsk_loop_options_init(&holder.options);
  holder.options.backend = RSK_BACKEND_EPOLL;
  holder.options.reserved[1] = 1;
  CHECK_INT(rsk_loop_init(&loop, sizeof loop, &holder.options), ==, -EINVAL);
  holder.options.reserved[1] = 0;
  holder.options.direct_descriptors = 65537;
  CHECK_INT(rsk_loop_init(&loop, sizeof loop, &holder.options), ==, -EINVAL);
  holder.options.direct_descriptors = 0;
  CHECK_INT(rsk_loop_init(&loop, sizeof loop, &holder.options), ==, 0);
  CHECK_INT(rsk_loop_close(&loop), ==, 0);
  /* Options as a compound literal, commas and all, through the macro. */
  CHECK_INT(rsk_loop_init(&loop, sizeof loop,
                          &(rsk_loop_options){.backend = RSK_BACKEND_EPOLL, .ring_entries = 8}),
            ==, 0);
  CHECK_INT(rsk_loop_close(&loop), ==, 0);
  return t_result();
}

/* What a loop refuses for what the call is: an operation in flight on
 * another loop (cancel touches nothing), init and close from a post callback
 * of the loop's own close (under way), a capabilities buffer of 0 bytes. */
struct closing {
  int calls, init_rc, close_rc;
};

static void call_back_into_closing(rsk_loop* loop, rsk_op* op, const rsk_completion* completion) {
  struct closing* s = rsk_op_user_data(op);
  ++s->calls;
  CHECK_INT(completion->result, ==, -ECANCELED);
  s->init_rc = rsk_loop_init(loop, sizeof *loop, NULL);
  s->close_rc = rsk_loop_close(loop);
}

int test_loop_refusals(int backend) {
  t_loop t, other;
  rsk_op timer = RSK_OP_INIT, post = RSK_OP_INIT;
  t_rec timer_rec;
  struct closing closing;
  char line[8];
  rsk_loop_options options;
  int rc = t_loop_init(&t, backend, NULL);
  if (rc != T_PASS) return rc;
  rc = t_loop_init(&other, backend, NULL);
  if (rc != T_PASS) return rc;
  memset(&timer_rec, 0, sizeof timer_rec);
  memset(&closing, 0, sizeof closing);

  REQUIRE_INT(rsk_timeout(&t.loop, &timer, (uint64_t)T_GUARD_MS * T_MS, t_rec_cb, &timer_rec), ==,
              0);
  CHECK_INT(rsk_cancel(&other.loop, &timer), ==, -EINVAL);
  CHECK_INT(rsk_loop_run(&other.loop, RSK_RUN_NOWAIT), ==, 0);
  CHECK_INT(rsk_loop_run(&t.loop, RSK_RUN_NOWAIT), ==, 0);
  CHECK_INT(timer_rec.calls, ==, 0);
  CHECK_INT(rsk_cancel(&t.loop, &timer), ==, 0);
  REQUIRE(t_run_until(&t, t_rec_done, &timer_rec, T_GUARD_MS));
  CHECK_INT(timer_rec.result, ==, -ECANCELED);
  CHECK_INT(timer_rec.terminal, ==, 1);

  CHECK_INT(rsk_loop_capabilities(&t.loop, line, 0), ==, -ENOSPC);

  /* A post the close calls back: init and close are refused there, and the
   * close that was asked for is the one that happens. */
  t_loop_close(&other);
  rsk_loop_options_init(&options);
  options.backend = (uint32_t)backend;
  REQUIRE_INT(rsk_post(&other.loop, &post, 7, call_back_into_closing, &closing), ==, -EINVAL);
  t_loop_close(&t);
  memset(&t.loop, 0, sizeof t.loop);
  REQUIRE_INT(rsk_loop_init(&t.loop, sizeof t.loop, &options), ==, 0);
  REQUIRE_INT(rsk_post(&t.loop, &post, 7, call_back_into_closing, &closing), ==, 0);
  CHECK_INT(rsk_loop_close(&t.loop), ==, 0);
  CHECK_INT(closing.calls, ==, 1);
  CHECK_INT(closing.init_rc, ==, -EBUSY);
  CHECK_INT(closing.close_rc, ==, -EBUSY);
  CHECK_INT(rsk_loop_backend(&t.loop), ==, -EINVAL);
  CHECK_INT(rsk_loop_close(&t.loop), ==, -EINVAL);
  return t_result();
}
