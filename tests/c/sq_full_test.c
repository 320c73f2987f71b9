/*
 * A full submission queue through the C ABI: a close whose cancel finds no
 * room in the SQ still cancels, closes and completes.
 *
 * On a current kernel a flush always empties the SQ; an older one pushes back
 * (-EBUSY until its CQ is read). On io_uring this case installs a seccomp
 * filter (the process runs this case alone) that answers EBUSY to every
 * io_uring_enter(2) without IORING_ENTER_GETEVENTS, as such a kernel does to
 * the engine's flushes; the loop's own turns go through. On epoll, which has
 * no SQ, the same steps run unfiltered.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define T_ENTER_GETEVENTS 1u /* IORING_ENTER_GETEVENTS */
#define T_FILLERS 8

static int refuse_plain_submits(void) {
#ifdef __NR_io_uring_enter
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
               offsetof(struct seccomp_data, args) + 3 * sizeof(uint64_t) +
                   (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0)),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, T_ENTER_GETEVENTS, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EBUSY & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program;
  program.len = (unsigned short)(sizeof filter / sizeof filter[0]);
  program.filter = filter;
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
#else
  return 0;
#endif
}

int test_close_sq_full(int backend) {
  t_loop t;
  rsk_loop_options options;
  rsk_op recv = RSK_OP_INIT, closing = RSK_OP_INIT;
  rsk_op fillers[T_FILLERS];
  t_rec recv_rec, close_rec, filler_recs[T_FILLERS];
  unsigned char buffer[16];
  int sv[2], i, queued = 0, refused = 0, rc;
  rsk_loop_options_init(&options);
  options.ring_entries = 2;
  options.completion_entries = 64;
  rc = t_loop_init(&t, backend, &options);
  if (rc != T_PASS) return rc;
  if (backend == RSK_BACKEND_URING && !refuse_plain_submits()) {
    printf("SKIP: no seccomp filter here\n");
    t_loop_close(&t);
    return T_SKIP;
  }
  memset(&recv_rec, 0, sizeof recv_rec);
  memset(&close_rec, 0, sizeof close_rec);
  memset(filler_recs, 0, sizeof filler_recs);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  rsk_loop_run(&t.loop, RSK_RUN_NOWAIT); /* the loop's own wake reader armed */

  REQUIRE_INT(rsk_recv(&t.loop, &recv, sv[0], buffer, sizeof buffer, t_rec_cb, &recv_rec), ==, 0);
  rsk_loop_run(&t.loop, RSK_RUN_NOWAIT); /* the recv is in the kernel */
  /* Nops until one is refused for want of room: the SQ stays full (epoll
   * refuses none). */
  for (i = 0; i < T_FILLERS && !refused; ++i) {
    rsk_op_init(&fillers[i]);
    rc = rsk_nop(&t.loop, &fillers[i], t_rec_cb, &filler_recs[i]);
    if (rc == -EAGAIN) {
      refused = 1;
    } else {
      CHECK_INT(rc, ==, 0);
      ++queued;
    }
  }
  if (backend == RSK_BACKEND_URING) REQUIRE(refused); /* else the case proves nothing */
  /* The close's cancel of the recv finds no room: it must wait, not vanish. */
  REQUIRE_INT(rsk_close(&t.loop, &closing, sv[0], t_rec_cb, &close_rec), ==, 0);
  rsk_loop_run(&t.loop, RSK_RUN_NOWAIT); /* room for the guard timer */
  REQUIRE(t_run_until(&t, t_rec_done, &close_rec, 3000));
  CHECK_INT(recv_rec.terminal, ==, 1);
  CHECK_INT(recv_rec.result, ==, -ECANCELED);
  CHECK_INT(close_rec.result, ==, 0);
  CHECK(fcntl(sv[0], F_GETFD) == -1 && errno == EBADF);
  for (i = 0; i < queued; ++i) {
    REQUIRE(t_run_until(&t, t_rec_done, &filler_recs[i], 3000));
    CHECK_INT(filler_recs[i].result, ==, 0);
  }
  close(sv[1]);
  t_loop_close(&t);
  return t_result();
}
