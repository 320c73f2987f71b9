#include "bench_common.hpp"

#include <liburing.h>

#include <cstring>

namespace bench {

void skip(benchmark::State& state, const char* what, int error) {
  std::string message = std::string(what) + ": " + strerror(-error);
  state.SkipWithError(message.c_str());  // copied by the library
}

std::string setup_label(unsigned setup_flags, bool registered_fd) {
  std::string label = "ring";
  if (setup_flags & IORING_SETUP_SUBMIT_ALL) label += "+submit_all";
  if (setup_flags & IORING_SETUP_SINGLE_ISSUER) label += "+single_issuer";
  if (setup_flags & IORING_SETUP_DEFER_TASKRUN) label += "+defer_taskrun";
  if (setup_flags & IORING_SETUP_COOP_TASKRUN) label += "+coop_taskrun";
  if (registered_fd) label += "+reg_ring_fd";
  return label;
}

void report(benchmark::State& state, int64_t ops_per_iteration) {
  state.SetItemsProcessed(int64_t(state.iterations()) * ops_per_iteration);
}

}  // namespace bench
