// The connections of one load thread and the loop that drives them.
//
// Every mode shares one life cycle per connection slot: open (socket,
// connect), exchange (pump sends what the mode allows, replies are framed,
// verified and recorded), close. Churn closes after one exchange and opens
// again; idle sends once at the start and once after --duration.
#include "load_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client_socket.hpp"
#include "load_framing.hpp"
#include "load_interrupt.hpp"
#include "ringsock/loop.hpp"

namespace ringsock_cli {


uint64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ULL + uint64_t(ts.tv_nsec);
}

namespace {

using ringsock::Completion;
using ringsock::Loop;
using ringsock::Operation;
namespace tool = ringsock::tool;

constexpr uint64_t kTickNs = 100'000'000;          // deadlines, progress, datagram loss
constexpr uint64_t kDrainNs = 2'000'000'000;       // wait for replies after the last send
constexpr uint64_t kStallNs = 10'000'000'000;      // count mode: no reply for this long ends the run
constexpr uint64_t kConnectTimeoutNs = 5'000'000'000;
constexpr uint64_t kDatagramLossNs = 500'000'000;  // no reply for this long: given up
constexpr uint64_t kChurnRetryNs = 1'000'000;      // churn: pause after a failed cycle
constexpr size_t kStreamReceive = 65536;
constexpr size_t kThroughputBatch = 65536;

struct Runner;

// One connection slot. Kept small (a run may hold hundreds of thousands of
// idle ones): two operations inline, and its buffers, sized to the messages,
// taken when it first opens - before its first message, never per message.
struct Conn {
  Conn(Runner& owner, uint32_t index) : runner(&owner), id(index), rng(0) {}

  Runner* runner;
  uint32_t id;               // global: the same connection id whatever --threads is
  int fd = -1;
  bool active = false;       // the slot takes part (churn: between cycles too)
  bool ready = false;        // connected, exchanging
  bool first_open = true;    // its first connect has not ended yet (the connect phase)
  bool close_pending = false;  // close once the send in flight has ended
  // connect, then recv: a receive is posted only once the connect is done.
  Operation io_op{};
  // send; a close (once no send is in flight); churn's pause between cycles.
  Operation send_op{};
  std::unique_ptr<Operation> pacing_op;  // rate mode: the wait for the next intended send
  std::unique_ptr<uint8_t[]> memory;     // send_buffer, recv_buffer, intended, in one piece
  uint8_t* send_buffer = nullptr;
  uint8_t* recv_buffer = nullptr;
  uint64_t* intended = nullptr;  // by sequence % inflight: the intended send time
  uint64_t* sent_at = nullptr;   // by sequence % inflight: when it went out
  uint32_t send_capacity = 0;
  uint32_t recv_capacity = 0;
  std::unique_ptr<ReplyStream> replies;           // streams
  std::unique_ptr<tool::DatagramTracker> tracker;  // datagrams
  std::unique_ptr<tool::ReplyAssembler> assembler;  // custom requests on streams
  bool reopen = false;          // --timeout or the server ended it: open again once closed
  bool replied_since_open = false;  // custom: a reply came on this connection
  tool::Rng rng;
  std::unique_ptr<tool::Pacer> pacer;
  uint64_t next_sequence = 0;
  uint64_t recv_sequence = 0;
  uint32_t outstanding = 0;
  uint32_t exchanges_sent = 0;  // churn: in this cycle; idle: 1 first, 2 last
  uint64_t cycle_start = 0;     // churn: when the connect began
  uint64_t connect_ns = 0;      // when the connect in flight began
  uint64_t cycle_intended = 0;  // churn with --rate: when it was meant to begin
  // Throughput: the messages now in send_buffer, sent again as they are.
  uint32_t repeat_messages = 0;
  uint32_t repeat_bytes = 0;
};

struct Runner {
  Runner(const ThreadPlan& p, ThreadResult& out)
      : plan(p),
        args(*p.args),
        stream(p.args->endpoint.is_stream()),
        framing(p.args->sockperf, p.args->mode != LoadMode::throughput, p.args->seed),
        stats(out.stats),
        latency(out.latency),
        custom(p.custom),
        endpoints(*p.endpoints),
        connect(out.connect),
        interval_counters(out.interval_counters),
        started(out.started) {}

  const ThreadPlan& plan;
  const LoadArgs& args;
  bool stream;
  Framing framing;
  LoadStats& stats;
  tool::LatencyPair& latency;
  const CustomRequests* custom;  // null: ringsock's own messages
  const std::vector<ringsock::Endpoint>& endpoints;
  tool::ReplyChecker checker;    // custom: one per thread (regexec is not shared)
  std::string framing_error;     // custom: the first reply that could not be framed
  tool::Histogram& connect;
  std::vector<IntervalCounters>& interval_counters;
  StartedAt& started;
  Loop loop;
  std::vector<std::unique_ptr<Conn>> conns;
  Operation tick_op{};
  // The measured window opens once every connection's first connect has
  // ended (connected or failed): a slow connect must not eat --duration.
  bool measuring = false;
  uint32_t connecting = 0;        // slots whose first connect has not ended
  uint64_t start_ns = 0;          // when measuring began: the pacers' zero
  uint64_t measure_start = UINT64_MAX;  // start_ns + warmup
  uint64_t send_end = 0;          // duration mode: no new work after this
  uint64_t drain_deadline = 0;
  uint64_t last_progress_ns = 0;  // the last reply or sent batch
  uint64_t outstanding = 0;       // replies awaited, all connections
  uint32_t sends_in_flight = 0;
  uint32_t active = 0;
  bool sending_done = false;
  bool unsent_counted = false;    // rate: count_unsent has run
  bool final_phase = false;       // idle: the last exchange has begun
  bool finished = false;

