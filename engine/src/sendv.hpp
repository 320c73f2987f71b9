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

#include <cerrno>
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
/// Inline, as set_pieces: both run at every submit.
inline int check_pieces(const iovec* pieces, size_t count, uint32_t& total_bytes) noexcept {
  if (pieces == nullptr || count == 0 || count > kMaxSendPieces) return -EINVAL;
  uint64_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    if (pieces[i].iov_base == nullptr && pieces[i].iov_len != 0) return -EINVAL;
    // Checked piece by piece: the sum of 1024 size_t lengths could wrap.
    if (pieces[i].iov_len > size_t(INT32_MAX)) return -EINVAL;
    total += pieces[i].iov_len;
    if (total > uint64_t(INT32_MAX)) return -EINVAL;
  }
  total_bytes = uint32_t(total);
  return 0;
}

/// Writes op.args.message for a sendv (peer nullptr) or sendtov from pieces
/// that check_pieces accepted. The whole msghdr is written: the kernel reads
/// every field of it.
inline void set_pieces(Operation& op, const iovec* pieces, size_t count, uint32_t total_bytes,
                       const Endpoint* peer) noexcept {
  auto& m = op.args.message;
  m = {};
  m.header.msg_name = peer ? const_cast<sockaddr*>(peer->address()) : nullptr;  // only read
  m.header.msg_namelen = peer ? peer->length : 0;
  m.header.msg_iov = const_cast<iovec*>(pieces);  // only read, by us and by the kernel
  m.header.msg_iovlen = count;
  m.total_length = total_bytes;
}

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
