// The public Loop: checks every argument before touching the operation, so a
// refused call changes nothing, then hands the filled operation to the core
// (start_new: when the core is sure it starts, nothing is kept to undo).
#include "ringsock/loop.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "loop_core.hpp"
#include "post_gate.hpp"
#include "sendv.hpp"

namespace ringsock {

namespace {

const Capabilities kNoCapabilities{};
const LoopStats kNoStats{};

// An Operation at an address that is not a multiple of its alignment (one
// inside a caller's packed struct, or at offset 8 of an FFI buffer): its
// address cannot carry user_data's tag bits, so it is refused at every entry.
// Pointers, not references: no reference to a misaligned object is made
// (UBSan's alignment check would stop at one) before it is refused.
bool misaligned(const Operation* op) {
  return (reinterpret_cast<uintptr_t>(op) & (alignof(Operation) - 1)) != 0;
}

// The checks every operation shares. fd < 0 means "no fd" (timeouts).
int validate(detail::LoopCore* core, const Operation* op_address, OpKind kind, int fd,
             Callback cb) {
  if (core == nullptr || cb == nullptr || misaligned(op_address)) return -EINVAL;
  if (!core->on_owner_thread()) return -EPERM;
  const Operation& op = *op_address;
  if (op.in_flight()) return -EBUSY;
  // A close must not be cut short: it would leave the fd's fate unknown.
  bool deadline_ok = kind != OpKind::timeout && kind != OpKind::nop && kind != OpKind::close &&
                     !detail::is_multishot(kind);
  if (op.timeout_ns != 0 && !deadline_ok) return -EINVAL;
  bool needs_fd = kind != OpKind::timeout && kind != OpKind::nop;
  return needs_fd ? core->check_fd(fd) : 0;
}

// What a caller can read back from an idle operation. A submit refused after
// fill() (a full SQ, a full deadline heap) puts it back: the call changed nothing.
struct Visible {
  OpKind kind;
  int32_t fd;
  Callback callback;
  void* user_data;
  uint32_t transferred;
};

Visible visible(const Operation& op) {
  return Visible{op.kind, op.fd, op.callback, op.user_data, op.transferred};
}

void fill(detail::LoopCore& core, Operation& op, OpKind kind, int fd, Callback cb,
          void* user_data) {
  op.kind = kind;
  op.loop_tag = core.tag();
  op.fd = fd;
  op.callback = cb;
  op.user_data = user_data;
}

// start_new when the core is not sure the start succeeds (a deadline, a timer
// or close, a first send on an fd, a full SQ): what the caller can see is
// kept and put back if the core refuses. Out of line, so the common path
// keeps no copy and saves no registers for it.
template <class SetArgs>
[[gnu::noinline, gnu::cold]] int start_new_or_restore(detail::LoopCore& core, Operation& op,
                                                      OpKind kind, int fd, Callback cb,
                                                      void* user_data, SetArgs set_args) {
  Visible before = visible(op);
  fill(core, op, kind, fd, cb, user_data);
  set_args();
  int rc = core.submit(op);
  if (rc < 0) {
    op.kind = before.kind;
    op.fd = before.fd;
    op.callback = before.callback;
    op.user_data = before.user_data;
    op.transferred = before.transferred;
  }
  return rc;
}

// Writes and starts a new operation (set_args fills in its arguments). In the
// common case the core is sure it starts (reserve), so nothing is kept to undo.
template <class SetArgs>
RINGSOCK_HOT inline int start_new(detail::LoopCore& core, Operation& op, OpKind kind, int fd,
                                  Callback cb, void* user_data, SetArgs set_args) {
  if (__builtin_expect(!core.reserve(kind, fd, op.timeout_ns), 0)) {
    return start_new_or_restore(core, op, kind, fd, cb, user_data, set_args);
  }
  fill(core, op, kind, fd, cb, user_data);
  set_args();
  core.submit_reserved(op);
  return 0;
}

// sendto/recvfrom hand the kernel a whole msghdr: no stale field may remain.
void clear_message(Operation& op) { op.args.message = {}; }

bool length_ok(const void* data, size_t length) {
  return length <= size_t(INT32_MAX) && (data != nullptr || length == 0);
}

}  // namespace

int Loop::init(const LoopOptions& options) noexcept {
  if (core_ != nullptr) return -EALREADY;
  if (releasing_) return -EBUSY;  // a deinit is calling back its posts
  // aligned_alloc and placement new, not operator new: the C ABI links into
  // plain C programs without the C++ runtime. Not malloc: the core holds
  // 16-byte aligned operations (the backends' mailboxes, whose addresses carry
  // a tag in their low bits), and malloc gives only 8 on 32-bit targets.
  constexpr size_t kAlign = alignof(detail::LoopCore);
  constexpr size_t kSize = (sizeof(detail::LoopCore) + kAlign - 1) / kAlign * kAlign;
  void* memory = aligned_alloc(kAlign, kSize);
  if (memory == nullptr) return -ENOMEM;
  auto* core = new (memory) detail::LoopCore(*this);
  int rc = core->init(options);
  snprintf(reason_, sizeof(reason_), "%s", core->reason());
  if (rc < 0) {
    core->~LoopCore();
    free(memory);
    return rc;
  }
  core_ = core;
  detail::open_gate(post_gate_);
  return 0;
}

int Loop::deinit() noexcept {
  if (releasing_) return -EBUSY;  // called from one of the posts it ends
  if (core_ == nullptr) return 0;
  if (!core_->on_owner_thread()) return -EPERM;
  release();
  return 0;
}

// Posts are refused from the start of a deinit (even one asked for from a
// callback); those let in before are called back (LoopCore::end_posts) once
// the last poster has left the gate, with core_ already cleared so that
// every call from those callbacks is refused.
void Loop::release() noexcept {
  if (core_ == nullptr) return;
  detail::close_gate(post_gate_);
  if (core_->running()) {
    // Inside a callback: the loop is still on the stack. Finish when run() returns.
    deinit_pending_ = true;
    core_->stop();
    return;
  }
  deinit_pending_ = false;
  detail::wait_for_posters(post_gate_);
  detail::LoopCore* core = core_;
  core_ = nullptr;
  releasing_ = true;  // init() and deinit() from the callbacks below are refused
  core->end_posts();
  core->~LoopCore();
  free(core);
  detail::end_close(post_gate_);
  snprintf(reason_, sizeof(reason_), "loop not initialised");
  releasing_ = false;
}

int Loop::run(RunMode mode) noexcept {
  if (core_ == nullptr) return -EINVAL;
  if (!core_->on_owner_thread()) return -EPERM;
  int rc = core_->run(mode);
  if (deinit_pending_ && !core_->running()) release();
  return rc;
}

int Loop::stop() noexcept {
  if (core_ == nullptr) return -EINVAL;
  if (!core_->on_owner_thread()) return -EPERM;
  core_->stop();
  return 0;
}

// Through the post gate, as post(): a wake that races deinit() either finds
// the gate open and writes to a core that stays until it leaves, or is
// refused without reading core_. Two atomic adds: still async-signal-safe,
// and a handler that interrupts the loop's own deinit() is refused at once.
int Loop::wake() noexcept {
  int rc = detail::enter_gate(post_gate_);
  if (rc < 0) return rc;
  rc = core_->wake();
  detail::leave_gate(post_gate_);
  return rc;
}

int Loop::accept(Operation& op, int listen_fd, Endpoint* peer, Callback callback,
                 void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::accept, listen_fd, callback);
  if (rc < 0) return rc;
  return start_new(*core_, op, OpKind::accept, listen_fd, callback, user_data, [&] {
    op.args.accept.peer = peer;
  });
}

