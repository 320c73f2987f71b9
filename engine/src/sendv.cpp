#include "sendv.hpp"

#include <cerrno>

#include "assert.hpp"

namespace ringsock::detail {

static_assert(kMaxSendPieces >= 16 && kMaxSendPieces <= 1024, "Linux's UIO_MAXIOV is 1024");

int check_pieces(const iovec* pieces, size_t count, uint32_t& total_bytes) noexcept {
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

// The whole msghdr is written: the kernel reads every field of it.
void set_pieces(Operation& op, const iovec* pieces, size_t count, uint32_t total_bytes,
                const Endpoint* peer) noexcept {
  auto& m = op.args.message;
  m = {};
  m.header.msg_name = peer ? const_cast<sockaddr*>(peer->address()) : nullptr;  // only read
  m.header.msg_namelen = peer ? peer->length : 0;
  m.header.msg_iov = const_cast<iovec*>(pieces);  // only read, by us and by the kernel
  m.header.msg_iovlen = count;
  m.piece_offset = 0;
  m.total_length = total_bytes;
}

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
