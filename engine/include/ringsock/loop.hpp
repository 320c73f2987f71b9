// The loop: one per thread, owns one backend, runs operations and calls back.
//
// Every limit is fixed at init and all memory is taken then; after init no
// submit or completion path allocates. Callbacks never run inside a submit
// call or while the kernel's completion queue is being read: completions are
// collected first, then drained, so a callback may freely submit, cancel,
// close or stop.
//
// Caveats:
// - A loop is single-threaded: init, submit, run and deinit on the thread that
//   called init. Only wake() and post() may be called from another thread;
//   every other call from another thread is refused with -EPERM and changes
//   nothing.
// - An Operation must sit at an address aligned to alignof(Operation) (16);
//   a misaligned one is refused with -EINVAL by every call that takes it.
// - Results are negated errnos; nothing in the engine throws.
// - Operations still in flight at deinit() are dropped without callbacks;
//   close sockets and run(RunMode::until_done) first for a clean shutdown.
//   Posts are the exception: one not yet delivered gets its callback at
//   deinit, with -ECANCELED (see post()).
//   A close() still waiting for its fd's operations closes the fd at
//   deinit (its callback is dropped too), so no fd leaks behind a close; a
//   close that has closed its fd already only loses its callback.
#pragma once

#include <cstddef>
#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>

#include "ringsock/capabilities.hpp"
#include "ringsock/endpoint.hpp"
#include "ringsock/operation.hpp"

