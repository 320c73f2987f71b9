// ChosenBackend: the backend a loop runs on, picked once at init from the
// ones built in (BackendChoice and RINGSOCK_BACKEND decide; the result is a
// BackendKind). Every call dispatches on that choice: one predictable branch,
// no virtual call. Each backend satisfies BackendContract (contract.hpp).
#pragma once

#include <cerrno>
#include <cstddef>

#include "backend/epoll.hpp"
#if RINGSOCK_HAVE_URING
#include "backend/uring.hpp"
#endif

namespace ringsock::detail {

class ChosenBackend {
 public:
  /// Picks the backend (LoopOptions::backend, overridden by RINGSOCK_BACKEND)
  /// and sets it up. Returns 0 or -errno; reason() says what happened either way.
  int init(const LoopOptions& options, BufferPool& pool, EventQueue& queue, Capabilities& caps,
           LoopStats& stats) noexcept;
  void deinit() noexcept;

  BackendKind kind() const noexcept { return kind_; }
  /// epoll reads buffers itself and bounds them by the per-fd cap; io_uring's
  /// capped receives take one buffer per arming and need no counts.
  void cap_lending(const FdTable& fds) noexcept {
    if (kind_ == BackendKind::epoll) epoll_.cap_lending(fds);
  }
  const char* reason() const noexcept { return reason_; }

#if RINGSOCK_HAVE_URING
#define RINGSOCK_DISPATCH(call) (kind_ == BackendKind::uring ? uring_.call : epoll_.call)
#else
#define RINGSOCK_DISPATCH(call) (epoll_.call)
#endif
  RINGSOCK_HOT int start(Operation& op) noexcept { return RINGSOCK_DISPATCH(start(op)); }
  RINGSOCK_HOT bool reserve(OpKind kind) const noexcept { return RINGSOCK_DISPATCH(reserve(kind)); }
  bool startable(OpKind kind) const noexcept { return RINGSOCK_DISPATCH(startable(kind)); }
  RINGSOCK_HOT void start_reserved(Operation& op) noexcept {
    RINGSOCK_DISPATCH(start_reserved(op));
  }
  RINGSOCK_HOT int restart(Operation& op) noexcept { return RINGSOCK_DISPATCH(restart(op)); }
  int cancel(Operation& op) noexcept { return RINGSOCK_DISPATCH(cancel(op)); }
  void arming_ended(Operation& op) noexcept { RINGSOCK_DISPATCH(arming_ended(op)); }
  bool ended(Operation& op) noexcept { return RINGSOCK_DISPATCH(ended(op)); }
  void forget(int fd) noexcept { RINGSOCK_DISPATCH(forget(fd)); }
  void adopt(int fd) noexcept { RINGSOCK_DISPATCH(adopt(fd)); }
  /// Direct descriptors exist on io_uring alone (LoopOptions::direct_descriptors).
  int close_direct(int fd) noexcept {
#if RINGSOCK_HAVE_URING
    if (kind_ == BackendKind::uring) return uring_.close_direct(fd);
#endif
    (void)fd;
    return -EBADF;
  }
  RINGSOCK_HOT int turn(EventQueue& queue, bool wait) noexcept {
    return RINGSOCK_DISPATCH(turn(queue, wait));
  }
  RINGSOCK_HOT bool next_event(EventQueue& queue, RawEvent& event) noexcept {
    return RINGSOCK_DISPATCH(next_event(queue, event));
  }
  RINGSOCK_HOT bool has_events(const EventQueue& queue) const noexcept {
    return RINGSOCK_DISPATCH(has_events(queue));
  }
  bool may_have_events() const noexcept { return RINGSOCK_DISPATCH(may_have_events()); }
  RINGSOCK_HOT void submit_early() noexcept { RINGSOCK_DISPATCH(submit_early()); }
  int wake() noexcept { return RINGSOCK_DISPATCH(wake()); }
  void take_final_events() noexcept { RINGSOCK_DISPATCH(take_final_events()); }
  void recycle_buffer(uint16_t id) noexcept { RINGSOCK_DISPATCH(recycle_buffer(id)); }
#undef RINGSOCK_DISPATCH
  /// The ring fd a MSG_RING post to this loop goes to; -1 on epoll, or on a
  /// kernel without MSG_RING.
  int post_ring_fd() const noexcept {
#if RINGSOCK_HAVE_URING
    return kind_ == BackendKind::uring ? uring_.post_ring_fd() : -1;
#else
    return -1;
#endif
  }
  /// Sends a filled post to the ring target_fd (UringBackend::send_post);
  /// -EAGAIN when it did not go (not io_uring, or no room): use the post box.
  int send_post(int target_fd, Operation& op) noexcept {
#if RINGSOCK_HAVE_URING
    if (kind_ == BackendKind::uring && uring_.post_ring_fd() >= 0) {
      return uring_.send_post(target_fd, op);
    }
#endif
    (void)target_fd;
    (void)op;
    return -EAGAIN;
  }
  /// Arms io_uring's hang-up watch of a multishot receive about to start
  /// (UringBackend::watch_hangup); false on epoll, which needs none.
  bool watch_hangup(Operation& op) noexcept {
#if RINGSOCK_HAVE_URING
    if (kind_ == BackendKind::uring) return uring_.watch_hangup(op);
#endif
    (void)op;
    return false;
  }
  void watch_ended(Operation& op) noexcept {
#if RINGSOCK_HAVE_URING
    if (kind_ == BackendKind::uring) uring_.watch_ended(op);
#endif
    (void)op;
  }
  /// Only io_uring makes receive bundles (results longer than one buffer).
  uint16_t bundle_buffer(uint16_t first, uint32_t index) const noexcept {
#if RINGSOCK_HAVE_URING
    return uring_.bundle_buffer(first, index);
#else
    (void)index;
    return first;
#endif
  }

 private:
  int init_epoll(const LoopOptions& options, BufferPool& pool, EventQueue& queue,
                 Capabilities& caps, LoopStats& stats, const char* why) noexcept;

  BackendKind kind_ = BackendKind::none;
  // Until init picks a backend: the options or the memory failed before that.
  char reason_[192] = "no backend started: LoopOptions out of range, or no memory";
#if RINGSOCK_HAVE_URING
  UringBackend uring_;
#endif
  EpollBackend epoll_;
};

}  // namespace ringsock::detail
