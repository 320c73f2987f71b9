#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace levers {
namespace {

void usage(FILE* out) {
  std::fputs(
      "usage: lever_server [--mode echo|sink] [levers] ENDPOINT...\n"
      "  raw liburing echo/sink server (TCP; UDP sink); every flag is one lever,\n"
      "  the defaults are the best-known configuration.\n"
      "  --bundle | --no-bundle     multishot recv with IORING_RECVSEND_BUNDLE (default on)\n"
      "  --inc                      incremental buffer consumption (IOU_PBUF_RING_INC); no bundles\n"
      "  --buffer-size N            bytes per provided buffer (default 4096)\n"
      "  --buffers N                provided buffers, a power of two (default 512)\n"
      "  --batch-sends              one send in flight per connection, the rest batched (default)\n"
      "  --per-chunk-sends          one send in flight per connection, one per received chunk\n"
      "  --parallel-sends           a send per chunk at once, many in flight\n"
      "  --skip-success             per turn one MSG_DONTWAIT send per connection, CQE_SKIP_SUCCESS\n"
      "  --send-bundle              one send in flight per connection: a send bundle (6.10) from a\n"
      "                             per-connection buffer ring holding the received buffers, no copy\n"
      "  --direct                   direct descriptors for accepted connections\n"
      "  --setup none|coop|defer    ring setup flags (default defer)\n"
      "  --no-reg-ring              do not register the ring fd\n"
      "  --submit-each              io_uring_submit after every SQE\n"
      "  --single-recv              re-armed single recv into a per-connection buffer\n"
      "  --recv-after-send          --single-recv, re-armed once the reply is sent (Asio's order;\n"
      "                             batched or per-chunk sends)\n"
      "  --busy-poll US             spin up to US microseconds for completions before blocking\n"
      "  --recv-delay US            with --recv-after-send: the recv goes in US microseconds after\n"
      "                             the reply is sent (the loop sleeps on a timeout meanwhile)\n"
      "  --min-wait US              each wait asks for --wait-nr CQEs (default 32) and returns\n"
      "                             after US microseconds with any there (kernel min_wait_usec, 6.12)\n"
      "  --no-sqarray               ring without the SQ index array (IORING_SETUP_NO_SQARRAY, 6.6)\n"
      "  Prints `ready` once listening; on SIGINT/SIGTERM prints the counters and exits 0.\n",
      out);
}

[[noreturn]] void bad(const char* what, const char* arg) {
  std::fprintf(stderr, "lever_server: %s '%s'\n", what, arg ? arg : "");
  usage(stderr);
  std::exit(2);
}

uint32_t number(const char* flag, const char* text) {
  if (text == nullptr || *text == '\0') bad("missing value for", flag);
  char* end = nullptr;
  unsigned long value = std::strtoul(text, &end, 10);
  if (*end != '\0' || value > 1u << 30) bad("bad number for", flag);
  return static_cast<uint32_t>(value);
}

}  // namespace