namespace ringsock {

namespace detail {
class LoopCore;
}

/// How long one run() call goes on.
enum class RunMode : uint8_t {
  once,        ///< wait for something to happen (a completion or a wake), dispatch what is ready,
               ///< return; may report 0 callbacks (a wake, or only the engine's own completions)
  no_wait,     ///< dispatch what is ready without waiting
  until_done,  ///< run until no operation is in flight, or stop() is called
};

/// Bytes at the start of each pool buffer that recvfrom_multishot gives to the
/// kernel's header and the sender's address: a datagram of up to
/// buffer_size - kRecvfromMultishotHeaderBytes arrives whole.
inline constexpr uint32_t kRecvfromMultishotHeaderBytes = 16 + sizeof(sockaddr_storage);

/// Which backend a loop runs on. The environment variable
/// RINGSOCK_BACKEND=uring|epoll|auto overrides this for any program.
enum class BackendChoice : uint8_t {
  automatic = 0,  ///< io_uring, falling back to epoll when it cannot be set up
  uring = 1,      ///< io_uring or an error (never a silent fallback)
  epoll = 2,      ///< epoll
};

/// Fixed capacities, taken at init.
struct LoopOptions {
  BackendChoice backend = BackendChoice::automatic;
  /// Submission queue entries (rounded up to a power of two by the kernel).
  uint32_t ring_entries = 256;
  /// Completion queue entries; 0 = 4 x ring_entries. Overflow loses nothing.
  uint32_t completion_entries = 0;
  /// Buffers in the pool that multishot receives draw from (power of two, 1..32768).
  uint32_t buffer_count = 512;
  /// Bytes per pool buffer (256 .. 1 MiB).
  uint32_t buffer_size = 4096;
  /// Highest fd number + 1 the loop accepts operations on; 0 = RLIMIT_NOFILE's
  /// soft limit, at most 65536. Accepted fds beyond it are closed and reported as -EMFILE.
  uint32_t max_fds = 0;
  /// epoll only: operations that may wait on a timer or deadline at once (the
  /// slots of its deadline heap); 0 = 2 x max_fds + 64. A submit past it gets
  /// -EAGAIN. io_uring keeps its timers in the kernel and has no such limit.
  uint32_t max_timers = 0;
  /// Bounded busy polling, for latency: before a run() blocks for completions
  /// it keeps checking for them (without sleeping) for up to this many
  /// microseconds, then blocks as usual. 0 = off (the default); at most
  /// 1,000,000. It spends a core while it polls.
  uint32_t busy_poll_us = 0;
  /// Pool buffers one fd's receives may hold lent at once; 0 = no cap (the
  /// default). When an fd holds this many, its multishot receive pauses (as
  /// on an empty pool) and resumes as they come back, so one client that
  /// keeps its buffers cannot empty the pool for every other. Stream
  /// receives on io_uring then take one buffer per arming (the engine
  /// re-arms them), at some CPU cost, and epoll's emulation reads no more
  /// than the fd has left: the cap is exact for streams. A receive started
  /// on an fd at its cap waits paused from the start. Datagram receives may
  /// take one batch past it (epoll: at most 15).
  uint32_t max_lent_per_fd = 0;
  /// Coalesced waits, for throughput: a run() that blocks sleeps on until
  /// batch_wait_count completions are ready or batch_wait_us microseconds
  /// have passed, then takes what is ready (if nothing is, the first
  /// completion ends the wait as usual). Fewer wake-ups for the thread, and
  /// for whoever completes its operations (a server on the same machine
  /// pays to wake a sleeping client), at the price of up to batch_wait_us of
  /// delay. A timer or deadline that expires ends the wait at once. 0 = off
  /// (the default); at most 1,000,000. io_uring on Linux 6.12 or later
  /// (Capabilities::min_timeout); elsewhere it is ignored.
  uint32_t batch_wait_us = 0;
  /// The batch that ends a coalesced wait early; 0 = as many as the
  /// completion queue holds (the time alone ends it). At most
  /// completion_entries.
  uint32_t batch_wait_count = 0;
  /// Zero-copy sends, for large messages: a send, sendto, sendv or sendtov
  /// of at least this many bytes goes out by io_uring's SEND_ZC (or
  /// SENDMSG_ZC), so the kernel sends from the caller's memory instead of
  /// copying it. The caller's buffer stays the kernel's until the
  /// operation's one terminal callback, which comes only after the kernel's
  /// notification that it let go of the buffer. When a notification says the
  /// kernel copied after all (loopback always does, and so do devices
  /// without scatter-gather), or a socket cannot do it (UNIX sockets), the
  /// loop stops asking for zero-copy on that fd until it is closed. 0 = off
  /// (the default). io_uring with Capabilities::send_zc (Linux 6.1; the
  /// copy report needs 6.2); elsewhere it is ignored and sends copy. Once
  /// every byte of such a send is queued, only the notification is left:
  /// cancel answers -EALREADY, and a close of its fd (which waits for every
  /// operation of the fd) aborts a stream's connection, as SO_LINGER {1, 0}
  /// would, since a peer that stops reading could hold the notification
  /// back for ever: the send ends -ECANCELED (op.transferred = the bytes it
  /// queued) before the close's callback.
  uint32_t zero_copy_min_bytes = 0;
  /// Direct descriptors, for servers of many connections: a table of this
  /// many slots is registered with io_uring at init, and accept and
  /// accept_multishot put each connection they accept into a free slot (a
  /// direct descriptor, io_uring's fixed file) instead of the process's fd
  /// table. Operations on it then neither look the fd up in that table nor
  /// take a reference on the socket's file. An accept returns a number at
  /// or above kDirectDescriptor (is_direct_descriptor): every call of this
  /// loop takes it, no system call does (an accepted socket inherits the
  /// listening socket's options: set them there). close() empties the slot, with the same rules as an
  /// fd's close; an empty slot is refused with -EBADF. When no slot is free
  /// (each connection holds one, and each accept in flight claims one), an
  /// accept ends with the fd limit's -EMFILE and the connection waits in
  /// the backlog; accept_multishot takes one connection per arming here.
  /// Sends on a direct descriptor always copy (zero_copy_min_bytes does not
  /// apply). 0 = off (the default); at most 65536, and at most
  /// RLIMIT_NOFILE's soft limit. io_uring on Linux 6.13 or later:
  /// Capabilities::direct_descriptors says how many slots the loop has, 0
  /// where the kernel is older or refused the table, or the loop runs on
  /// epoll, where accepts return fds as without this option.
  uint32_t direct_descriptors = 0;
};

/// Connections accepted into the loop's direct descriptors
/// (LoopOptions::direct_descriptors) are numbered from kDirectDescriptor up;
/// test a number with is_direct_descriptor, never compute one. The loop
/// takes no fd that large (max_fds is at most 2^24).
inline constexpr int kDirectDescriptor = 1 << 30;

/// Whether fd is a direct descriptor, which only the loop that accepted it takes.
inline constexpr bool is_direct_descriptor(int fd) noexcept { return fd >= kDirectDescriptor; }

/// Counters of the engine's slow paths, for tests, tuning and honest reports.
struct LoopStats {
  uint64_t buffer_pauses = 0;    ///< multishot receives paused on an empty buffer pool
  uint64_t rearms = 0;           ///< multishot operations the kernel ended and we re-armed
  uint64_t send_continuations = 0;  ///< short stream sends continued
  uint64_t receive_bundles = 0;  ///< io_uring receives that filled several pool buffers at once
  uint64_t sq_full_flushes = 0;  ///< submissions flushed early because the SQ was full
  uint64_t cq_overflow_flushes = 0;  ///< times the kernel's CQ overflow list was drained
  uint64_t busy_poll_hits = 0;    ///< waits that busy polling ended without blocking
  uint64_t busy_poll_misses = 0;  ///< waits whose busy-poll budget ran out: then they blocked
  uint64_t early_submits = 0;  ///< io_uring: submits inside a long batch of callbacks
  uint64_t fd_cap_pauses = 0;  ///< multishot receives paused at LoopOptions::max_lent_per_fd
  uint64_t ring_posts = 0;  ///< post_to()s sent by IORING_OP_MSG_RING (the others: the post box)
  uint64_t batch_waits = 0;  ///< blocking waits that coalesced (LoopOptions::batch_wait_us)
  uint64_t zero_copy_notifications = 0;  ///< SEND_ZC requests the kernel ran, each ended by its notification
  uint64_t zero_copy_copied = 0;   ///< of those that sent bytes, the ones whose notification said "copied"
  uint64_t zero_copy_refused = 0;  ///< SEND_ZCs the socket or kernel refused, sent again by copying
  uint64_t reads_waited = 0;  ///< epoll: receives that waited for data without a read first (a short TCP or UNIX stream read had emptied the socket)
  uint64_t unix_hangups = 0;  ///< io_uring: multishot receives on a UNIX stream whose peer hung up, armed one result at a time from then on
};

class Loop {
 public:
  Loop() noexcept = default;
  ~Loop() { release(); }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /// Sets up the backend and takes all memory. Returns 0 or -errno (-EINVAL for
  /// bad options, -EALREADY if initialised, -EBUSY from a callback of the
  /// posts a deinit() ends). On failure nothing is held.
  int init(const LoopOptions& options = {}) noexcept;
  /// Releases everything. Safe to call twice; the loop can be init()ed again.
  /// Called from a callback, it stops the loop and takes effect when run()
  /// returns. Operations in flight are dropped without callbacks and stay
  /// marked in flight: zero them (`op = Operation{}`) before reusing them.
  /// Returns 0, or -EPERM (and does nothing) from a thread that does not own
  /// the loop, or -EBUSY from a callback of the posts a deinit() ends (it is
  /// under way). (The destructor releases the loop whichever thread runs it.)
  int deinit() noexcept;
  bool initialized() const noexcept { return core_ != nullptr; }

