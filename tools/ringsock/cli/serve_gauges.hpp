// `ringsock serve`'s gauges on SIGUSR1: what the process holds right now, so a
// soak (tests/tool/cli/soak_test.cpp) or an operator can check that a long run
// gives back every connection, fd, buffer and page it took.
#pragma once

#include <cstdint>
#include <cstdio>

namespace ringsock_cli {

struct ServeGauges {
  uint64_t connections = 0;   ///< stream connections open, over every thread
  uint64_t buffers_lent = 0;  ///< pool buffers the workers hold (Loop::buffers_lent)
};

/// Open fds of this process (/proc/self/fd, without the directory's own fd);
/// -1 when /proc cannot be read.
int64_t count_open_fds() noexcept;
/// VmRSS of this process in KiB (/proc/self/status); -1 when unknown.
int64_t resident_kb() noexcept;
/// One line: "ringsock serve: connections N, fds N, rss_kb N, buffers_lent N".
void print_serve_gauges(FILE* out, const ServeGauges& gauges) noexcept;

}  // namespace ringsock_cli
