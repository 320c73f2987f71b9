#include "ringsock/capabilities.hpp"

#include <cstdio>

namespace ringsock {

namespace {
const char* backend_name(BackendKind kind) {
  switch (kind) {
    case BackendKind::uring: return "io_uring";
    case BackendKind::epoll: return "epoll";
    case BackendKind::none: break;
  }
  return "none";
}
}  // namespace

int format_capabilities(const Capabilities& caps, char* out, unsigned capacity) noexcept {
  if (out == nullptr || capacity == 0) return 0;
  struct Flag {
    bool on;
    const char* name;
  };
  const Flag flags[] = {
      {caps.single_issuer, "single_issuer"},   {caps.defer_taskrun, "defer_taskrun"},
      {caps.coop_taskrun, "coop_taskrun"},     {caps.submit_all, "submit_all"},
      {caps.no_drop, "nodrop"},                {caps.registered_ring_fd, "registered_ring_fd"},
      {caps.buffer_ring, "buffer_ring"},       {caps.multishot_accept, "multishot_accept"},
      {caps.multishot_recv, "multishot_recv"}, {caps.recv_bundle, "recv_bundle"},
      {caps.send_zc, "send_zc"},               {caps.cqe_skip, "cqe_skip"},
      {caps.ext_arg, "ext_arg"},               {caps.msg_ring, "msg_ring"},
      {caps.min_timeout, "min_timeout"},
  };
  int used = caps.backend == BackendKind::uring
                 ? snprintf(out, capacity, "%s sq=%u cq=%u", backend_name(caps.backend),
                            caps.sq_entries, caps.cq_entries)
                 : snprintf(out, capacity, "%s", backend_name(caps.backend));
  for (const Flag& flag : flags) {
    if (!flag.on || used < 0 || unsigned(used) >= capacity) continue;
    used += snprintf(out + used, capacity - unsigned(used), " %s", flag.name);
  }
  if (caps.direct_descriptors != 0 && used >= 0 && unsigned(used) < capacity) {
    used += snprintf(out + used, capacity - unsigned(used), " direct=%u", caps.direct_descriptors);
  }
  if (used < 0) return 0;
  return unsigned(used) < capacity ? used : int(capacity - 1);
}

}  // namespace ringsock
