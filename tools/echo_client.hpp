// The echo client of ringsock-echo: N connections on the caller's loop, each
// keeping M messages in flight, verifying every reply and timing it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "echo_common.hpp"
#include "ringsock/loop.hpp"

namespace echo {

struct ClientConfig {
  ringsock::Endpoint server;
  uint32_t connections = 8;
  uint32_t size = 64;
  uint32_t inflight = 1;
  uint64_t duration_ns = 0;
  uint64_t count = 0;  ///< 0 = no limit
};

struct ClientResult {
  uint64_t replies = 0;     ///< replies received while measuring (good or bad)
  uint64_t errors = 0;      ///< bad replies, failed operations, lost connections
  double seconds = 0;       ///< measuring time
};

class EchoClient {
 public:
  /// `loop` must be initialised, idle, and used on this thread only.
  EchoClient(ringsock::Loop& loop, const ClientConfig& config, LatencyHistogram& latency);
  ~EchoClient();
  EchoClient(const EchoClient&) = delete;
  EchoClient& operator=(const EchoClient&) = delete;

  /// Connects, measures until the duration or the count is reached, closes
  /// everything. Always bounded in time.
  ClientResult run();

 private:
  struct Conn;
  struct DatagramSlot;

  void allocate();
  void connect_all();
  void open_stream(Conn& conn);
  void open_datagram(Conn& conn);
  static void on_connected(ringsock::Loop&, ringsock::Operation& op,
                           const ringsock::Completion& c);
  void start_receiving(Conn& conn);
  void measure();
  void teardown();

  void issue(Conn& conn);
  void stage_stream(Conn& conn);
  void flush_stream(Conn& conn);
  static void on_stream_sent(ringsock::Loop&, ringsock::Operation& op,
                             const ringsock::Completion& c);
  void send_datagram(Conn& conn);
  static void on_datagram_sent(ringsock::Loop&, ringsock::Operation& op,
                               const ringsock::Completion& c);

  static void on_stream_recv(ringsock::Loop&, ringsock::Operation& op,
                             const ringsock::Completion& c);
  void assemble(Conn& conn, const uint8_t* data, uint32_t length);
  static void on_datagram_recv(ringsock::Loop&, ringsock::Operation& op,
                               const ringsock::Completion& c);
  void on_reply(Conn& conn, const uint8_t* message, uint32_t length);
  bool sequence_ok(Conn& conn, uint64_t sequence);
  void receive_ended(Conn& conn, int result);

  static void on_timer(ringsock::Loop&, ringsock::Operation& op, const ringsock::Completion& c);
  static void on_closed(ringsock::Loop&, ringsock::Operation& op, const ringsock::Completion& c);
  void finish();
  void fail(Conn& conn, const char* what, int result);
  void note_error(const char* what, uint32_t connection, int result);

  ringsock::Loop& loop_;
  ClientConfig config_;
  LatencyHistogram& latency_;
  MessageCodec codec_;
  bool stream_;

  // Fixed at allocate(): the message path never allocates.
  std::unique_ptr<Conn[]> conns_;
  std::unique_ptr<DatagramSlot[]> slots_;
  std::unique_ptr<uint32_t[]> free_ids_;  // per connection: a stack of free slot numbers
  std::vector<uint8_t> arena_;  // staging, assembly and datagram buffers

  ringsock::Operation timer_op_;
  uint32_t connecting_ = 0;
  uint32_t connected_ = 0;
  bool measuring_ = false;
  bool done_ = false;
  uint64_t issued_ = 0;
  uint64_t replies_ = 0;
  uint64_t errors_ = 0;
  uint64_t start_ns_ = 0;
  uint64_t end_ns_ = 0;
};

}  // namespace echo
