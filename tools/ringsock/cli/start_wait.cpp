#include "start_wait.hpp"

#include <sys/timex.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "load_interrupt.hpp"

namespace ringsock_cli {

namespace {

int64_t read_ns(clockid_t clock) noexcept {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

}  // namespace

StartedAt wait_for_start(int64_t start_at_unix_ns) noexcept {
  // Absolute sleeps on the wall clock (a clock step is followed), in slices
  // of at most 100 ms so that load's interrupt (Ctrl-C, SIGTERM), which may
  // be taken by another thread, ends the wait; EINTR resumes it.
  constexpr int64_t kSliceNs = 100'000'000;
  while (interrupt_signal() == 0) {
    const int64_t now = read_ns(CLOCK_REALTIME);
    if (now >= start_at_unix_ns) break;
    const int64_t until = start_at_unix_ns - now > kSliceNs ? now + kSliceNs : start_at_unix_ns;
    timespec target{time_t(until / 1'000'000'000LL), long(until % 1'000'000'000LL)};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &target, nullptr) == EINTR) {
    }
  }
  StartedAt out;
  out.monotonic_ns = uint64_t(read_ns(CLOCK_MONOTONIC));
  out.unix_ns = read_ns(CLOCK_REALTIME);
  out.skew_ns = out.unix_ns - start_at_unix_ns;
  return out;
}

std::string clock_source_description() {
  std::string out = "CLOCK_REALTIME";
  if (FILE* f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r")) {
    char name[64] = {};
    if (fscanf(f, "%63s", name) == 1) out += std::string(", clocksource ") + name;
    fclose(f);
  }
  timex tx{};  // modes 0: read only
  const int state = adjtimex(&tx);
  if (state == -1) return out;
  if (state == TIME_ERROR || (tx.status & STA_UNSYNC) != 0) return out + ", not NTP synchronized";
  char buf[96];
  snprintf(buf, sizeof buf, ", NTP synchronized (estimated error %ld us)", long(tx.esterror));
  return out + buf;
}

}  // namespace ringsock_cli
