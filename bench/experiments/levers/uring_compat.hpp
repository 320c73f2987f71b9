// Kernel constants newer than the liburing 2.3 headers this project builds
// against. Values are the kernel's UAPI (include/uapi/linux/io_uring.h).
#pragma once

#include <liburing.h>

namespace levers {

// sqe->ioprio flag for recv/send: one completion covers several consecutive
// provided buffers (Linux 6.10).
inline constexpr unsigned kRecvSendBundle = 1u << 4;  // IORING_RECVSEND_BUNDLE
// io_uring_params.features bit saying the kernel knows bundles (6.10).
inline constexpr unsigned kFeatRecvSendBundle = 1u << 14;  // IORING_FEAT_RECVSEND_BUNDLE
// io_uring_buf_reg.flags (the `pad` field in 2.3's struct): the kernel
// consumes a provided buffer piece by piece instead of whole (6.12).
inline constexpr unsigned kPbufRingIncremental = 2;  // IOU_PBUF_RING_INC
// cqe->flags with an incremental ring: the buffer is not used up; the next
// completion continues in it.
inline constexpr unsigned kCqeBufMore = 1u << 4;  // IORING_CQE_F_BUF_MORE
// io_uring_params.features bit: io_uring_getevents_arg's `pad` is
// min_wait_usec, a wait for a batch that ends early once any CQE is there
// after that many microseconds (6.12).
inline constexpr unsigned kFeatMinTimeout = 1u << 15;  // IORING_FEAT_MIN_TIMEOUT
// io_uring_params.flags: the SQ ring has no index array; SQE i is slot i
// (6.6). One indirection less per SQE the kernel takes.
inline constexpr unsigned kSetupNoSqArray = 1u << 16;  // IORING_SETUP_NO_SQARRAY

}  // namespace levers
