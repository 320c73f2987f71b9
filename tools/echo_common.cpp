#include "echo_common.hpp"

#include <cerrno>
#include <cstring>

namespace echo {

using ringsock::Completion;
using ringsock::Loop;
using ringsock::Operation;
using ringsock::RunMode;

namespace {
struct Guard {
  Operation op;
  bool fired = false;
};

void on_guard(Loop&, Operation& op, const Completion& c) {
  if (c.result == 0) static_cast<Guard*>(op.user_data)->fired = true;
}
}  // namespace

// run(until_done) alone could wait forever on an operation that never ends;
// a timer makes every wait here return.
bool drain_loop(Loop& loop, uint64_t guard_ns) {
  if (loop.active() == 0) return true;
  Guard guard;
  if (loop.timeout(guard.op, guard_ns, on_guard, &guard) < 0) return false;
  while (!guard.fired && loop.active() > 1) {
    // An error leaves the guard armed; the caller deinit()s the loop without running it again.
    if (loop.run(RunMode::once) < 0) return false;
  }
  if (guard.fired) return false;
  loop.cancel(guard.op);
  while (guard.op.in_flight()) {
    if (loop.run(RunMode::once) < 0) return false;
  }
  return true;
}

const char* error_text(int negated_errno) { return strerror(-negated_errno); }

}  // namespace echo
