// ringsock.h as C++ with -pedantic (built as C++11 and C++17): compiled by the
// build, never run. The C types are standard layout, the functions extern "C".
#include "ringsock.h"

#include <type_traits>

static_assert(sizeof(rsk_loop) == RSK_LOOP_SIZE, "rsk_loop size");
static_assert(sizeof(rsk_op) == RSK_OP_SIZE, "rsk_op size");
static_assert(alignof(rsk_loop) >= RSK_LOOP_ALIGN, "rsk_loop alignment");
static_assert(alignof(rsk_op) >= RSK_OP_ALIGN, "rsk_op alignment");
static_assert(std::is_standard_layout<rsk_endpoint>::value, "rsk_endpoint is plain data");
static_assert(std::is_trivially_copyable<rsk_endpoint>::value, "rsk_endpoint is plain data");
static_assert(std::is_trivial<rsk_op>::value && std::is_trivial<rsk_loop>::value,
              "caller storage is trivial");
static_assert(std::is_trivial<rsk_loop_options>::value, "options are plain data");
static_assert(std::is_standard_layout<rsk_completion>::value, "completion is plain data");

namespace {
// A callback with C++ linkage converts to rsk_callback, as C++ callers write them.
void on_done(rsk_loop*, rsk_op*, const rsk_completion*) {}
}  // namespace

int rsk_header_cxx(rsk_loop* loop);
int rsk_header_cxx(rsk_loop* loop) {
  static rsk_op op = RSK_OP_INIT;
  rsk_callback callback = on_done;
  int (*submit)(rsk_loop*, rsk_op*, rsk_callback, void*) = rsk_nop;
  return submit(loop, &op, callback, nullptr);
}