int Loop::accept_multishot(Operation& op, int listen_fd, Callback callback,
                           void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::accept_multishot, listen_fd, callback);
  if (rc < 0) return rc;
  return start_new(*core_, op, OpKind::accept_multishot, listen_fd, callback, user_data, [] {});
}

int Loop::connect(Operation& op, int fd, const Endpoint& peer, Callback callback,
                  void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::connect, fd, callback);
  if (rc < 0) return rc;
  if (peer.length == 0 || peer.length > sizeof(peer.storage)) return -EINVAL;
  return start_new(*core_, op, OpKind::connect, fd, callback, user_data, [&] {
    op.args.connect.peer = &peer;
  });
}

int Loop::send(Operation& op, int fd, const void* data, size_t length, Callback callback,
               void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::send, fd, callback);
  if (rc < 0) return rc;
  if (!length_ok(data, length)) return -EINVAL;
  return start_new(*core_, op, OpKind::send, fd, callback, user_data, [&] {
    clear_message(op);
    // Kept as a message: a send on a UNIX datagram socket goes out as sendmsg.
    op.args.message.vector = iovec{const_cast<void*>(data), length};  // only read
    op.args.message.header.msg_iov = &op.args.message.vector;
    op.args.message.header.msg_iovlen = 1;
  });
}

int Loop::recv(Operation& op, int fd, void* data, size_t length, Callback callback,
               void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::recv, fd, callback);
  if (rc < 0) return rc;
  if (!length_ok(data, length)) return -EINVAL;
  return start_new(*core_, op, OpKind::recv, fd, callback, user_data, [&] {
    op.args.io.data = data;
    op.args.io.length = uint32_t(length);
  });
}

int Loop::recv_multishot(Operation& op, int fd, Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::recv_multishot, fd, callback);
  if (rc < 0) return rc;
  return start_new(*core_, op, OpKind::recv_multishot, fd, callback, user_data, [] {});
}

