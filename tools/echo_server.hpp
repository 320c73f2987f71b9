// The echo server of ringsock-echo: one thread, one ringsock::Loop.
//
// Streams: accept_multishot, then per connection a recv_multishot whose lent
// pool buffers are queued in arrival order and sent back one send at a time;
// each buffer goes back to the pool when its send completes. Datagrams:
// recvfrom_multishot, each datagram sent back with sendto to its sender from a
// slot that holds the buffer and a copy of the sender's address.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ringsock/loop.hpp"

namespace echo {

class EchoServer {
 public:
  EchoServer();
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  /// Creates and binds the socket on the calling thread, so that a bind
  /// failure is known before any thread starts. Returns 0 or -errno.
  int bind(const ringsock::Endpoint& requested);
  /// The bound address (ephemeral port filled in): where clients go.
  const ringsock::Endpoint& endpoint() const { return bound_; }

  /// Starts the server thread and returns once its loop runs: 0 or -errno
  /// (then `failure()` says which step failed).
  int start(uint32_t max_connections, const ringsock::LoopOptions& loop_options);
  /// Stops the thread after closing every socket; idempotent.
  void stop();

  /// Unexpected errors the server saw (valid after stop()).
  uint64_t errors() const { return errors_; }
  const char* failure() const { return failure_; }

 private:
  struct Chunk;
  struct StreamConn;
  struct DatagramSlot;

  void thread_main(uint32_t max_connections, ringsock::LoopOptions loop_options,
                   std::promise<int> ready);
  void allocate(uint32_t max_connections);
  int arm();
  void teardown();

  static void on_accept(ringsock::Loop&, ringsock::Operation& op, const ringsock::Completion& c);
  void adopt(int fd);
  static void on_stream_recv(ringsock::Loop&, ringsock::Operation& op,
                             const ringsock::Completion& c);
  void enqueue(StreamConn& conn, const ringsock::Completion& c);
  void send_front(StreamConn& conn);
  static void on_stream_sent(ringsock::Loop&, ringsock::Operation& op,
                             const ringsock::Completion& c);
  void begin_close(StreamConn& conn);
  static void on_stream_closed(ringsock::Loop&, ringsock::Operation& op,
                               const ringsock::Completion& c);

  static void on_datagram(ringsock::Loop&, ringsock::Operation& op, const ringsock::Completion& c);
  void echo_datagram(const ringsock::Completion& c);
  static void on_datagram_sent(ringsock::Loop&, ringsock::Operation& op,
                               const ringsock::Completion& c);
  static void on_socket_closed(ringsock::Loop&, ringsock::Operation& op,
                               const ringsock::Completion& c);

  void note_error(const char* what, int result);

  ringsock::Loop loop_;
  ringsock::Endpoint bound_;
  int fd_ = -1;  // listener or datagram socket
  bool stream_ = true;
  bool shutting_down_ = false;
  ringsock::Operation receive_op_;  // accept_multishot or recvfrom_multishot
  ringsock::Operation close_op_;

  // Fixed at allocate(): nothing on the echo path allocates.
  std::unique_ptr<StreamConn[]> conns_;
  uint32_t conn_count_ = 0;
  std::vector<uint32_t> free_conns_;  // reserved to capacity; push/pop never reallocate
  std::unique_ptr<Chunk[]> chunk_storage_;
  uint32_t queue_capacity_ = 0;       // pool buffers: a queue can never hold more
  std::unique_ptr<DatagramSlot[]> slots_;
  std::vector<uint32_t> free_slots_;
  uint32_t slot_count_ = 0;

  uint64_t errors_ = 0;
  const char* failure_ = "";

  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  // Loop::wake() from the main thread must not race the server thread's
  // deinit(): both happen under this lock.
  std::mutex wake_mutex_;
};

}  // namespace echo
