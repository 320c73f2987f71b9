// `ringsock probe`: which backend a loop gets here, why, and what the kernel offers.
#pragma once

namespace ringsock_cli {

/// Prints the report to stdout. Returns 0, or 1 when no backend can start.
int run_probe() noexcept;

const char* backend_name(int kind) noexcept;

}  // namespace ringsock_cli