std::vector<char*> parse_levers(int argc, char** argv, Options* o) {
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!std::strcmp(a, "--help") || !std::strcmp(a, "-h")) {
      usage(stdout);
      std::exit(0);
    } else if (!std::strcmp(a, "--bundle")) {
      o->bundle = true;
    } else if (!std::strcmp(a, "--no-bundle")) {
      o->bundle = false;
    } else if (!std::strcmp(a, "--inc")) {
      o->incremental = true;
    } else if (!std::strcmp(a, "--buffer-size")) {
      o->buffer_size_bytes = number(a, next), ++i;
    } else if (!std::strcmp(a, "--buffers")) {
      o->buffer_count = number(a, next), ++i;
    } else if (!std::strcmp(a, "--batch-sends")) {
      o->send_mode = SendMode::kBatch;
    } else if (!std::strcmp(a, "--per-chunk-sends") || !std::strcmp(a, "--no-batch-sends")) {
      o->send_mode = SendMode::kPerChunk;
    } else if (!std::strcmp(a, "--parallel-sends")) {
      o->send_mode = SendMode::kParallel;
    } else if (!std::strcmp(a, "--skip-success")) {
      o->send_mode = SendMode::kSkip;
    } else if (!std::strcmp(a, "--send-bundle")) {
      o->send_mode = SendMode::kBundle;
    } else if (!std::strcmp(a, "--direct")) {
      o->direct = true;
    } else if (!std::strcmp(a, "--setup")) {
      if (next && !std::strcmp(next, "none")) o->setup = Setup::kNone;
      else if (next && !std::strcmp(next, "coop")) o->setup = Setup::kCoop;
      else if (next && !std::strcmp(next, "defer")) o->setup = Setup::kDefer;
      else bad("--setup takes none|coop|defer, not", next);
      ++i;
    } else if (!std::strcmp(a, "--no-reg-ring")) {
      o->register_ring_fd = false;
    } else if (!std::strcmp(a, "--submit-each")) {
      o->submit_each = true;
    } else if (!std::strcmp(a, "--single-recv")) {
      o->single_recv = true;
    } else if (!std::strcmp(a, "--recv-after-send")) {
      o->single_recv = o->recv_after_send = true;
    } else if (!std::strcmp(a, "--busy-poll")) {
      o->busy_poll_us = number(a, next), ++i;
    } else if (!std::strcmp(a, "--recv-delay")) {
      o->recv_delay_us = number(a, next), ++i;
    } else if (!std::strcmp(a, "--min-wait")) {
      o->min_wait_us = number(a, next), ++i;
    } else if (!std::strcmp(a, "--wait-nr")) {
      o->wait_nr = number(a, next), ++i;
    } else if (!std::strcmp(a, "--no-sqarray")) {
      o->no_sqarray = true;
    } else {
      rest.push_back(argv[i]);  // --mode, endpoints, or an error for peer_parse_args
    }
  }
  if (o->incremental) o->bundle = false;
  // One send in flight per connection is what tells when the reply is out.
  bool one_send = o->send_mode == SendMode::kBatch || o->send_mode == SendMode::kPerChunk;
  if (o->recv_after_send && !one_send) bad("--recv-after-send needs batched or per-chunk sends", "");
  if (o->recv_delay_us != 0 && !o->recv_after_send) bad("--recv-delay needs --recv-after-send", "");
  if (o->recv_delay_us > 1000000) bad("--recv-delay is at most 1000000 us", "");
  if (o->recv_delay_us != 0 && (o->min_wait_us != 0 || o->busy_poll_us != 0)) {
    bad("--recv-delay excludes --min-wait and --busy-poll", "");
  }
  if (o->send_mode == SendMode::kBundle && (o->single_recv || o->incremental || o->direct)) {
    bad("--send-bundle sends from the shared receive ring: not with --single-recv, --inc or --direct", "");
  }
  if (o->min_wait_us > 1000000) bad("--min-wait is at most 1000000 us", "");
  if (o->wait_nr == 0 || o->wait_nr > 4096) bad("--wait-nr must be 1-4096", "");
  if (o->min_wait_us != 0 && o->busy_poll_us != 0) bad("--min-wait and --busy-poll exclude each other", "");
  uint32_t n = o->buffer_count;
  if (n == 0 || n > 32768 || (n & (n - 1)) != 0) bad("--buffers must be a power of two <= 32768", "");
  if (o->buffer_size_bytes < 64) bad("--buffer-size must be at least", "64");
  rest.push_back(nullptr);
  return rest;
}

void print_levers(const Options& o) {
  static const char* kSend[] = {"batch", "per-chunk", "parallel", "skip-success", "bundle"};
  static const char* kSetup[] = {"none", "coop", "defer"};
  std::fprintf(stderr,
               "lever_server: bundle=%d inc=%d buffer_size=%u buffers=%u sends=%s direct=%d "
               "setup=%s reg_ring=%d submit_each=%d single_recv=%d recv_after_send=%d busy_poll_us=%u "
               "recv_delay_us=%u min_wait_us=%u wait_nr=%u no_sqarray=%d\n",
               o.bundle, o.incremental, o.buffer_size_bytes, o.buffer_count,
               kSend[static_cast<int>(o.send_mode)], o.direct, kSetup[static_cast<int>(o.setup)],
               o.register_ring_fd, o.submit_each, o.single_recv, o.recv_after_send, o.busy_poll_us,
               o.recv_delay_us, o.min_wait_us, o.wait_nr, o.no_sqarray);
}

}  // namespace levers
