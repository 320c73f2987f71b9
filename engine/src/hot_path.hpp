// RINGSOCK_HOT marks the functions of the per-operation path (a Loop call down
// to the SQE, a loop turn down to the callbacks) that must be inlined: then a
// Loop call is one function in which the operation's kind is a constant, and a
// turn makes no calls but liburing's submit and the callbacks (bench/micro.sh,
// bench/callgrind.sh). The embedded profile (-Os) leaves it to the compiler.
#pragma once

#if defined(__OPTIMIZE_SIZE__)
#define RINGSOCK_HOT
#else
#define RINGSOCK_HOT [[gnu::always_inline]]
#endif
