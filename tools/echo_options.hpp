// Command line of ringsock-echo.
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

#include "ringsock/endpoint.hpp"

namespace echo {

struct EchoOptions {
  std::vector<ringsock::Transport> transports;  ///< in the order given
  uint32_t connections = 8;
  uint32_t size = 64;
  uint32_t inflight = 1;
  uint64_t duration_ns = 3'000'000'000ull;
  uint64_t count = 0;  ///< 0 = no message limit (the duration still bounds the run)
  bool ipv6 = false;
};

enum class ParseOutcome { run, help, error };

/// Fills `options` from argv. On error, a message has gone to stderr (exit 2).
ParseOutcome parse_options(int argc, char** argv, EchoOptions& options);

void print_usage(FILE* out);

/// "tcp", "udp", "unix", "unix-dgram": the names --transport takes.
const char* transport_name(ringsock::Transport transport);

}  // namespace echo
