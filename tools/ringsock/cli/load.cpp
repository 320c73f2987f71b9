// The load generator's connections and loop; the report is in load_report.cpp.
#include "load.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <vector>

#include "logic/assertion.hpp"
#include "ringsock/socket.hpp"
#include "serve.hpp"

namespace ringsock_cli {

namespace {

using ringsock::Completion;
using ringsock::Loop;
using ringsock::Operation;
namespace tool = ringsock::tool;

constexpr uint64_t kTickNs = 100'000'000;        // deadlines, progress, datagram loss
constexpr uint64_t kDrainNs = 2'000'000'000;     // wait for replies after the last send
constexpr uint64_t kConnectTimeoutNs = 5'000'000'000;
constexpr uint64_t kDatagramLossNs = 500'000'000;  // no reply for this long: given up
constexpr size_t kStreamReceive = 65536;
constexpr size_t kThroughputBatch = 65536;
}  // namespace

// Not an errno: the server closed a stream with replies outstanding.
constexpr int kClosedByServer = -(1 << 20);

namespace {

uint64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ULL + uint64_t(ts.tv_nsec);
}

double cpu_seconds() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Runner;

struct Conn {
  Conn(Runner& owner, uint32_t index, size_t send_bytes, size_t recv_bytes, uint32_t max_message,
       uint32_t inflight)
      : runner(&owner),
        id(index),
        send_buffer(new uint8_t[send_bytes]),
        send_capacity(send_bytes),
        recv_buffer(new uint8_t[recv_bytes]),
        recv_capacity(recv_bytes),
        intended(new uint64_t[inflight]),
        assembler(max_message),
        rng(0) {}

  Runner* runner;
  uint32_t id;
  int fd = -1;
  bool alive = false;
  bool ready = false;
  Operation connect_op{};
  Operation send_op{};
  Operation recv_op{};
  Operation timer_op{};
  Operation close_op{};
  std::unique_ptr<uint8_t[]> send_buffer;
  size_t send_capacity;
  std::unique_ptr<uint8_t[]> recv_buffer;
  size_t recv_capacity;
  std::unique_ptr<uint64_t[]> intended;  // by sequence % inflight: the intended send time
  tool::StreamAssembler assembler;
  tool::DatagramTracker tracker;
  tool::Rng rng;
  std::optional<tool::Pacer> pacer;
  uint64_t next_sequence = 0;
  uint64_t recv_sequence = 0;
  uint32_t outstanding = 0;
  uint64_t last_reply_ns = 0;
};

struct Runner {
  explicit Runner(const LoadArgs& a) : args(a), stream(a.endpoint.is_stream()) {}

