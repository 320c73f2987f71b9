// Made-up but plausible results for the report's tests: the same seeds give
// the same numbers, so every page these make is the same page.
#pragma once

#include <cstdint>
#include <string>

#include "logic/report_model.hpp"

namespace ringsock::tool::examples {

struct RunShape {
  std::string label = "uring";
  std::string mode = "pingpong";  // pingpong, rate (open loop), churn
  std::string backend = "uring";
  std::uint64_t seed = 1;
  int seconds = 10;
  double median_us = 40;      // the typical reply
  double rate_per_s = 20000;  // replies per second
  int stall_second = -1;      // a second where the server stalls (open loop: corrected grows)
};

// One result with a whole-run spectrum, per-interval latency, throughput,
// errors (a few ECONNRESET and timeouts) and, for churn, connections open.
ReportSeries make_run(const RunShape& shape);

}  // namespace ringsock::tool::examples
