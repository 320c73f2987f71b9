// `ringsock serve`: one loop per thread, each serving every endpoint it owns.
//
// Thread 0 serves every endpoint; threads 1..N-1 have their own TCP/UDP
// sockets on the same addresses (SO_REUSEPORT), UNIX ones stay with thread 0
// (the kernel refuses SO_REUSEPORT there). With --dispatch handoff, thread 0
// alone accepts on the stream endpoints (UNIX ones too) and hands each
// connection's fd to the threads in turn, itself included, by
// Loop::post_to; datagram endpoints stay shared as before. Every
// connection, queue and buffer comes from pools taken before the first byte
// moves.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "args.hpp"
#include "ringsock/loop.hpp"

namespace ringsock_cli {

enum ErrorKind : uint8_t {
  kErrAccept,
  kErrRecv,
  kErrSend,
  kErrClose,
  kErrNoSlot,     // no free connection / datagram slot
  kErrBacklog,    // a reply did not fit the connection's fixed buffer
  kErrProtocol,   // malformed sockperf message
  kErrTruncated,  // datagram larger than a pool buffer
  kErrorKinds,
};

const char* error_kind_name(int kind) noexcept;

struct Counters {
  uint64_t accepted = 0;
  uint64_t messages_in = 0;
  uint64_t bytes_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_out = 0;
  uint64_t errors[kErrorKinds] = {};

  void add(const Counters& other) noexcept;
};

class Worker {
 public:
  Worker(const ServeArgs& args, uint32_t index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Binds this worker's sockets on the calling thread (bind errors are known
  /// before any thread starts). `first`: thread 0's worker, whose bound
  /// addresses the others share (its real ephemeral ports); nullptr for thread 0.
  /// Returns 0 or -errno; `failed` = the endpoint index.
  int bind_all(const Worker* first, uint32_t& failed);
  /// --dispatch handoff: the workers thread 0 hands connections to, in turn
  /// (this one among them). Called on every worker before any starts.
  void set_peers(const std::vector<std::unique_ptr<Worker>>& workers);
  /// Starts the thread; returns once its loop runs (0) or failed (-errno, see reason()).
  int start();
  /// Wakes the loop and joins; safe to call from any thread but the worker's.
  void stop();

  const ringsock::Endpoint& bound(uint32_t i) const;
  bool serves(uint32_t i) const;
  const Counters& counters(uint32_t i) const;
  const char* reason() const { return reason_; }
  /// Errors that ended the loop early (run() failed).
  bool failed() const { return run_failed_; }
  /// Open connections and lent pool buffers as of the loop's last turn
  /// (published by the worker after each turn; read from any thread).
  uint32_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  uint32_t buffers_lent() const { return buffers_lent_.load(std::memory_order_relaxed); }
  /// --direct: the slots of the loop's table of direct descriptors (0 where
  /// the backend has none: epoll, or a kernel that refused it). Set at start().
  uint32_t direct_descriptors() const { return direct_descriptors_; }
  /// The loop's backend, set at start().
  ringsock::BackendKind backend() const { return backend_; }

  /// The loop and its pools (serve.cpp); public only so its helper structs can name it.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  const ServeArgs& args_;
  uint32_t index_;
  char reason_[256] = "";
  bool run_failed_ = false;
  uint32_t direct_descriptors_ = 0;
  ringsock::BackendKind backend_ = ringsock::BackendKind::none;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<uint32_t> open_connections_{0};
  std::atomic<uint32_t> buffers_lent_{0};
  // wake() from the main thread must not race the worker's deinit().
  std::mutex wake_mutex_;

  void thread_main(std::atomic<int>* ready);
};

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit.
uint64_t raise_fd_limit() noexcept;

/// The whole command: bind, serve until SIGINT/SIGTERM (SIGUSR1 prints the
/// gauges to stderr and serving goes on), print counters.
/// Returns the exit code (0, or 1 when it cannot bind or start).
int run_serve(const ServeArgs& args);

}  // namespace ringsock_cli