int Loop::sendto(Operation& op, int fd, const void* data, size_t length, const Endpoint* peer,
                 Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::sendto, fd, callback);
  if (rc < 0) return rc;
  if (!length_ok(data, length)) return -EINVAL;
  if (peer != nullptr && (peer->length == 0 || peer->length > sizeof(peer->storage))) {
    return -EINVAL;
  }
  return start_new(*core_, op, OpKind::sendto, fd, callback, user_data, [&] {
    clear_message(op);
    msghdr& header = op.args.message.header;
    op.args.message.vector = iovec{const_cast<void*>(data), length};
    header.msg_name = peer ? const_cast<sockaddr*>(peer->address()) : nullptr;
    header.msg_namelen = peer ? peer->length : 0;
    header.msg_iov = &op.args.message.vector;
    header.msg_iovlen = 1;
  });
}

int Loop::sendv(Operation& op, int fd, const iovec* pieces, size_t count, Callback callback,
                void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::sendv, fd, callback);
  if (rc < 0) return rc;
  uint32_t total = 0;
  rc = detail::check_pieces(pieces, count, total);
  if (rc < 0) return rc;
  return start_new(*core_, op, OpKind::sendv, fd, callback, user_data, [&] {
    detail::set_pieces(op, pieces, count, total, nullptr);
  });
}

int Loop::sendtov(Operation& op, int fd, const iovec* pieces, size_t count, const Endpoint* peer,
                  Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::sendtov, fd, callback);
  if (rc < 0) return rc;
  uint32_t total = 0;
  rc = detail::check_pieces(pieces, count, total);
  if (rc < 0) return rc;
  if (peer != nullptr && (peer->length == 0 || peer->length > sizeof(peer->storage))) {
    return -EINVAL;
  }
  return start_new(*core_, op, OpKind::sendtov, fd, callback, user_data, [&] {
    detail::set_pieces(op, pieces, count, total, peer);
  });
}

int Loop::recvfrom(Operation& op, int fd, void* data, size_t length, Endpoint* peer,
                   Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::recvfrom, fd, callback);
  if (rc < 0) return rc;
  if (!length_ok(data, length)) return -EINVAL;
  return start_new(*core_, op, OpKind::recvfrom, fd, callback, user_data, [&] {
    clear_message(op);
    msghdr& header = op.args.message.header;
    op.args.message.vector = iovec{data, length};
    op.args.message.peer = peer;
    header.msg_name = peer ? peer->address() : nullptr;
    header.msg_namelen = peer ? sizeof(peer->storage) : 0;
    header.msg_iov = &op.args.message.vector;
    header.msg_iovlen = 1;
  });
}

int Loop::recvfrom_multishot(Operation& op, int fd, Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::recvfrom_multishot, fd, callback);
  if (rc < 0) return rc;
  return start_new(*core_, op, OpKind::recvfrom_multishot, fd, callback, user_data, [&] {
    clear_message(op);
    // No iovec: the kernel lays header, address and payload out in a pool buffer.
    op.args.message.header.msg_namelen = detail::kRecvMsgNameBytes;
  });
}

int Loop::shutdown(Operation& op, int fd, int how, Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::shutdown, fd, callback);
  if (rc < 0) return rc;
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return -EINVAL;
  return start_new(*core_, op, OpKind::shutdown, fd, callback, user_data, [&] {
    op.args.io.how = how;
  });
}

int Loop::close(Operation& op, int fd, Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::close, fd, callback);
  if (rc < 0) return rc;
  return start_new(*core_, op, OpKind::close, fd, callback, user_data, [] {});
}

int Loop::timeout(Operation& op, uint64_t timeout_ns, Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::timeout, -1, callback);
  if (rc < 0) return rc;
  return start_new(*core_, op, OpKind::timeout, -1, callback, user_data, [&] {
    op.args.timer.duration_ns = timeout_ns;
  });
}

int Loop::nop(Operation& op, Callback callback, void* user_data) noexcept {
  int rc = validate(core_, &op, OpKind::nop, -1, callback);
  if (rc < 0) return rc;
  return start_new(*core_, op, OpKind::nop, -1, callback, user_data, [] {});
}

int Loop::cancel(Operation& op) noexcept {
  if (core_ == nullptr || misaligned(&op)) return -EINVAL;
  if (!core_->on_owner_thread()) return -EPERM;
  return core_->cancel(op);
}

int Loop::release_buffer(uint16_t buffer_id) noexcept {
  if (core_ == nullptr) return -EINVAL;
  if (!core_->on_owner_thread()) return -EPERM;
  return core_->release_buffer(buffer_id);
}

uint32_t Loop::buffer_size() const noexcept { return core_ ? core_->buffer_size() : 0; }
uint32_t Loop::buffers_lent() const noexcept { return core_ ? core_->buffers_lent() : 0; }
uint32_t Loop::active() const noexcept { return core_ ? core_->active() : 0; }

BackendKind Loop::backend() const noexcept {
  return core_ ? core_->capabilities().backend : BackendKind::none;
}

const Capabilities& Loop::capabilities() const noexcept {
  return core_ ? core_->capabilities() : kNoCapabilities;
}

}  // namespace ringsock

namespace ringsock {
const LoopStats& Loop::stats() const noexcept { return core_ ? core_->stats() : kNoStats; }
}  // namespace ringsock
