#include "sendv.hpp"

#include "assert.hpp"

namespace ringsock::detail {

static_assert(kMaxSendPieces >= 16 && kMaxSendPieces <= 1024, "Linux's UIO_MAXIOV is 1024");

bool advance_pieces(Operation& op, uint32_t sent) noexcept {
  auto& m = op.args.message;
  // The kernel never reports more than it was given.
  RINGSOCK_ASSERT(sent <= m.total_length - op.transferred);
  op.transferred += sent;
  size_t left = size_t(m.piece_offset) + sent;
  iovec* piece = m.header.msg_iov;
  size_t count = m.header.msg_iovlen;
  // Whole pieces that went out, and the empty ones after them.
  while (count > 0 && piece->iov_len <= left) {
    left -= piece->iov_len;
    ++piece;
    --count;
  }
  RINGSOCK_ASSERT(count > 0 || left == 0);
  m.header.msg_iov = piece;
  m.header.msg_iovlen = count;
  m.piece_offset = uint32_t(left);
  return op.transferred == m.total_length;
}

}  // namespace ringsock::detail