  bool is(LoadMode m) const noexcept { return args.mode == m; }
  // The largest message this thread sends.
  uint32_t message_max() const noexcept {
    return custom ? uint32_t(custom->requests.max_size()) : args.size_max;
  }
  const ringsock::Endpoint& endpoint_of(const Conn& c) const noexcept {
    return endpoints[c.id % endpoints.size()];
  }
};

// The interval histograms: corrected latency (from the intended send, as
// LatencyPair), uncorrected, on the thread's recorder; allocation-free.
void record_interval(Runner& r, uint64_t intended_ns, uint64_t sent_ns, uint64_t now) noexcept {
  if (r.plan.recorder == nullptr) return;
  r.plan.recorder->record(0, now, now > intended_ns ? now - intended_ns : 0);
  r.plan.recorder->record(1, now, now > sent_ns ? now - sent_ns : 0);
}

void record_error(Runner& r, int negated) {
  const int kind = classify_load_error(negated);
  ++r.stats.errors[kind];
  if (r.stats.first_error == 0) r.stats.first_error = negated;
  if (kind == kLoadOther && r.stats.first_other == 0) r.stats.first_other = negated;
}

void on_closed(Loop&, Operation& op, const Completion& done);
void begin_cycle(Conn& c);
void first_open_ended(Conn& c);

// The slot takes no further part; the run ends with its last slot.
void retire(Conn& c) {
  if (!c.active) return;
  c.active = false;
  if (--c.runner->active == 0) c.runner->finished = true;
}

// Closes the socket; `retire_slot` also ends the slot (churn goes on otherwise).
void close_conn(Conn& c, bool retire_slot) {
  Runner& r = *c.runner;
  r.outstanding -= c.outstanding;
  c.outstanding = 0;
  c.ready = false;
  if (retire_slot) retire(c);
  if (c.fd < 0 || c.close_pending) return;
  // The close shares the send's operation: a send in flight is cancelled
  // first, and on_sent closes once it has ended.
  if (c.send_op.in_flight()) {
    c.close_pending = true;
    r.loop.cancel(c.send_op);
    return;
  }
  if (r.loop.close(c.send_op, c.fd, on_closed, &c) == 0) {
    c.fd = -1;
  } else {
    retire(c);  // the loop refused: this slot cannot go on
  }
}

void retry_later(Conn& c);

// An error on a connection: counted; churn goes on with its next cycle as
// long as anything has worked, every other mode retires the slot.
void fail_conn(Conn& c, int negated) {
  Runner& r = *c.runner;
  if (!c.active) return;
  record_error(r, negated);
  first_open_ended(c);
  if (r.is(LoadMode::churn) && r.stats.established > 0 && !r.sending_done) {
    if (c.fd >= 0) return close_conn(c, false);  // on_closed starts the next cycle
    return retry_later(c);
  }
  if (!r.is(LoadMode::churn)) ++r.stats.failed_connections;
  close_conn(c, true);
}

// Open loop: what the schedule had due in the measured window and never
// sent (every --inflight slot waited on a reply, or the slot had failed) is
// counted, and enters the corrected latency as having waited to the
// window's end: at least that long, since it never left. Without it, a
// service that stopped answering would show only the few sends that got
// out, each answered or timed out, and a p99 from before it stopped.
// Once, when sending stops (or a thread whose every slot failed ends).
void count_unsent(Runner& r, uint64_t end) {
  if (!r.is(LoadMode::rate) || !r.measuring || r.unsent_counted) return;
  r.unsent_counted = true;
  for (auto& c : r.conns) {
    if (!c->pacer) continue;
    while (c->pacer->peek() < end) {
      if (r.plan.count_bounded && r.stats.sent + r.stats.unsent >= r.plan.count) return;
      const uint64_t intended = c->pacer->next();
      if (intended < r.measure_start) continue;
      ++r.stats.unsent;
      r.latency.corrected.record(end - intended);
      // In the window's last second (its end is the next one's start).
      if (r.plan.recorder != nullptr) r.plan.recorder->record(0, end - 1, end - intended);
    }
  }
}

void stop_sending(Runner& r, uint64_t now) {
  if (r.sending_done) return;
  r.sending_done = true;
  r.drain_deadline = now + kDrainNs;
  count_unsent(r, r.send_end != 0 && r.send_end < now ? r.send_end : now);
}

bool drained(const Runner& r) {
  if (r.is(LoadMode::throughput)) return r.sends_in_flight == 0;
  return r.outstanding == 0;
}

void maybe_finish(Runner& r) {
  if (r.sending_done && drained(r)) r.finished = true;
}

bool count_reached(const Runner& r, uint64_t now) {
  return r.plan.count_bounded && now >= r.measure_start && r.stats.sent >= r.plan.count;
}

// A service may end a kept-alive connection after so many requests (nginx
// after 1000, or after each with keepalive_timeout 0): with a FIN, or with a
// reset when a request was already on its way, whichever the timing gives.
// What was unanswered is lost (closed by server, however it ended), and the
// slot goes on with a new connection; true then. One that ends before any
// reply is an error of the slot, and so is every end in churn (a cycle of
// its own) and idle (a connection held).
bool server_ended_kept_alive(Conn& c, int result) {
  Runner& r = *c.runner;
  const bool ended = result == 0 || result == -ECONNRESET || result == -EPIPE;
  if (!ended || !r.stream || r.custom == nullptr || !c.replied_since_open ||
      r.is(LoadMode::churn) || r.is(LoadMode::idle)) {
    return false;
  }
  if (c.outstanding > 0) record_error(r, kClosedByServer);
  r.stats.errors[kLoadClosed] += c.outstanding > 1 ? c.outstanding - 1 : 0;
  const bool more = !r.sending_done && !count_reached(r, monotonic_ns());
  c.reopen = more;
  close_conn(c, !more);
  maybe_finish(r);
  return true;
}

// Messages this connection may send now (0 when it must wait).
uint64_t send_allowance(Runner& r, Conn& c, uint64_t now) {
  uint64_t allowed = 0;
  switch (r.args.mode) {
    case LoadMode::throughput:
      allowed = r.stream ? std::max<size_t>(1, kThroughputBatch / r.message_max()) : 1;
      break;
    case LoadMode::pingpong:
    case LoadMode::rate: allowed = r.args.inflight - c.outstanding; break;
    case LoadMode::churn: allowed = c.exchanges_sent == 0 ? 1 : 0; break;
    case LoadMode::idle:
      allowed = c.outstanding == 0 &&
                        (c.exchanges_sent == 0 || (r.final_phase && c.exchanges_sent == 1))
                    ? 1
                    : 0;
      break;
  }
  // Rate mode: nothing before the next intended time (encode_batch stops at
  // the first slot still in the future).
  if (r.is(LoadMode::rate) && c.pacer->peek() > now) allowed = 0;
  if (!r.stream) allowed = std::min<uint64_t>(allowed, 1);
  if (r.plan.count_bounded && now >= r.measure_start) {
    allowed = std::min<uint64_t>(allowed, r.plan.count - r.stats.sent);
  }
  return allowed;
}

uint32_t pick_size(Runner& r, Conn& c) {
  uint32_t span = r.args.size_max - r.args.size_min;
  if (span == 0) return r.args.size_min;
  return r.args.size_min + uint32_t(c.rng.next() % (uint64_t(span) + 1));
}

// Books `messages` messages of `bytes` in all as sent on c: one place for a
// freshly encoded message and a repeated batch alike.
void count_sent(Runner& r, Conn& c, uint32_t messages, size_t bytes, bool measured) {
  c.exchanges_sent += messages;
  r.stats.sent_all += messages;
  if (measured) {
    r.stats.sent += messages;
    r.stats.bytes_sent += bytes;
  }
}

// Throughput against a sink: nobody reads the messages, so the batch already
// in the send buffer goes out again as it is. Encoding a fresh one (payload
// and CRC32C) cost the client about half of its time per 64 KiB and capped
// W5 at the client's speed, not the server's.
uint32_t repeat_batch(Runner& r, Conn& c, bool measured) {
  c.next_sequence += c.repeat_messages;
  count_sent(r, c, c.repeat_messages, c.repeat_bytes, measured);
  return c.repeat_bytes;
}

// Encodes up to `allowed` messages into the send buffer; returns the bytes.
uint32_t encode_batch(Runner& r, Conn& c, uint64_t allowed, uint64_t now) {
  uint32_t used = 0;
  const bool measured = now >= r.measure_start;
  if (r.is(LoadMode::throughput)) {
    if (c.repeat_messages != 0 && allowed >= c.repeat_messages) {
      return repeat_batch(r, c, measured);
    }
    c.repeat_messages = 0;  // a shorter batch (the --count's last) overwrites it
  }
  for (uint64_t i = 0; i < allowed; ++i) {
    if (r.is(LoadMode::rate) && c.pacer->peek() > now) break;
    tool::MessageHeader header;
    header.sequence = c.next_sequence;
    uint32_t size = 0;
    if (r.custom != nullptr) {
      // The user's request, rendered in place: no allocation per message.
      if (uint64_t(used) + r.custom->requests.max_size() > c.send_capacity) break;
      tool::RenderValues values;
      values.sequence = header.sequence;
      values.connection = c.id;
      values.seed = r.args.seed;
      size = uint32_t(r.custom->requests.render(values, c.send_buffer + used, c.send_capacity - used));
      if (size == 0) break;
    } else {
      size = pick_size(r, c);
      if (uint64_t(used) + size > c.send_capacity) break;
      header.connection = c.id;
      header.length = size;
      header.send_ns = now;
      r.framing.encode(header, c.send_buffer + used);
    }
    ++c.next_sequence;
    c.sent_at[header.sequence % r.args.inflight] = now;
    uint64_t& intended = c.intended[header.sequence % r.args.inflight];
    if (r.is(LoadMode::rate)) intended = c.pacer->next();
    else if (r.is(LoadMode::churn)) intended = c.cycle_intended;
    else intended = now;
    used += size;
    count_sent(r, c, 1, size, measured);
    if (r.final_phase) ++r.stats.final_sent;
    if (!r.is(LoadMode::throughput)) {
      ++c.outstanding;
      ++r.outstanding;
    }
    // Placeholders change per message: a custom batch is rendered afresh.
    if (r.is(LoadMode::throughput) && r.custom == nullptr) {
      ++c.repeat_messages;
      c.repeat_bytes = used;
    }
  }
  return used;
}

void on_sent(Loop& loop, Operation& op, const Completion& done);
void on_timer(Loop& loop, Operation& op, const Completion& done);

void arm_pacing_timer(Runner& r, Conn& c, uint64_t now) {
  if (c.pacing_op->in_flight() || c.outstanding >= r.args.inflight) return;
  uint64_t due = c.pacer->peek();
  uint64_t wait = due > now ? due - now : 1;
  if (int rc = r.loop.timeout(*c.pacing_op, wait, on_timer, &c); rc < 0) fail_conn(c, rc);
}

void pump(Conn& c) {
  Runner& r = *c.runner;
  if (!r.measuring || !c.active || !c.ready || r.sending_done || c.send_op.in_flight()) return;
  uint64_t now = monotonic_ns();
  // Idle's last exchange is due after --duration: only the tick ends it.
  if (r.send_end != 0 && now >= r.send_end && !r.is(LoadMode::idle)) {
    return stop_sending(r, now);
  }
  if (count_reached(r, now)) {
    stop_sending(r, now);
    return maybe_finish(r);  // the last reply may be in already
  }
  uint64_t allowed = send_allowance(r, c, now);
  uint32_t bytes = allowed == 0 ? 0 : encode_batch(r, c, allowed, now);
  if (bytes == 0) {
    if (r.is(LoadMode::rate)) arm_pacing_timer(r, c, now);
    return;
  }
  if (int rc = r.loop.send(c.send_op, c.fd, c.send_buffer, bytes, on_sent, &c); rc < 0) {
    return fail_conn(c, rc);
  }
  ++r.sends_in_flight;
}

void on_sent(Loop&, Operation& op, const Completion& done) {
  Conn& c = *static_cast<Conn*>(op.user_data);
  Runner& r = *c.runner;
  --r.sends_in_flight;
  if (c.close_pending) {
    c.close_pending = false;
    close_conn(c, false);  // close_conn already ran: the slot is retired or not as it decided
    return maybe_finish(r);
  }
  // Cancelled by our own close (churn's next cycle is already under way).
  if (!c.ready) return maybe_finish(r);
  if (done.result < 0 && server_ended_kept_alive(c, done.result)) return;
  if (done.result < 0) return fail_conn(c, done.result);
  // A sink never answers: its sends are its progress. Elsewhere a reply is
  // (a datagram run whose every send is lost ends at the stall, with --count).
  if (r.is(LoadMode::throughput)) r.last_progress_ns = monotonic_ns();
  if (!r.stream && r.is(LoadMode::throughput) && c.active && r.stats.established == 0) {
    ++r.stats.established;  // a sink never answers: a datagram that went out counts
  }
  pump(c);
  maybe_finish(r);
}

void count_failure(Runner& r, tool::Verdict verdict) {
  ++r.stats.verify_failures;
  ++r.stats.verdicts[int(verdict) % kVerdicts];
}

// A reply that could not be framed (what `framing` expected, and why not): a
// verification failure; the first one is reported.
void count_unframed(Runner& r, std::string_view framing, std::string_view why) {
  count_failure(r, tool::Verdict::wrong_length);
  if (r.framing_error.empty()) {
    r.framing_error.append("a reply could not be framed (").append(framing).append("): ");
    r.framing_error.append(why);
  }
}

// A datagram seen before (or too old to tell) is not a reply: false.
bool track_datagram(Runner& r, Conn& c, uint64_t sequence) {
  switch (c.tracker->on_receive(sequence)) {
    case tool::DatagramTracker::Event::in_order: return true;
    case tool::DatagramTracker::Event::gap: ++r.stats.gaps; return true;
    case tool::DatagramTracker::Event::reordered: ++r.stats.reordered; return true;
    case tool::DatagramTracker::Event::duplicate:
    case tool::DatagramTracker::Event::too_old: ++r.stats.duplicates; return false;
  }
  return false;
}

// Churn: the exchange is over; close, and on_closed begins the next cycle.
void end_cycle(Conn& c, bool completed) {
  Runner& r = *c.runner;
  if (completed && c.cycle_start >= r.measure_start) ++r.stats.cycles;
  close_conn(c, false);
}

void handle_reply(Conn& c, std::span<const uint8_t> message) {
  Runner& r = *c.runner;
  uint64_t now = monotonic_ns();
  std::span<const uint8_t> inner;
  tool::Verdict outer = r.framing.unwrap(message, inner);
  tool::Verification v;
  if (outer == tool::Verdict::ok) {
    std::optional<uint64_t> expected;
    if (r.stream) expected = c.recv_sequence++;
    v = tool::verify(inner.data(), inner.size(), c.id, expected, r.args.seed);
    if (v.ok() && !r.stream && !track_datagram(r, c, v.header.sequence)) return;
  } else {
    v.verdict = outer;
  }
  if (r.stats.established == 0) ++r.stats.established;
  ++r.stats.replied_all;
  r.last_progress_ns = now;
  if (c.outstanding > 0) {
    --c.outstanding;
    --r.outstanding;
  }
  if (!v.ok()) {
    count_failure(r, v.verdict);
  } else if (r.is(LoadMode::churn)) {
    if (c.cycle_start >= r.measure_start) {
      ++r.stats.received;
      r.stats.bytes_received += message.size();
      r.latency.record(c.cycle_intended, c.cycle_start, now);
      record_interval(r, c.cycle_intended, c.cycle_start, now);
    }
  } else if (v.header.send_ns >= r.measure_start) {
    ++r.stats.received;
    r.stats.bytes_received += message.size();
    r.latency.record(c.intended[v.header.sequence % r.args.inflight], v.header.send_ns, now);
    record_interval(r, c.intended[v.header.sequence % r.args.inflight], v.header.send_ns, now);
    if (r.is(LoadMode::idle) && c.exchanges_sent == 2) ++r.stats.held;
  }
  if (r.is(LoadMode::churn) && c.outstanding == 0) end_cycle(c, v.ok());
}

// One whole reply to the user's request (a framed one, or one datagram):
// checked, then recorded against the request it answers (replies come in
// the order of the requests).
// too_large: a datagram past the largest reply the tool holds (it may have
// been cut), answered but failed.
void handle_custom_reply(Conn& c, std::span<const uint8_t> reply, int http_status,
                         bool too_large = false) {
  Runner& r = *c.runner;
  if (c.outstanding == 0) {
    // Nothing was asked: a late datagram (already given up) or a stray one.
    ++r.stats.duplicates;
    return;
  }
  uint64_t now = monotonic_ns();
  uint64_t sequence = c.recv_sequence++;
  if (r.stats.established == 0) ++r.stats.established;
  ++r.stats.replied_all;
  r.last_progress_ns = now;
  --c.outstanding;
  --r.outstanding;
  c.replied_since_open = true;
  bool ok = !too_large &&
            (r.checker.empty() || r.checker.check(reply.data(), reply.size(), http_status));
  if (too_large) {
    count_unframed(r, "datagram",
                   "a reply is larger than the largest the tool holds (" +
                       std::to_string(r.plan.max_reply_bytes) + " bytes)");
  } else if (!ok) {
    count_failure(r, tool::Verdict::payload_mismatch);
  } else if (r.is(LoadMode::churn)) {
    if (c.cycle_start >= r.measure_start) {
      ++r.stats.received;
      r.stats.bytes_received += reply.size();
      r.latency.record(c.cycle_intended, c.cycle_start, now);
      record_interval(r, c.cycle_intended, c.cycle_start, now);
    }
  } else {
    uint64_t sent = c.sent_at[sequence % r.args.inflight];
    if (sent >= r.measure_start) {
      ++r.stats.received;
      r.stats.bytes_received += reply.size();
      r.latency.record(c.intended[sequence % r.args.inflight], sent, now);
      record_interval(r, c.intended[sequence % r.args.inflight], sent, now);
      if (r.is(LoadMode::idle) && c.exchanges_sent == 2) ++r.stats.held;
    }
  }
  if (r.is(LoadMode::churn) && c.outstanding == 0) end_cycle(c, ok);
}

// A stream whose replies cannot be framed: a verification failure, and the
// connection is lost (nothing after it can be told apart).
void custom_framing_failed(Conn& c) {
  Runner& r = *c.runner;
  count_unframed(r, r.custom->framing->describe(), c.assembler->framer().error());
  close_conn(c, true);
}

void on_received(Loop& loop, Operation& op, const Completion& done);

void post_receive(Conn& c) {
  int rc = c.runner->loop.recv(c.io_op, c.fd, c.recv_buffer, c.recv_capacity, on_received, &c);
  if (rc < 0) fail_conn(c, rc);
}

void on_received(Loop&, Operation& op, const Completion& done) {
  Conn& c = *static_cast<Conn*>(op.user_data);
  Runner& r = *c.runner;
  if (!c.active || !c.ready) return;
  if (done.result <= 0 && server_ended_kept_alive(c, done.result)) return;
  if (done.result < 0) return fail_conn(c, done.result);
  if (done.result == 0 && r.stream) {
    bool lost = c.outstanding > 0 || !r.sending_done;
    if (lost) record_error(r, kClosedByServer);
    if (lost && !r.is(LoadMode::churn)) ++r.stats.failed_connections;
    return close_conn(c, !r.is(LoadMode::churn) || r.sending_done);
  }
  std::span<const uint8_t> data(c.recv_buffer, size_t(done.result));
  if (r.is(LoadMode::throughput)) {
    // A sink sends nothing back; an echo's bytes are read and dropped.
  } else if (r.custom != nullptr && r.stream) {
    auto deliver = [&c](std::span<const uint8_t> reply, const tool::ReplyFramer& framer) {
      if (c.ready) handle_custom_reply(c, reply, framer.http_status());
    };
    if (!c.assembler->feed(data, deliver)) return custom_framing_failed(c);
  } else if (r.custom != nullptr) {
    // One datagram is one reply. The receive holds 64 bytes more than the
    // largest reply, so one that fills past that was larger, and maybe cut.
    handle_custom_reply(c, data, 0, data.size() > r.plan.max_reply_bytes);
  } else if (r.stream) {
    // Once churn has ended the cycle, what else the read held is not a reply.
    auto deliver = [&c](std::span<const uint8_t> m) {
      if (c.ready) handle_reply(c, m);
    };
    if (!c.replies->feed(data, deliver)) {
      count_failure(r, tool::Verdict::wrong_length);  // out of step: the stream is lost
      return close_conn(c, true);
    }
  } else {
    handle_reply(c, data);
  }
  if (!c.ready) return maybe_finish(r);  // churn closed it for the next cycle
  post_receive(c);
  pump(c);
  maybe_finish(r);
}

void record_connect(Runner& r, uint64_t began_ns, uint64_t now) noexcept {
  uint64_t took = now > began_ns ? now - began_ns : 0;
  r.connect.record(took);
  if (r.plan.recorder != nullptr) r.plan.recorder->record(2, now, took);
}

void start_conn(Conn& c) {
  Runner& r = *c.runner;
  c.ready = true;
  ++r.stats.opened;
  if (r.stream) ++r.stats.established;
  post_receive(c);
  first_open_ended(c);
  pump(c);
}

void on_connected(Loop&, Operation& op, const Completion& done) {
  Conn& c = *static_cast<Conn*>(op.user_data);
  if (c.fd < 0) return;  // its socket was closed meanwhile
  if (done.result < 0) return fail_conn(c, done.result);
  record_connect(*c.runner, c.connect_ns, monotonic_ns());
  start_conn(c);
}

// The slot's buffers, sized to its messages: what `inflight` messages can
// take (a stream's receive at most 64 KiB: replies are framed across reads).
// A stream's receive takes 8 bytes more than can be in flight, so that a read
// of every reply still comes back short: on epoll that tells the engine the
// socket is empty, and the next receive waits for data instead of trying a
// read that says EAGAIN (one syscall fewer per reply).
void take_buffers(Runner& r, Conn& c) {
  const LoadArgs& a = r.args;
  const uint64_t message = r.message_max();
  uint64_t all_inflight = message * a.inflight;
  uint64_t send_bytes = std::max<uint64_t>(message, std::min<uint64_t>(all_inflight, kStreamReceive));
  if (a.mode == LoadMode::throughput) send_bytes = std::max<uint64_t>(kThroughputBatch, message);
  uint64_t recv_bytes = r.stream ? std::min<uint64_t>(all_inflight + 8, kStreamReceive) : message + 64;
  // A reply to the user's request may be any size: a whole datagram, or
  // full reads on a stream (the assembler holds the largest reply).
  if (r.custom != nullptr) recv_bytes = r.stream ? kStreamReceive : r.plan.max_reply_bytes + 64;
  if (r.stream && a.mode == LoadMode::throughput) recv_bytes = kStreamReceive;  // an echo's bytes, dropped
  send_bytes = (send_bytes + 7) & ~uint64_t(7);  // `intended` after them stays aligned
  recv_bytes = (recv_bytes + 7) & ~uint64_t(7);
  c.memory.reset(new uint8_t[send_bytes + recv_bytes + 2 * a.inflight * sizeof(uint64_t)]);
  c.send_buffer = c.memory.get();
  c.recv_buffer = c.send_buffer + send_bytes;
  c.intended = reinterpret_cast<uint64_t*>(c.recv_buffer + recv_bytes);
  c.sent_at = c.intended + a.inflight;
  c.send_capacity = uint32_t(send_bytes);
  c.recv_capacity = uint32_t(recv_bytes);
  if (r.custom != nullptr) {
    if (r.stream && r.custom->framing) {
      c.assembler = std::make_unique<tool::ReplyAssembler>(*r.custom->framing, r.plan.max_reply_bytes);
    }
  } else if (r.stream) c.replies = std::make_unique<ReplyStream>(a.sockperf, a.size_max);
  else c.tracker = std::make_unique<tool::DatagramTracker>();
}

// A fresh socket for the slot (every cycle, in churn).
void open_conn(Conn& c) {
  Runner& r = *c.runner;
  if (!c.memory) take_buffers(r, c);
  c.exchanges_sent = 0;
  c.recv_sequence = c.next_sequence;
  if (c.replies) c.replies->reset();
  if (c.assembler) c.assembler->reset();
  c.reopen = false;
  c.replied_since_open = false;
  if (c.tracker) *c.tracker = tool::DatagramTracker{};
  int fd = open_client_socket(r.args, r.endpoint_of(c), c.id);
  if (fd < 0) return fail_conn(c, fd);
  c.fd = fd;
  if (!r.stream) return start_conn(c);
  // No engine deadline on the connect: the receive that follows reuses its
  // operation, and a linked deadline's late completion was seen ending that
  // receive with -ECANCELED (io_uring, 16k connects at once). The tick times
  // connects out instead (expire_connects).
  c.connect_ns = monotonic_ns();
  if (int rc = r.loop.connect(c.io_op, fd, r.endpoint_of(c), on_connected, &c); rc < 0) {
    fail_conn(c, rc);
  }
}

void begin_cycle(Conn& c) {
  Runner& r = *c.runner;
  // One cycle at a time: the last one's socket and operations must be done.
  if (c.fd >= 0 || c.io_op.in_flight() || c.send_op.in_flight()) return;
  uint64_t now = monotonic_ns();
  if (r.sending_done || count_reached(r, now) || (r.send_end != 0 && now >= r.send_end)) {
    stop_sending(r, now);
    retire(c);
    return maybe_finish(r);
  }
  c.cycle_start = now;
  c.cycle_intended = c.pacer ? c.pacer->next() : now;
  open_conn(c);
}

// Churn: the next cycle now, or at its intended time with --rate.
void next_cycle(Conn& c) {
  Runner& r = *c.runner;
  uint64_t now = monotonic_ns();
  if (!c.pacer || c.pacer->peek() <= now || r.sending_done) return begin_cycle(c);
  if (int rc = r.loop.timeout(c.send_op, c.pacer->peek() - now, on_timer, &c); rc < 0) {
    record_error(r, rc);
    close_conn(c, true);
  }
}

void retry_later(Conn& c) {
  Runner& r = *c.runner;
  if (int rc = r.loop.timeout(c.send_op, kChurnRetryNs, on_timer, &c); rc < 0) {
    record_error(r, rc);
    close_conn(c, true);
  }
}

void on_timer(Loop&, Operation& op, const Completion& done) {
  Conn& c = *static_cast<Conn*>(op.user_data);
  if (done.result < 0 || !c.active) return;
  if (c.runner->is(LoadMode::churn)) return begin_cycle(c);
  pump(c);
}

void on_closed(Loop&, Operation& op, const Completion&) {
  Conn& c = *static_cast<Conn*>(op.user_data);
  if (c.active && c.runner->is(LoadMode::churn)) return next_cycle(c);
  if (c.active && c.reopen) {
    c.reopen = false;
    if (c.runner->sending_done) return retire(c), maybe_finish(*c.runner);
    open_conn(c);
  }
}

// --timeout on streams: the oldest request unanswered for that long is a
// timeout, with every one behind it; the connection ends (its replies could
// come later and be taken for the next requests') and opens again, but in
// idle mode, whose connections are the ones held, where the slot fails.
void expire_stream_requests(Runner& r, uint64_t now) {
  if (!r.stream || r.args.timeout_ns == 0 || r.is(LoadMode::throughput)) return;
  for (auto& c : r.conns) {
    if (!c->ready || c->outstanding == 0) continue;
    uint64_t oldest = c->sent_at[c->recv_sequence % r.args.inflight];
    if (now < oldest || now - oldest < r.args.timeout_ns) continue;
    r.stats.errors[kLoadTimeout] += c->outstanding;
    if (r.stats.first_error == 0) r.stats.first_error = -ETIMEDOUT;
    if (r.is(LoadMode::churn)) {
      end_cycle(*c, false);
    } else if (r.is(LoadMode::idle)) {
      ++r.stats.failed_connections;
      close_conn(*c, true);
    } else {
      c->reopen = !r.sending_done;
      close_conn(*c, r.sending_done);
    }
  }
}

// Connects still in flight after kConnectTimeoutNs end as timeouts (the close
// cancels them). Scanned while the connect phase lasts, and always in churn.
void expire_connects(Runner& r, uint64_t now) {
  if (!r.stream || (r.connecting == 0 && !r.is(LoadMode::churn))) return;
  for (auto& c : r.conns) {
    if (c->fd < 0 || c->ready || !c->io_op.in_flight()) continue;
    if (now - c->connect_ns >= kConnectTimeoutNs) fail_conn(*c, -ETIMEDOUT);
  }
}

// Datagrams that never came back: give up on them so that the window moves on.
void expire_datagrams(Runner& r, uint64_t now) {
  if (r.stream || r.is(LoadMode::throughput)) return;
  for (auto& c : r.conns) {
    uint64_t loss_ns = r.args.timeout_ns != 0 ? r.args.timeout_ns : kDatagramLossNs;
    if (!c->ready || c->outstanding == 0) continue;
    // The oldest unanswered request (custom replies answer requests in
    // order; ringsock's own may come reordered, and then this is a later
    // one: the loss is declared late, never early).
    uint64_t oldest = c->sent_at[(c->next_sequence - c->outstanding) % r.args.inflight];
    if (now < oldest || now - oldest < loss_ns) continue;
    r.outstanding -= c->outstanding;
    c->outstanding = 0;
    c->recv_sequence = c->next_sequence;  // custom: what comes now answers what is sent next
    if (r.is(LoadMode::churn)) {
      end_cycle(*c, false);
    } else {
      pump(*c);
    }
  }
}

// Idle: --duration is over; every connection makes its last exchange.
void begin_final_phase(Runner& r, uint64_t now) {
  r.final_phase = true;
  for (auto& c : r.conns) pump(*c);
  stop_sending(r, now);
}

// The drain deadline passed (or count mode stalled): replies still missing on
// streams are timeouts (on datagrams they already count as loss).
void give_up_waiting(Runner& r) {
  if (r.stream && !r.is(LoadMode::throughput)) r.stats.errors[kLoadTimeout] += r.outstanding;
  r.finished = true;
}

void publish(Runner& r) {
  ThreadProgress* p = r.plan.progress;
  if (p == nullptr) return;
  uint64_t errors = r.stats.verify_failures;
  for (uint64_t e : r.stats.errors) errors += e;
  p->sent.store(r.stats.sent_all, std::memory_order_relaxed);
  p->replied.store(r.stats.replied_all, std::memory_order_relaxed);
  p->errors.store(errors, std::memory_order_relaxed);
  p->p99_ns.store(r.latency.corrected.value_at_percentile(99), std::memory_order_relaxed);
}

IntervalCounters interval_counters_now(const Runner& r) {
  IntervalCounters out;
  out.sent = r.stats.sent;
  out.received = r.stats.received;
  out.verify_failures = r.stats.verify_failures;
  out.cycles = r.stats.cycles;
  for (int k = 0; k < kLoadErrorKinds; ++k) out.errors[k] = r.stats.errors[k];
  for (const auto& c : r.conns) out.connections_open += c->ready ? 1 : 0;
  return out;
}

// Once per tick: hands the finished second's histograms over and keeps the
// counters as they were at its end (once a second: not on the message path).
void roll_interval(Runner& r, uint64_t now) {
  if (r.plan.recorder == nullptr) return;
  r.plan.recorder->roll(now);
  uint64_t index = now > r.plan.interval_start_ns ? (now - r.plan.interval_start_ns) / kIntervalNs : 0;
  if (r.interval_counters.size() >= index) return;
  IntervalCounters current = interval_counters_now(r);
  r.interval_counters.resize(index, current);
}

// At the end: the last (partial) interval's counters, and the recorder's tail.
void finish_intervals(Runner& r, uint64_t now) {
  if (r.plan.recorder == nullptr) return;
  roll_interval(r, now);
  r.interval_counters.push_back(interval_counters_now(r));
  r.plan.recorder->finish();
}

void on_tick(Loop& loop, Operation& op, const Completion&) {
  Runner& r = *static_cast<Runner*>(op.user_data);
  uint64_t now = monotonic_ns();
  // Interrupted: the window ends now; before it began (connecting, or in
  // the warmup) there is nothing to wait for.
  if (interrupt_signal() != 0 && !r.sending_done) {
    if (!r.measuring || now < r.measure_start) r.finished = true;
    else if (r.send_end == 0 || now < r.send_end) r.send_end = now;
  }
  if (r.send_end != 0 && now >= r.send_end && !r.sending_done) {
    if (r.is(LoadMode::idle)) {
      begin_final_phase(r, now);
    } else {
      stop_sending(r, now);
    }
  }
  if (r.sending_done && drained(r)) r.finished = true;
  if (r.sending_done && !r.finished && now >= r.drain_deadline) give_up_waiting(r);
  if (r.plan.count_bounded && r.measuring && !r.finished && now - r.last_progress_ns > kStallNs) {
    give_up_waiting(r);
  }
  expire_connects(r, now);
  expire_stream_requests(r, now);
  expire_datagrams(r, now);
  roll_interval(r, now);
  publish(r);
  if (r.finished) return;
  if (int rc = loop.timeout(r.tick_op, kTickNs, on_tick, &r); rc < 0) r.finished = true;
}

int init_loop(Runner& r, ThreadResult& out) {
  ringsock::LoopOptions options;
  options.backend = r.args.backend;
  options.buffer_count = 8;
  options.ring_entries = 1024;
  options.completion_entries = 4 * options.ring_entries;
  options.busy_poll_us = r.args.busy_poll_us;
  options.zero_copy_min_bytes = r.args.zero_copy_bytes;
  if (r.args.batch_wait_us != 0) {
    // The batch: every reply this loop's connections can have in flight.
    const LoadArgs& a = r.args;
    const uint64_t conns = (a.connections + r.plan.threads - 1) / r.plan.threads;
    options.batch_wait_us = a.batch_wait_us;
    options.batch_wait_count =
        uint32_t(std::min<uint64_t>(conns * a.inflight, options.completion_entries));
  }
  int rc = r.loop.init(options);
  snprintf(out.backend_reason, sizeof out.backend_reason, "%s", r.loop.backend_reason());
  out.uring = rc == 0 && r.loop.backend() == ringsock::BackendKind::uring;
  return rc;
}

// The slots only: each takes its buffers when it first opens.
void make_conns(Runner& r) {
  const LoadArgs& a = r.args;
  r.conns.reserve((a.connections - r.plan.thread + r.plan.threads - 1) / r.plan.threads);
  for (uint32_t i = r.plan.thread; i < a.connections; i += r.plan.threads) {
    const uint32_t id = r.plan.first_connection + i;  // global over the shards
    auto c = std::make_unique<Conn>(r, id);
    c->rng = tool::Rng(a.seed ^ (0x9E3779B97F4A7C15ULL * (id + 1)));
    if (a.mode == LoadMode::rate) c->pacing_op = std::make_unique<Operation>();
    r.conns.push_back(std::move(c));
  }
}

// The measured window opens now: warmup, --duration and the pacers' schedule
// count from here. With --start-at, from that instant on this host's clock
// even when the connects ended after it: a late shard keeps the run's
// window and schedule, so what was due while it connected goes out at once
// and its corrected latency counts from when it was due.
void begin_measuring(Runner& r) {
  const LoadArgs& a = r.args;
  uint64_t now = monotonic_ns();
  if (r.plan.start_at_unix_ns != 0) {
    // Connected: wait for the common instant (the loop has nothing to do yet).
    r.started = wait_for_start(r.plan.start_at_unix_ns);
    now = r.started.monotonic_ns;
    if (interrupt_signal() != 0) {  // interrupted while it waited: no run
      r.finished = true;
      return;
    }
  }
  const uint64_t woke = now;
  if (r.started.skew_ns > 0 && uint64_t(r.started.skew_ns) < now) now -= uint64_t(r.started.skew_ns);
  r.measuring = true;
  r.start_ns = now;
  r.measure_start = now + a.warmup_ns;
  // --count alone runs until the count; with --duration, until either.
  r.send_end = !r.plan.count_bounded || a.duration_given ? r.measure_start + a.duration_ns : 0;
  r.last_progress_ns = woke;
  tool::PacingConfig pacing;
  // The whole run's schedule: each global connection keeps its own stream.
  pacing.total_rate = r.plan.total_rate != 0 ? r.plan.total_rate : a.rate;
  pacing.connections = r.plan.total_connections != 0 ? r.plan.total_connections : a.connections;
  pacing.arrival = a.arrival == Arrival::poisson ? tool::Arrival::poisson : tool::Arrival::constant;
  pacing.seed = a.seed;
  pacing.start_ns = now;
  for (auto& c : r.conns) {
    // The whole run's rate: a shard's share may round to 0 msgs/s.
    if (pacing.total_rate != 0) c->pacer = std::make_unique<tool::Pacer>(pacing, c->id);
  }
  if (r.is(LoadMode::churn)) return;
  for (auto& c : r.conns) pump(*c);
}

// Once every slot's first connect has ended, measuring begins.
void first_open_ended(Conn& c) {
  Runner& r = *c.runner;
  if (!c.first_open) return;
  c.first_open = false;
  if (--r.connecting == 0 && !r.measuring) begin_measuring(r);
}

void run(Runner& r) {
  if (int rc = r.loop.timeout(r.tick_op, kTickNs, on_tick, &r); rc < 0) {
    fprintf(stderr, "ringsock load: cannot start the timer: %s\n", strerror(-rc));
    return;
  }
  r.last_progress_ns = monotonic_ns();
  for (auto& c : r.conns) {
    c->active = true;
    ++r.active;
  }
  if (r.is(LoadMode::churn)) {
    // Churn measures its connects: it begins at once.
    for (auto& c : r.conns) c->first_open = false;
    begin_measuring(r);
    for (auto& c : r.conns) next_cycle(*c);
  } else {
    r.connecting = uint32_t(r.conns.size());
    for (auto& c : r.conns) open_conn(*c);
  }
  if (r.active == 0) r.finished = true;
  while (!r.finished) {
    if (r.loop.run(ringsock::RunMode::once) < 0) break;
  }
  if (interrupt_signal() != 0) return;  // cut short: nothing below is so
  // A thread whose every slot failed before its window ended: the rest of
  // its schedule never went out.
  if (!r.sending_done) count_unsent(r, r.send_end != 0 ? r.send_end : monotonic_ns());
  // A run that never connected, ended with its connects still on their way
  // (churn shorter than the connect timeout, against a server whose SYNs
  // are dropped): each is a connect that timed out with the run, so the
  // run says it could not connect instead of "errors none".
  if (!r.stream || r.stats.established != 0) return;
  for (auto& c : r.conns) {
    if (c->fd >= 0 && !c->ready && c->io_op.in_flight()) record_error(r, -ETIMEDOUT);
  }
}

}  // namespace

void run_load_thread(const ThreadPlan& plan, ThreadResult& out) {
  Runner r(plan, out);
  std::string error;
  if (plan.custom != nullptr && !r.checker.init(plan.custom->checks, error)) {
    // Compiled once by run_load already: not expected to fail here.
    snprintf(out.backend_reason, sizeof out.backend_reason, "%s", error.c_str());
    out.init_error = -EINVAL;
  } else if (int rc = init_loop(r, out); rc < 0) {
    out.init_error = rc;
  } else {
    make_conns(r);
    run(r);
  }
  out.finish_ns = monotonic_ns();
  if (r.checker.failed() != 0) out.failure_report = r.checker.failure_report();
  if (!r.framing_error.empty()) {
    if (!out.failure_report.empty()) out.failure_report += "\n";
    out.failure_report += r.framing_error;
  }
  finish_intervals(r, out.finish_ns);
  out.measure_start_ns = r.measuring ? r.measure_start : 0;
  publish(r);
  r.loop.deinit();
  for (auto& c : r.conns) {
    if (c->fd >= 0) close(c->fd);
  }
  if (plan.progress != nullptr) plan.progress->done.store(true, std::memory_order_release);
}

}  // namespace ringsock_cli
