// The levers of lever_server, one flag each; the defaults are the
// best-known configuration, so a measured variant flips one lever.
#pragma once

#include <cstdint>
#include <vector>

namespace levers {

enum class SendMode {
  kBatch,     // one send in flight per connection; what arrives meanwhile goes out together
  kPerChunk,  // one send in flight per connection, one send per received chunk
  kParallel,  // one send per received chunk at once, many in flight (order not guaranteed)
  kSkip,      // per loop turn one send per connection, MSG_DONTWAIT + CQE_SKIP_SUCCESS
  kBundle,    // one send in flight per connection, a send bundle straight from the receive buffers
};

enum class Setup { kNone, kCoop, kDefer };

struct Options {
  bool bundle = true;          // --bundle / --no-bundle
  bool incremental = false;    // --inc (turns bundles off)
  uint32_t buffer_size_bytes = 4096;  // --buffer-size N
  uint32_t buffer_count = 512;        // --buffers N (a power of two)
  SendMode send_mode = SendMode::kBatch;  // --batch-sends | --per-chunk-sends | --parallel-sends | --skip-success
  bool direct = false;         // --direct
  Setup setup = Setup::kDefer; // --setup none|coop|defer
  bool register_ring_fd = true;  // --no-reg-ring
  bool submit_each = false;    // --submit-each
  bool single_recv = false;    // --single-recv
  bool recv_after_send = false;  // --recv-after-send (implies single_recv)
  uint32_t busy_poll_us = 0;   // --busy-poll US
  uint32_t recv_delay_us = 0;  // --recv-delay US (with --recv-after-send)
  uint32_t min_wait_us = 0;    // --min-wait US
  uint32_t wait_nr = 32;       // --wait-nr N (with --min-wait)
  bool no_sqarray = false;     // --no-sqarray
};

// Takes the lever flags out of argv and returns what is left (program name,
// --mode and endpoints) for peer_parse_args. Bad lever flags: message and exit 2.
std::vector<char*> parse_levers(int argc, char** argv, Options* options);

// One line naming every lever's setting, for the log.
void print_levers(const Options& options);

}  // namespace levers
