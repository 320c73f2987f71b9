// The thread that owns a loop: the one that called init. Every call but
// wake() must come from it (a foreign call gets -EPERM, the same on both
// backends: io_uring's SINGLE_ISSUER would refuse only some of them, and
// epoll none). The check runs on every submit, so it is a register read and
// a compare: the thread pointer (glibc's pthread_self() is the same value),
// unique among live threads. A thread that has ended cannot call, so its
// value being reused later does no harm.
#pragma once

#include <pthread.h>

#include <cstdint>

namespace ringsock::detail {

inline uintptr_t current_thread() noexcept {
#if defined(__x86_64__) || defined(__aarch64__)
  return reinterpret_cast<uintptr_t>(__builtin_thread_pointer());
#else
  return uintptr_t(pthread_self());
#endif
}

}  // namespace ringsock::detail