  const LoadArgs& args;
  bool stream;
  Loop loop;
  std::vector<std::unique_ptr<Conn>> conns;
  tool::LatencyPair latency;
  LoadStats stats;
  Operation tick_op{};
  uint64_t start_ns = 0;
  uint64_t measure_start = 0;
  uint64_t send_end = 0;       // duration mode: no sends after this
  uint64_t drain_deadline = 0;
  uint64_t finish_ns = 0;
  uint64_t next_progress = 0;
  uint64_t outstanding = 0;    // replies awaited, all connections
  uint32_t sends_in_flight = 0;
  uint32_t alive = 0;
  bool sending_done = false;
  bool finished = false;
  bool progress = false;
};

void record_error(Runner& r, int negated) {
  ++r.stats.errors[classify_load_error(negated)];
  if (r.stats.first_error == 0) r.stats.first_error = negated;
}

void on_closed(Loop&, Operation&, const Completion&) {}

void kill_conn(Conn& c) {
  if (!c.alive) return;
  Runner& r = *c.runner;
  c.alive = false;
  r.outstanding -= c.outstanding;
  c.outstanding = 0;
  --r.alive;
  if (r.alive == 0) r.finished = true;
  if (r.loop.close(c.close_op, c.fd, on_closed, &c) == 0) c.fd = -1;
}

void fail_conn(Conn& c, int negated) {
  if (!c.alive) return;
  record_error(*c.runner, negated);
  kill_conn(c);
}

void stop_sending(Runner& r, uint64_t now) {
  if (r.sending_done) return;
  r.sending_done = true;
  r.drain_deadline = now + kDrainNs;
}

bool drained(const Runner& r) {
  if (r.args.mode == LoadMode::throughput) return r.sends_in_flight == 0;
  return r.outstanding == 0;
}

void maybe_finish(Runner& r) {
  if (r.sending_done && drained(r)) r.finished = true;
}

// Messages this connection may send now (0 when it must wait).
uint64_t send_allowance(Runner& r, Conn& c, uint64_t now) {
  uint64_t allowed = 0;
  if (r.args.mode == LoadMode::throughput) {
    allowed = r.stream ? std::max<size_t>(1, kThroughputBatch / r.args.size_max) : 1;
  } else {
    allowed = r.args.inflight - c.outstanding;
  }
  // Rate mode: nothing before the next intended time (encode_batch stops at
  // the first slot still in the future).
  if (r.args.mode == LoadMode::rate && c.pacer->peek() > now) allowed = 0;
  if (!r.stream) allowed = std::min<uint64_t>(allowed, 1);
  if (r.args.count != 0 && now >= r.measure_start) {
    allowed = std::min<uint64_t>(allowed, r.args.count - r.stats.sent);
  }
  return allowed;
}

uint32_t pick_size(Runner& r, Conn& c) {
  uint32_t span = r.args.size_max - r.args.size_min;
  if (span == 0) return r.args.size_min;
  return r.args.size_min + uint32_t(c.rng.next() % (uint64_t(span) + 1));
}

// Encodes up to `allowed` messages into the send buffer; returns the bytes.
size_t encode_batch(Runner& r, Conn& c, uint64_t allowed, uint64_t now) {
  size_t used = 0;
  const bool measured = now >= r.measure_start;
  for (uint64_t i = 0; i < allowed; ++i) {
    if (r.args.mode == LoadMode::rate && c.pacer->peek() > now) break;
    uint32_t size = pick_size(r, c);
    if (used + size > c.send_capacity) break;
    tool::MessageHeader header;
    header.sequence = c.next_sequence++;
    header.connection = c.id;
    header.length = size;
    header.send_ns = now;
    tool::encode(header, c.send_buffer.get() + used, c.send_capacity - used, r.args.seed);
    c.intended[header.sequence % r.args.inflight] =
        r.args.mode == LoadMode::rate ? c.pacer->next() : now;
    used += size;
    ++r.stats.sent_all;
    if (r.args.mode != LoadMode::throughput) {
      ++c.outstanding;
      ++r.outstanding;
    }
    if (measured) {
      ++r.stats.sent;
      r.stats.bytes_sent += size;
    }
  }
  return used;
}

void on_sent(Loop& loop, Operation& op, const Completion& done);
void on_timer(Loop& loop, Operation& op, const Completion& done);

void arm_pacing_timer(Runner& r, Conn& c, uint64_t now) {
  if (c.timer_op.in_flight() || c.outstanding >= r.args.inflight) return;
  uint64_t due = c.pacer->peek();
  uint64_t wait = due > now ? due - now : 1;
  if (int rc = r.loop.timeout(c.timer_op, wait, on_timer, &c); rc < 0) fail_conn(c, rc);
}

void pump(Conn& c) {
  Runner& r = *c.runner;
  if (!c.alive || !c.ready || r.sending_done || c.send_op.in_flight()) return;
  uint64_t now = now_ns();
  if (r.send_end != 0 && now >= r.send_end) return stop_sending(r, now);
  if (r.args.count != 0 && now >= r.measure_start && r.stats.sent >= r.args.count) {
    return stop_sending(r, now);
  }
  uint64_t allowed = send_allowance(r, c, now);
  size_t bytes = allowed == 0 ? 0 : encode_batch(r, c, allowed, now);
  if (bytes == 0) {
    if (r.args.mode == LoadMode::rate) arm_pacing_timer(r, c, now);
    return;
  }
  if (int rc = r.loop.send(c.send_op, c.fd, c.send_buffer.get(), bytes, on_sent, &c); rc < 0) {
    return fail_conn(c, rc);
  }
  ++r.sends_in_flight;
}

void on_sent(Loop&, Operation& op, const Completion& done) {
  Conn& c = *static_cast<Conn*>(op.user_data);
  Runner& r = *c.runner;
  --r.sends_in_flight;
  if (done.result < 0) return fail_conn(c, done.result);
  if (!r.stream && r.args.mode == LoadMode::throughput && c.alive && r.stats.established == 0) {
    ++r.stats.established;  // a sink never answers: a datagram that went out counts
  }
  pump(c);
  maybe_finish(r);
}

void on_timer(Loop&, Operation& op, const Completion& done) {
  if (done.result < 0) return;
  pump(*static_cast<Conn*>(op.user_data));
}

void count_failure(Runner& r, tool::Verdict verdict) {
  ++r.stats.verify_failures;
  ++r.stats.verdicts[int(verdict) % kVerdicts];
}

// A datagram seen before (or too old to tell) is not a reply: false.
bool track_datagram(Runner& r, Conn& c, uint64_t sequence) {
  switch (c.tracker.on_receive(sequence)) {
    case tool::DatagramTracker::Event::in_order: return true;
    case tool::DatagramTracker::Event::gap: ++r.stats.gaps; return true;
    case tool::DatagramTracker::Event::reordered: ++r.stats.reordered; return true;
    case tool::DatagramTracker::Event::duplicate:
    case tool::DatagramTracker::Event::too_old: ++r.stats.duplicates; return false;
  }
  return false;
}

void handle_reply(Conn& c, std::span<const uint8_t> message) {
  Runner& r = *c.runner;
  uint64_t now = now_ns();
  std::optional<uint64_t> expected;
  if (r.stream) expected = c.recv_sequence++;
  tool::Verification v = tool::verify(message.data(), message.size(), c.id, expected, r.args.seed);
  if (v.ok() && !r.stream && !track_datagram(r, c, v.header.sequence)) return;
  if (r.stats.established == 0) ++r.stats.established;
  ++r.stats.replied_all;
  c.last_reply_ns = now;
  if (c.outstanding > 0) {
    --c.outstanding;
    --r.outstanding;
  }
  if (!v.ok()) return count_failure(r, v.verdict);
  if (v.header.send_ns < r.measure_start) return;
  ++r.stats.received;
  r.stats.bytes_received += message.size();
  r.latency.record(c.intended[v.header.sequence % r.args.inflight], v.header.send_ns, now);
}

void on_received(Loop& loop, Operation& op, const Completion& done);

void post_receive(Conn& c) {
  int rc = c.runner->loop.recv(c.recv_op, c.fd, c.recv_buffer.get(), c.recv_capacity, on_received, &c);
  if (rc < 0) fail_conn(c, rc);
}

void on_received(Loop&, Operation& op, const Completion& done) {
  Conn& c = *static_cast<Conn*>(op.user_data);
  Runner& r = *c.runner;
  if (!c.alive) return;
  if (done.result < 0) return fail_conn(c, done.result);
  if (done.result == 0 && r.stream) {
    if (c.outstanding > 0 || !r.sending_done) record_error(r, kClosedByServer);
    return kill_conn(c);
  }
  std::span<const uint8_t> data(c.recv_buffer.get(), size_t(done.result));
  if (r.args.mode == LoadMode::throughput) {
    // A sink sends nothing back; an echo's bytes are read and dropped.
  } else if (r.stream) {
    auto status = c.assembler.feed(data, [&c](std::span<const uint8_t> m) { handle_reply(c, m); });
    if (status != tool::StreamAssembler::Status::ok) {
      count_failure(r, status == tool::StreamAssembler::Status::bad_magic
                           ? tool::Verdict::bad_magic
                           : tool::Verdict::wrong_length);
      return kill_conn(c);
    }
  } else {
    handle_reply(c, data);
  }
  post_receive(c);
  pump(c);
  maybe_finish(r);
}

void start_conn(Conn& c) {
  c.ready = true;
  c.last_reply_ns = now_ns();
  if (c.runner->stream) ++c.runner->stats.established;
  post_receive(c);
  pump(c);
}

void on_connected(Loop&, Operation& op, const Completion& done) {
  Conn& c = *static_cast<Conn*>(op.user_data);
  if (done.result < 0) return fail_conn(c, done.result);
  start_conn(c);
}

void open_conn(Runner& r, Conn& c) {
  const ringsock::Endpoint& ep = r.args.endpoint;
  int fd = r.stream ? ringsock::open_socket(ep) : ringsock::connect_datagram(ep);
  if (fd < 0) return record_error(r, fd);
  c.fd = fd;
  c.alive = true;
  ++r.alive;
  if (!r.stream) return start_conn(c);
  if (r.args.nodelay && ep.transport == ringsock::Transport::tcp) ringsock::set_nodelay(fd, true);
  c.connect_op.timeout_ns = kConnectTimeoutNs;
  if (int rc = r.loop.connect(c.connect_op, fd, ep, on_connected, &c); rc < 0) fail_conn(c, rc);
}

// Datagrams that never came back: give up on them so that the window moves on.
void expire_datagrams(Runner& r, uint64_t now) {
  if (r.stream || r.args.mode == LoadMode::throughput) return;
  for (auto& c : r.conns) {
    if (!c->alive || c->outstanding == 0 || now - c->last_reply_ns < kDatagramLossNs) continue;
    r.outstanding -= c->outstanding;
    c->outstanding = 0;
    c->last_reply_ns = now;
    pump(*c);
  }
}

void print_progress(Runner& r, uint64_t now) {
  double seconds = double(now - r.start_ns) / 1e9;
  double p99 = double(r.latency.corrected.value_at_percentile(99)) / 1000.0;
  uint64_t errors = r.stats.verify_failures;
  for (uint64_t e : r.stats.errors) errors += e;
  fprintf(stderr, "\r[%5.1fs] sent %llu, replies %llu, p99 %.1f us, errors %llu   ", seconds,
          (unsigned long long)r.stats.sent_all, (unsigned long long)r.stats.replied_all, p99,
          (unsigned long long)errors);
  fflush(stderr);
}

// The drain deadline passed: replies still missing on streams are timeouts
// (on datagrams they already count as loss).
void give_up_waiting(Runner& r) {
  if (r.stream && r.args.mode != LoadMode::throughput) {
    r.stats.errors[kLoadTimeout] += r.outstanding;
  }
  r.finished = true;
}

void on_tick(Loop& loop, Operation& op, const Completion&) {
  Runner& r = *static_cast<Runner*>(op.user_data);
  uint64_t now = now_ns();
  if (r.send_end != 0 && now >= r.send_end) stop_sending(r, now);
  if (r.sending_done && drained(r)) r.finished = true;
  if (r.sending_done && !r.finished && now >= r.drain_deadline) give_up_waiting(r);
  expire_datagrams(r, now);
  if (r.progress && now >= r.next_progress) {
    print_progress(r, now);
    r.next_progress = now + 1'000'000'000ULL;
  }
  if (r.finished) return;
  if (int rc = loop.timeout(r.tick_op, kTickNs, on_tick, &r); rc < 0) r.finished = true;
}

int init_loop(Runner& r) {
  ringsock::LoopOptions options;
  options.backend = r.args.backend;
  options.buffer_count = 8;
  options.ring_entries = 1024;
  int rc = r.loop.init(options);
  if (rc < 0) fprintf(stderr, "ringsock load: no backend: %s\n", r.loop.backend_reason());
  return rc;
}

void make_conns(Runner& r) {
  const LoadArgs& a = r.args;
  size_t send_bytes = size_t(a.size_max) * a.inflight;
  if (a.mode == LoadMode::throughput) send_bytes = std::max<size_t>(kThroughputBatch, a.size_max);
  size_t recv_bytes = r.stream ? kStreamReceive : size_t(a.size_max) + 64;
  tool::PacingConfig pacing;
  pacing.total_rate = a.rate;
  pacing.connections = a.connections;
  pacing.seed = a.seed;
  pacing.start_ns = r.measure_start - a.warmup_ns;
  r.conns.reserve(a.connections);
  for (uint32_t i = 0; i < a.connections; ++i) {
    auto c = std::make_unique<Conn>(r, i, send_bytes, recv_bytes, a.size_max, a.inflight);
    c->rng = tool::Rng(a.seed ^ (0x9E3779B97F4A7C15ULL * (i + 1)));
    if (a.mode == LoadMode::rate) c->pacer.emplace(pacing, i);
    r.conns.push_back(std::move(c));
  }
}

void run_until_finished(Runner& r) {
  if (int rc = r.loop.timeout(r.tick_op, kTickNs, on_tick, &r); rc < 0) {
    fprintf(stderr, "ringsock load: cannot start the timer: %s\n", strerror(-rc));
    return;
  }
  for (auto& c : r.conns) open_conn(r, *c);
  if (r.alive == 0) r.finished = true;
  while (!r.finished) {
    if (r.loop.run(ringsock::RunMode::once) < 0) break;
  }
  r.finish_ns = now_ns();
  if (r.progress) fputs("\n", stderr);
}

void close_all(Runner& r) {
  r.loop.deinit();
  for (auto& c : r.conns) {
    if (c->fd >= 0) close(c->fd);
  }
}

}  // namespace

