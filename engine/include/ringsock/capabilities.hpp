// What the running kernel offered when a loop started, found by probing.
#pragma once

#include <cstdint>

namespace ringsock {

/// The backend a loop runs on.
enum class BackendKind : uint8_t { none = 0, uring = 1, epoll = 2 };

/// Kernel features found at loop init. The engine uses the best available and
/// degrades feature by feature; these say which path it took.
struct Capabilities {
  BackendKind backend = BackendKind::none;
  uint32_t sq_entries = 0;
  uint32_t cq_entries = 0;
  bool single_issuer = false;       ///< IORING_SETUP_SINGLE_ISSUER
  bool defer_taskrun = false;       ///< IORING_SETUP_DEFER_TASKRUN
  bool coop_taskrun = false;        ///< IORING_SETUP_COOP_TASKRUN
  bool submit_all = false;          ///< IORING_SETUP_SUBMIT_ALL
  bool no_drop = false;             ///< IORING_FEAT_NODROP: CQ overflow keeps completions
  bool registered_ring_fd = false;  ///< io_uring_register_ring_fd succeeded
  bool buffer_ring = false;         ///< provided buffer ring registered
  bool multishot_accept = false;    ///< IORING_ACCEPT_MULTISHOT (else emulated by re-arming)
  bool multishot_recv = false;      ///< IORING_RECV_MULTISHOT (else emulated by re-arming)
  bool recv_bundle = false;         ///< IORING_FEAT_RECVSEND_BUNDLE (6.10)
  bool send_zc = false;             ///< IORING_OP_SEND_ZC and SENDMSG_ZC (Linux 6.1)
  bool cqe_skip = false;            ///< IORING_FEAT_CQE_SKIP
  bool ext_arg = false;             ///< IORING_FEAT_EXT_ARG
  bool msg_ring = false;            ///< IORING_OP_MSG_RING: Loop::post_to between io_uring loops
  bool min_timeout = false;  ///< IORING_FEAT_MIN_TIMEOUT (6.12): LoopOptions::batch_wait_us works
  uint32_t direct_descriptors = 0;  ///< slots of the registered file table (LoopOptions::direct_descriptors)
};

/// Writes a one-line, human-readable list of the capabilities into `out`
/// (NUL-terminated, cut to fit). Returns the length written.
int format_capabilities(const Capabilities& caps, char* out, unsigned capacity) noexcept;

}  // namespace ringsock