  /// Runs the loop; returns the number of callbacks made, or -errno
  /// (-EBUSY when called from inside a callback, -EPERM from another thread).
  int run(RunMode mode) noexcept;
  /// Makes run() return after the current turn (called outside run(): after
  /// the next run's first turn). Loop thread only; other threads use wake().
  /// Returns 0, -EINVAL (not initialised) or -EPERM (another thread).
  int stop() noexcept;
  /// Wakes a run() that waits; thread-safe and async-signal-safe. Returns 0,
  /// -EINVAL (not initialised), -ESHUTDOWN (deinit() has begun) or -errno.
  /// Safe against a deinit() on the loop's thread, as post() is; the caller
  /// must make sure the Loop object itself outlives the call.
  int wake() noexcept;

  // Hand-off between loops. post() is the one call besides wake() that any
  // thread may make. Neither allocates: the queue's links live in `op`.

  /// From any thread: runs `callback` on this loop's thread, in its run(),
  /// with result 0 and `value` in op.post_value() (an fd, a pointer, a
  /// count). Exactly one callback per accepted post; one thread's post()s
  /// arrive in the order it made them. The caller keeps `op` alive and leaves it
  /// alone until then; from the callback on it is the loop's thread's.
  /// Returns 0, or (nothing done, no callback): -EINVAL no callback, `op`
  /// misaligned or with a deadline, or the loop not initialised (never, or
  /// deinit finished); -EBUSY `op` in flight; -ESHUTDOWN the loop is closing
  /// (deinit() has begun, or was asked for from a callback).
  /// Closing: a post accepted before deinit() began is never lost: if run()
  /// has not delivered it, deinit() calls it back with -ECANCELED (the value
  /// is still in op.post_value(), so the callback can release what it names);
  /// the loop is then closing and refuses every call. A destructor that runs
  /// on another thread cannot collect io_uring messages (post_to) still in
  /// the kernel: deinit() on the loop's thread.
  /// The caller must make sure the Loop object itself outlives the call.
  /// run(RunMode::until_done) does not wait for posts that have not arrived;
  /// a loop that serves posts runs with RunMode::once or keeps an operation
  /// in flight. A post cannot be cancelled (cancel() says -EALREADY).
  int post(Operation& op, uint64_t value, Callback callback, void* user_data = nullptr) noexcept;
  /// post() to `target` from this loop's thread (-EPERM from another): when
  /// both loops run on io_uring and the kernel has IORING_OP_MSG_RING, the
  /// message goes from this ring to the target's directly, with no eventfd
  /// write and no queue; otherwise, or when this loop's submission queue is
  /// full, it is target.post(). Results as post(), and -EINVAL when this
  /// loop is not initialised. Should the kernel fail the message (no memory,
  /// or the target's thread has exited), the callback comes on this loop
  /// instead, with that error: never lost.
  int post_to(Loop& target, Operation& op, uint64_t value, Callback callback,
              void* user_data = nullptr) noexcept;

