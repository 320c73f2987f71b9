#include "load_interrupt.hpp"

#include <signal.h>

#include <atomic>

namespace ringsock_cli {

namespace {

std::atomic<int> g_signal{0};  // lock-free: written from the handler
struct sigaction g_old_int, g_old_term;

void on_signal(int number) { g_signal.store(number, std::memory_order_relaxed); }

}  // namespace

void catch_interrupts() noexcept {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // a second signal ends the process as usual
  sigaction(SIGINT, &action, &g_old_int);
  sigaction(SIGTERM, &action, &g_old_term);
  // A signal the shell set ignored (a background job's SIGINT) stays ignored.
  if (g_old_int.sa_handler == SIG_IGN) sigaction(SIGINT, &g_old_int, nullptr);
  if (g_old_term.sa_handler == SIG_IGN) sigaction(SIGTERM, &g_old_term, nullptr);
}

void restore_interrupt_handlers() noexcept {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int interrupt_signal() noexcept { return g_signal.load(std::memory_order_relaxed); }

}  // namespace ringsock_cli
