// Ctrl-C (SIGINT) or SIGTERM during `ringsock load`: the run stops as if
// its duration had ended, and reports the part that ran. A second signal
// ends the process at once (the handler is reset after the first).
#pragma once

namespace ringsock_cli {

/// Catches SIGINT and SIGTERM until restore_interrupt_handlers().
void catch_interrupts() noexcept;
void restore_interrupt_handlers() noexcept;

/// The signal that asked the run to stop (SIGINT, SIGTERM), or 0. Any thread.
int interrupt_signal() noexcept;

}  // namespace ringsock_cli
