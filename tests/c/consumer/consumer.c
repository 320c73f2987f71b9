/* A program built against an installed ringsock: one rsk_nop round trip. */
#include <stdio.h>

#include "ringsock.h"

static int calls;

static void done(rsk_loop* loop, rsk_op* op, const rsk_completion* completion) {
  (void)loop;
  (void)op;
  if (completion->result == 0 && !completion->more) ++calls;
}

int main(void) {
  rsk_loop loop;
  rsk_op op = RSK_OP_INIT;
  int rc;
  if (rsk_version() != RSK_VERSION || rsk_loop_size() != sizeof loop ||
      rsk_op_size() != sizeof op) {
    fprintf(stderr, "ringsock.h and library %s differ\n", rsk_version_string());
    return 1;
  }
  rc = rsk_loop_init(&loop, sizeof loop, NULL);
  if (rc < 0) {
    fprintf(stderr, "rsk_loop_init: %s (%s)\n", rsk_strerror(rc), rsk_loop_backend_reason(&loop));
    return 1;
  }
  rc = rsk_nop(&loop, &op, done, NULL);
  if (rc == 0) rc = rsk_loop_run(&loop, RSK_RUN_UNTIL_DONE);
  printf("ringsock %s, backend %s: %s\n", rsk_version_string(),
         rsk_loop_backend(&loop) == RSK_BACKEND_URING ? "io_uring" : "epoll",
         rc == 1 && calls == 1 ? "OK" : "FAILED");
  rsk_loop_close(&loop);
  return rc == 1 && calls == 1 ? 0 : 1;
}
