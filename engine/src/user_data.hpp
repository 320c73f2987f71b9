// What a completion's user_data names: an operation's address with a tag in
// its low bits (operations are 16-byte aligned). Only `operation`, `wake`
// (the backend's own mailbox operation), the post tags and `hangup` (whose
// operation waits for it before it may end) are ever dereferenced; the
// others may outlive the operation they mention and are read for their tag
// alone.
#pragma once

#include <cstdint>

#include "assert.hpp"
#include "ringsock/operation.hpp"

namespace ringsock::detail {

enum class Tag : uint64_t {
  operation = 0,     ///< the operation's own result
  link_timeout = 1,  ///< the linked deadline timer of an operation: ignored
  internal = 2,      ///< the engine's own requests (cancels): ignored
  wake = 3,          ///< the cross-thread wake reader; names the backend's mailbox
  post = 4,          ///< a post that came by IORING_OP_MSG_RING: the posted operation
  post_failed = 5,   ///< the sender's CQE of a MSG_RING the kernel failed (only then:
                     ///< CQE_SKIP_SUCCESS): the operation comes back to the sender
  hangup = 6,        ///< the hang-up watch of a multishot receive on a UNIX stream
                     ///< (unix_stream_recv.hpp): names the receive
};

static_assert(alignof(Operation) >= 16, "tags need the low 4 bits");
constexpr uint64_t kTagMask = 0xF;

inline uint64_t encode(const Operation* op, Tag tag) noexcept {
  RINGSOCK_ASSERT((reinterpret_cast<uintptr_t>(op) & kTagMask) == 0);  // storage as aligned as the type
  return reinterpret_cast<uintptr_t>(op) | static_cast<uint64_t>(tag);
}
inline Tag tag_of(uint64_t user_data) noexcept { return static_cast<Tag>(user_data & kTagMask); }
inline Operation* operation_of(uint64_t user_data) noexcept {
  return reinterpret_cast<Operation*>(static_cast<uintptr_t>(user_data & ~kTagMask));
}

}  // namespace ringsock::detail