const char* load_error_name(int kind) noexcept {
  static const char* const names[kLoadErrorKinds] = {
      "refused", "reset", "timeout", "out of fds", "out of local ports", "closed by server",
      "other"};
  return kind >= 0 && kind < kLoadErrorKinds ? names[kind] : "?";
}

const char* load_error_hint(int kind) noexcept {
  switch (kind) {
    case kLoadRefused: return "is the server running?";
    case kLoadReset: return "the server dropped connections: is it overloaded or out of slots?";
    case kLoadTimeout: return "is the address reachable, is the server overloaded?";
    case kLoadNoFds: return "raise ulimit -n";
    case kLoadNoPorts: return "out of local ports: fewer connections or more source addresses";
    default: return "";
  }
}

int classify_load_error(int negated) noexcept {
  switch (-negated) {
    case ECONNREFUSED:
    case ENOENT: return kLoadRefused;
    case ECONNRESET:
    case EPIPE: return kLoadReset;
    case ETIMEDOUT: return kLoadTimeout;
    case EMFILE:
    case ENFILE: return kLoadNoFds;
    case EADDRNOTAVAIL:
    case EADDRINUSE: return kLoadNoPorts;
    case -kClosedByServer: return kLoadClosed;
    default: return kLoadOther;
  }
}