  // Operations. Each returns 0 when queued (the callback will follow) or a
  // negated errno when refused, in which case nothing happened and no callback
  // will come: -EINVAL bad arguments (`op` misaligned too), -EPERM called from
  // a thread that does not own the loop, -EBUSY `op` is still in flight,
  // -EBADF fd out of range or being closed, -EOPNOTSUPP kernel cannot do it,
  // -EAGAIN no room right now (io_uring's SQ stayed full after flushing it;
  // epoll's deadline heap is full). Only a new submit is refused so: an
  // operation already in flight that the engine must start again (a
  // continued send, a re-armed multishot) waits its turn for SQ room, and on
  // epoll keeps its deadline slot between its two starts.

  /// Accepts one connection; result = the new fd (non-blocking, close-on-exec).
  /// `peer`, if given, receives the client's address and must outlive the operation.
  int accept(Operation& op, int listen_fd, Endpoint* peer, Callback callback,
             void* user_data = nullptr) noexcept;
  /// Accepts connections until cancelled or an error: one callback per fd.
  int accept_multishot(Operation& op, int listen_fd, Callback callback,
                       void* user_data = nullptr) noexcept;
  /// Connects a socket from open_socket(); `peer` must outlive the operation.
  int connect(Operation& op, int fd, const Endpoint& peer, Callback callback,
              void* user_data = nullptr) noexcept;
  /// Sends all `length` bytes (short sends are continued; datagrams go whole).
  /// Result = length, or -errno with op.transferred = the bytes that did go out.
  int send(Operation& op, int fd, const void* data, size_t length, Callback callback,
           void* user_data = nullptr) noexcept;
  /// One receive into the caller's buffer; result = bytes (0 = peer closed).
  int recv(Operation& op, int fd, void* data, size_t length, Callback callback,
           void* user_data = nullptr) noexcept;
  /// Receives into pool buffers until EOF, error or cancel; one callback per
  /// chunk with a lent buffer. An empty pool pauses it; it resumes as buffers return.
  /// For streams. On a datagram socket an empty datagram reads as result 0 and
  /// ends it like EOF: use recvfrom_multishot there.
  int recv_multishot(Operation& op, int fd, Callback callback, void* user_data = nullptr) noexcept;
  /// One datagram to `peer` (nullptr on a connected socket); must outlive the operation.
  /// A connected socket waits for room at the receiver; an unconnected UNIX
  /// datagram socket whose receiver stays full ends with -EAGAIN (poll cannot
  /// wait on another socket's queue).
  int sendto(Operation& op, int fd, const void* data, size_t length, const Endpoint* peer,
             Callback callback, void* user_data = nullptr) noexcept;
  /// send() of several pieces, in order, as one stream of bytes: nothing is
  /// copied together, and a short send goes on from where it stopped (the
  /// operation keeps its place; the caller's array is only read). `pieces`
  /// and the memory they name must outlive the operation. Pieces of length 0
  /// are allowed. Result = the bytes of all pieces, or -errno with
  /// op.transferred = the bytes that did go out. On a datagram socket the
  /// pieces go as one datagram. Refused with -EINVAL: no array, count 0 or
  /// above IOV_MAX (1024; never cut), a piece with no base and a nonzero
  /// length, more than INT32_MAX bytes in all.
  int sendv(Operation& op, int fd, const iovec* pieces, size_t count, Callback callback,
            void* user_data = nullptr) noexcept;
  /// sendto() of several pieces: one datagram made of them, to `peer`
  /// (nullptr on a connected socket), by sendmsg; the same checks as sendv.
  /// Result = bytes sent (-EMSGSIZE for a datagram too large for the socket).
  /// `pieces`, their memory and `peer` must outlive the operation.
  int sendtov(Operation& op, int fd, const iovec* pieces, size_t count, const Endpoint* peer,
              Callback callback, void* user_data = nullptr) noexcept;
  /// One datagram into the caller's buffer; `peer` (optional) receives the sender.
  int recvfrom(Operation& op, int fd, void* data, size_t length, Endpoint* peer,
               Callback callback, void* user_data = nullptr) noexcept;
  /// Datagrams into pool buffers, each with its sender in Completion::peer.
  int recvfrom_multishot(Operation& op, int fd, Callback callback,
                         void* user_data = nullptr) noexcept;
  /// shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR.
  int shutdown(Operation& op, int fd, int how, Callback callback,
               void* user_data = nullptr) noexcept;
  /// Cancel-safe close: cancels the fd's in-flight operations, waits for each
  /// one's terminal completion, then closes the fd and completes.
  int close(Operation& op, int fd, Callback callback, void* user_data = nullptr) noexcept;
  /// A timer: result 0 when it fires, -ECANCELED when cancelled.
  int timeout(Operation& op, uint64_t timeout_ns, Callback callback,
              void* user_data = nullptr) noexcept;
  /// Completes at once with result 0 on the next turn: a round trip through
  /// the loop (to yield, or to measure the engine's own cost).
  int nop(Operation& op, Callback callback, void* user_data = nullptr) noexcept;
  /// Asks an in-flight operation to end. It completes exactly once more with
  /// -ECANCELED or its real result. Returns 0, -ENOENT (not in flight) or
  /// -EALREADY (already ending, or a post); -EINVAL misaligned, -EPERM another thread.
  /// Never refused for want of room: a cancel that finds the SQ full waits
  /// its turn (so do the cancels a close sends).
  int cancel(Operation& op) noexcept;

