// Vectored sends: sendv (a stream send of several pieces) and sendtov (one
// datagram of several pieces, to an address).
//
// Nothing is copied together: the kernel gets the caller's iovec array as it
// is (sendmsg), and the array itself is never written. A short stream send
// keeps its place in the operation: header.msg_iov / msg_iovlen name the
// pieces not yet wholly sent, piece_offset the bytes of the first of them
// already out. While piece_offset is 0 the next start sends all pieces left
// with one sendmsg; otherwise it sends the rest of that one piece with a
// plain send, and the start after goes on with sendmsg from the next piece
// (two kernel calls where one would need the array rewritten or copied).
// Both backends and the core's direct UNIX datagram send use these helpers,
// so the continuation is one piece of code.
#pragma once

#include <sys/uio.h>

#include <climits>
#include <cstddef>
#include <cstdint>

#include "ringsock/operation.hpp"

namespace ringsock::detail {

/// Pieces one vectored send takes at most: the kernel's limit (UIO_MAXIOV).
/// More are refused with -EINVAL, never cut.
#ifdef IOV_MAX
inline constexpr size_t kMaxSendPieces = IOV_MAX;
#else
inline constexpr size_t kMaxSendPieces = 1024;
#endif

/// Checks the pieces of a vectored send: 0, or -EINVAL for no array, 0 or
/// more than kMaxSendPieces pieces, a piece with no base and a nonzero
/// length, or more than INT32_MAX bytes in all. `total` gets their bytes.
int check_pieces(const iovec* pieces, size_t count, uint32_t& total_bytes) noexcept;

/// Writes op.args.message for a sendv (peer nullptr) or sendtov from pieces
/// that check_pieces accepted.
void set_pieces(Operation& op, const iovec* pieces, size_t count, uint32_t total_bytes,
                const Endpoint* peer) noexcept;

/// A sendv sent `sent` more bytes: adds them to op.transferred and moves its
/// place past them. Returns whether every byte is out.
bool advance_pieces(Operation& op, uint32_t sent) noexcept;

/// Whether the next start of a sendv sends the rest of one piece (a plain
/// send of piece_rest / piece_rest_length) instead of sendmsg of the header.
inline bool in_piece(const Operation& op) noexcept {
  return op.args.message.piece_offset != 0;
}
inline const void* piece_rest(const Operation& op) noexcept {
  const iovec& piece = op.args.message.header.msg_iov[0];
  return static_cast<const uint8_t*>(piece.iov_base) + op.args.message.piece_offset;
}
inline size_t piece_rest_length(const Operation& op) noexcept {
  return op.args.message.header.msg_iov[0].iov_len - op.args.message.piece_offset;
}

}  // namespace ringsock::detail