int run_load(const LoadArgs& args) {
  if (args.assertions != nullptr) {
    auto parsed = tool::parse_assertions(args.assertions);
    if (auto* error = std::get_if<tool::ParseError>(&parsed)) {
      fprintf(stderr, "ringsock: bad value for --assert: %s\n", error->message.c_str());
      return kExitUsage;
    }
  }
  if (args.connections > 1000) raise_fd_limit();
  auto runner = std::make_unique<Runner>(args);
  Runner& r = *runner;
  if (init_loop(r) < 0) return 1;
  r.progress = isatty(STDERR_FILENO) != 0;
  r.start_ns = now_ns();
  r.measure_start = r.start_ns + args.warmup_ns;
  if (args.count == 0) r.send_end = r.measure_start + args.duration_ns;
  r.next_progress = r.start_ns + 1'000'000'000ULL;
  make_conns(r);
  double cpu_start = cpu_seconds();
  run_until_finished(r);
  LoadReport report;
  report.args = &args;
  report.stats = &r.stats;
  report.latency = &r.latency;
  uint64_t end = std::max(r.finish_ns, r.measure_start);
  report.seconds = double(end - r.measure_start) / 1e9;
  report.cpu_seconds = cpu_seconds() - cpu_start;
  report.backend = r.loop.backend() == ringsock::BackendKind::uring ? "io_uring" : "epoll";
  report.backend_reason = r.loop.backend_reason();
  int code = report_load(report);
  close_all(r);
  return code;
}

}  // namespace ringsock_cli
