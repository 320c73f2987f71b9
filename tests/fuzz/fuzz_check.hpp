// What every harness shares: the libFuzzer entry point's signature, and
// FUZZ_CHECK, which turns a broken property into a crash (abort) that both
// libFuzzer and the replay test (replay_main.cpp) report with its place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define FUZZ_CHECK(condition)                                                            \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: fuzz property broken: %s\n", __FILE__, __LINE__,      \
                   #condition);                                                          \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
