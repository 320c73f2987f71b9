/* ringsock.h as C99 with -pedantic: compiled by the build, never run. */
#include "ringsock.h"

/* C99 has no _Static_assert: a negative array size fails instead. */
typedef char rsk_check_loop_size[sizeof(rsk_loop) == RSK_LOOP_SIZE ? 1 : -1];
typedef char rsk_check_op_size[sizeof(rsk_op) == RSK_OP_SIZE ? 1 : -1];
typedef char rsk_check_version[RSK_VERSION ==
                                       RSK_MAKE_VERSION(RSK_VERSION_MAJOR, RSK_VERSION_MINOR,
                                                        RSK_VERSION_PATCH)
                                   ? 1
                                   : -1];

int rsk_header_c99(void);
int rsk_header_c99(void) {
  static rsk_op op = RSK_OP_INIT;
  rsk_loop_options options;
  rsk_endpoint endpoint;
  rsk_completion completion;
  rsk_callback callback = 0;
  rsk_loop_options_init(&options);
  completion.result = 0;
  endpoint.length = 0;
  (void)callback;
  return rsk_op_in_flight(&op) + (int)endpoint.length + completion.result;
}
