// RINGSOCK_ASSERT: what "cannot happen" is checked where it is assumed.
//
// Active when RINGSOCK_ASSERTS is 1: CMake sets it for Debug builds and for
// sanitizer builds (RINGSOCK_SANITIZE), so the test suites run with it.
// Release compiles it to nothing: the condition is not evaluated (it stays in
// an unevaluated sizeof, so variables it names count as used). Where a
// failure would touch memory out of bounds, the code keeps its defensive
// fallback after the assertion, so a Release build degrades instead of
// corrupting memory.
#pragma once

#if RINGSOCK_ASSERTS
#include <cstdio>
#include <cstdlib>

namespace ringsock::detail {
[[noreturn, gnu::cold, gnu::noinline]] inline void assert_failed(const char* condition,
                                                                 const char* file,
                                                                 int line) noexcept {
  fprintf(stderr, "ringsock: assertion failed: %s (%s:%d)\n", condition, file, line);
  abort();
}
}  // namespace ringsock::detail

#define RINGSOCK_ASSERT(condition)                                                   \
  (__builtin_expect(static_cast<bool>(condition), 1)                                 \
       ? static_cast<void>(0)                                                        \
       : ::ringsock::detail::assert_failed(#condition, __FILE__, __LINE__))
#else
#define RINGSOCK_ASSERT(condition) static_cast<void>(sizeof(static_cast<bool>(condition)))
#endif
