// What the kernel's io_uring can do, found on a fresh ring at init.
#include <cerrno>

#include "backend/uring.hpp"

namespace ringsock::detail {

namespace {
// Opcodes every socket operation of the engine maps to.
constexpr int kRequiredOps[] = {
    IORING_OP_ACCEPT,   IORING_OP_CONNECT,     IORING_OP_SEND,         IORING_OP_RECV,
    IORING_OP_SENDMSG,  IORING_OP_RECVMSG,     IORING_OP_TIMEOUT,      IORING_OP_LINK_TIMEOUT,
    IORING_OP_ASYNC_CANCEL, IORING_OP_READ,    IORING_OP_CLOSE,        IORING_OP_SHUTDOWN,
};
// Feature bits newer than liburing 2.3's headers.
constexpr uint32_t kFeatRecvSendBundle = 1u << 14;  // 6.10
constexpr uint32_t kFeatMinTimeout = 1u << 15;      // 6.12
}  // namespace

int probe_uring(io_uring& ring, uint32_t features, Capabilities& caps) noexcept {
  caps.no_drop = features & IORING_FEAT_NODROP;
  caps.cqe_skip = features & IORING_FEAT_CQE_SKIP;
  caps.ext_arg = features & IORING_FEAT_EXT_ARG;
  caps.recv_bundle = features & kFeatRecvSendBundle;
  caps.min_timeout = features & kFeatMinTimeout;
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);  // allocates: init only
  if (probe == nullptr) return -EOPNOTSUPP;
  int rc = 0;
  for (int op : kRequiredOps) {
    if (!io_uring_opcode_supported(probe, op)) rc = -EOPNOTSUPP;
  }
  // SEND_ZC and multishot recv both arrived in 6.0; the probe sees only opcodes.
  caps.multishot_recv = io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
  // Zero-copy sends need SENDMSG_ZC too (6.1), which also leaves out 6.0's
  // first releases, where a notification could come before its result.
  caps.send_zc = caps.multishot_recv && io_uring_opcode_supported(probe, IORING_OP_SENDMSG_ZC);
  // Loop::post_to sends with CQE_SKIP_SUCCESS (5.17), older than MSG_RING (5.18).
  caps.msg_ring = io_uring_opcode_supported(probe, IORING_OP_MSG_RING) && caps.cqe_skip;
  io_uring_free_probe(probe);
  return rc;
}

}  // namespace ringsock::detail