  /// Gives a lent pool buffer back. Returns 0, -EINVAL (not lent, bad id) or
  /// -EPERM (another thread).
  int release_buffer(uint16_t buffer_id) noexcept;
  /// Bytes per pool buffer.
  uint32_t buffer_size() const noexcept;
  /// Pool buffers lent to the caller right now (handed to a callback and not
  /// yet given back by release_buffer()): a gauge for leak checks, 0 once
  /// every buffer came back. A plain read, not synchronised: call it on the
  /// loop's thread (another thread must get the value from there).
  uint32_t buffers_lent() const noexcept;

  /// User operations in flight (submitted and not yet terminally completed).
  uint32_t active() const noexcept;
  BackendKind backend() const noexcept;
  /// Why this backend was chosen, in words; after a failed init(), why it failed
  /// (for example "io_uring forced by RINGSOCK_BACKEND, but io_uring_setup: EPERM ...").
  const char* backend_reason() const noexcept { return reason_; }
  const Capabilities& capabilities() const noexcept;
  const LoopStats& stats() const noexcept;

 private:
  detail::LoopCore* core_ = nullptr;
  bool deinit_pending_ = false;  // deinit() was called from a callback
  bool releasing_ = false;       // release() is calling back the posts it ends
  /// Who may post: open while initialised, closing from deinit()'s start,
  /// and a count of posting threads inside (engine/src/post_gate.hpp).
  std::atomic<uint32_t> post_gate_{0};
  void release() noexcept;

  char reason_[192] = "loop not initialised";
};

}  // namespace ringsock
