// `ringsock load`: checks, one thread per --threads, the progress line, the
// merged results; the report itself is in load_report.cpp.
#include "load.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <thread>
#include <vector>

#include "load_interrupt.hpp"
#include "load_record.hpp"
#include "load_runner.hpp"
#include "output_file.hpp"
#include "resolve.hpp"
#include "logic/assertion.hpp"
#include "logic/hlog.hpp"
#include "logic/interval_recorder.hpp"
#include "logic/result_file.hpp"
#include "logic/shard.hpp"
#include "logic/start_at.hpp"
#include "serve.hpp"
#include "start_wait.hpp"

namespace ringsock_cli {


namespace {

namespace tool = ringsock::tool;

double cpu_seconds() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void sleep_ns(uint64_t ns) noexcept {
  timespec ts{time_t(ns / 1'000'000'000ULL), long(ns % 1'000'000'000ULL)};
  nanosleep(&ts, nullptr);
}

// Once a second on a terminal, summed over the threads (p99: the worst thread's).
void print_progress(const std::vector<ThreadProgress>& progress, uint64_t start_ns, uint64_t now) {
  uint64_t sent = 0, replied = 0, errors = 0, p99 = 0;
  for (const auto& p : progress) {
    sent += p.sent.load(std::memory_order_relaxed);
    replied += p.replied.load(std::memory_order_relaxed);
    errors += p.errors.load(std::memory_order_relaxed);
    p99 = std::max(p99, p.p99_ns.load(std::memory_order_relaxed));
  }
  fprintf(stderr, "\r[%5.1fs] sent %llu, replies %llu, p99 %.1f us, errors %llu   ",
          double(now - start_ns) / 1e9, (unsigned long long)sent, (unsigned long long)replied,
          double(p99) / 1e3, (unsigned long long)errors);
  fflush(stderr);
}

bool all_done(const std::vector<ThreadProgress>& progress) {
  for (const auto& p : progress) {
    if (!p.done.load(std::memory_order_acquire)) return false;
  }
  return true;
}

// One interval's histograms as the collector gave them, by interval index.
struct CollectedInterval {
  uint64_t first = 0;
  std::vector<tool::Histogram> metrics;
};

// The per-second histograms of every thread, merged on this thread.
struct Intervals {
  std::vector<std::unique_ptr<tool::IntervalRecorder>> recorders;
  std::unique_ptr<tool::IntervalCollector> collector;
  std::vector<CollectedInterval> collected;

  void take(bool all) {
    if (!collector) return;
    auto keep = [this](uint64_t first, uint64_t, const std::vector<tool::Histogram>& metrics) {
      collected.push_back({first, metrics});
    };
    if (all) collector->drain(keep);
    else collector->poll(keep);
  }
};

// Runs every thread to the end; the calling thread draws the progress line
// and collects the finished seconds.
void run_threads(std::vector<ThreadPlan>& plans,
                 std::vector<std::unique_ptr<ThreadResult>>& results, Intervals& intervals) {
  std::vector<ThreadProgress> progress(plans.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < plans.size(); ++t) {
    plans[t].progress = &progress[t];
    threads.emplace_back([&plan = plans[t], &out = *results[t]] { run_load_thread(plan, out); });
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  const uint64_t start = plans[0].start_ns;
  uint64_t next_print = start + 1'000'000'000ULL;
  while (!all_done(progress)) {
    sleep_ns(20'000'000);
    intervals.take(false);
    uint64_t now = monotonic_ns();
    if (tty && now >= next_print) {
      print_progress(progress, start, now);
      next_print = now + 1'000'000'000ULL;
    }
  }
  for (auto& thread : threads) thread.join();
  intervals.take(true);
  if (tty && monotonic_ns() >= start + 1'000'000'000ULL) fputs("\n", stderr);
}

// The largest reply a custom request's reply may be: what one connection's
// assembler holds on a stream (taken when it opens, touched as replies
// need it), a whole datagram otherwise.
constexpr size_t kMaxStreamReply = size_t(1) << 20;
constexpr size_t kMaxDatagramReply = 65536;

// --request, --reply-*, --expect-* compiled, before anything starts.
int compile_custom(const LoadArgs& args, bool stream, CustomRequests& out) {
  RequestOptions options;
  for (uint32_t i = 0; i < args.request_option_count; ++i) {
    const TypedRequestOption& o = args.request_options[i];
    TypedOption typed{o.name, o.value};
    if (o.name.starts_with("--request")) options.requests.push_back(typed);
    else if (o.name.starts_with("--reply")) options.framing.push_back(typed);
    else options.checks.push_back(typed);
  }
  std::string error;
  const bool replies = args.mode != LoadMode::throughput;
  if (!compile_requests(options, stream, replies, stream ? kMaxStreamReply : kMaxDatagramReply, out,
                        error)) {
    fprintf(stderr, "ringsock: %s\n", error.c_str());
    return kExitUsage;
  }
  if (args.sockperf) {
    fprintf(stderr, "ringsock: --sockperf frames ringsock's own messages, not --request's\n");
    return kExitUsage;
  }
  if (!stream && out.requests.max_size() > kMaxDatagram) {
    fprintf(stderr, "ringsock: a --request of up to %zu bytes does not fit in one datagram (at "
                    "most %u)\n", out.requests.max_size(), kMaxDatagram);
    return kExitUsage;
  }
  return 0;
}

// The ENDPOINT's addresses: one unless a host name gave several.
int resolve(const LoadArgs& args, std::vector<ringsock::Endpoint>& out) {
  if (!args.resolve) {
    out.push_back(args.endpoint);
    return 0;
  }
  AddressFamily family = args.family == IpFamily::ipv4   ? AddressFamily::ipv4
                         : args.family == IpFamily::ipv6 ? AddressFamily::ipv6
                                                         : AddressFamily::any;
  // Connections leave from --source: only its family's addresses are reachable.
  if (args.source.count != 0) {
    family = args.source.first.family() == AF_INET ? AddressFamily::ipv4 : AddressFamily::ipv6;
  }
  Resolved resolved = resolve_endpoints(args.endpoint_url, family);
  if (resolved.status == ResolveStatus::ok) {
    out = std::move(resolved.endpoints);
    return 0;
  }
  fprintf(stderr, "ringsock load: %s\n", resolved.error.c_str());
  return resolved.status == ResolveStatus::bad_url ? kExitUsage : kExitConnect;
}

std::vector<ThreadPlan> make_plans(const LoadArgs& args, const ThreadPlan& shared) {
  std::vector<ThreadPlan> plans(args.threads, shared);
  uint64_t start = monotonic_ns();
  uint32_t before = 0;  // connections of the threads before t
  for (uint32_t t = 0; t < args.threads; ++t) {
    ThreadPlan& p = plans[t];
    p.args = &args;
    p.thread = t;
    p.threads = args.threads;
    const uint32_t mine = (args.connections - t + args.threads - 1) / args.threads;  // t, t+T, ...
    if (args.count != 0 && args.rate != 0) {
      // Paced, the count goes with the connections as the rate does (as
      // over shards), so every thread's share lasts equally long.
      p.count = tool::count_of_connections(args.count, args.connections, before, mine);
    } else {
      p.count = args.count == 0 ? 0 : args.count / args.threads + (t < args.count % args.threads ? 1 : 0);
    }
    before += mine;
    p.count_bounded = args.count != 0;
    p.start_ns = start;
  }
  return plans;
}

}  // namespace

void merge(LoadStats& into, const LoadStats& from) noexcept {
  into.sent += from.sent;
  into.received += from.received;
  into.bytes_sent += from.bytes_sent;
  into.bytes_received += from.bytes_received;
  into.sent_all += from.sent_all;
  into.replied_all += from.replied_all;
  into.verify_failures += from.verify_failures;
  for (int v = 0; v < kVerdicts; ++v) into.verdicts[v] += from.verdicts[v];
  for (int k = 0; k < kLoadErrorKinds; ++k) into.errors[k] += from.errors[k];
  into.duplicates += from.duplicates;
  into.reordered += from.reordered;
  into.gaps += from.gaps;
  into.established += from.established;
  into.opened += from.opened;
  into.cycles += from.cycles;
  into.held += from.held;
  into.final_sent += from.final_sent;
  into.failed_connections += from.failed_connections;
  into.unsent += from.unsent;
  if (into.first_error == 0) into.first_error = from.first_error;
  if (into.first_other == 0) into.first_other = from.first_other;
}

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

namespace {

// Limits the run would meet only after it started: refused now, with a sentence.
int check_before_start(const LoadArgs& args) {
  uint64_t limit = raise_fd_limit();
  uint64_t needed = uint64_t(args.connections) + kSpareFds + kFdsPerThread * args.threads;
  if (limit != 0 && limit < needed) {
    fprintf(stderr,
            "ringsock load: --connections %u needs about %llu file descriptors, but this process "
            "may open %llu (ulimit -n, already raised to its hard limit): use fewer connections "
            "or raise the hard limit\n",
            args.connections, (unsigned long long)needed, (unsigned long long)limit);
    return kExitUsage;
  }
  // Each output must be writable now (output_file.hpp: a temporary beside
  // it), so that a run cannot end with nowhere to put its results; nothing
  // is created by the check.
  const std::pair<const char*, const char*> outputs[] = {
      {"--json", args.json_file}, {"--report", args.report_file}, {"--hlog", args.hlog_file}};
  for (const auto& [option, path] : outputs) {
    if (path == nullptr) continue;
    if (int error = output_writable(path)) {
      fprintf(stderr, "ringsock load: cannot write %s %s: %s\n", option, path, strerror(error));
      return kExitUsage;
    }
  }
  return 0;
}

int64_t realtime_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

// This shard's LoadArgs: its connections, --count and --rate shares (the
// whole run's when not sharded). An error sentence when the split leaves a
// shard without work.
std::string shard_args(const LoadArgs& args, LoadArgs& local, ThreadPlan& shared) {
  tool::ShardSpec shard{args.shard_index, args.shard_count};
  auto planned = tool::plan_shard(shard, args.connections, args.count, args.rate, args.seed);
  if (auto* error = std::get_if<std::string>(&planned)) return *error;
  const auto& plan = std::get<tool::ShardPlan>(planned);
  local = args;
  local.connections = plan.connections.count;
  local.count = plan.count;
  local.rate = uint32_t(plan.rate + 0.5);
  local.threads = std::min(args.threads, local.connections);
  shared.first_connection = plan.connections.first;
  shared.total_connections = args.connections;
  shared.total_rate = args.rate;
  return "";
}

// Interval i's counters: the sum over threads of what changed in it (a
// thread that ended earlier holds its last values); connections_open is the
// gauge at its end.
std::vector<std::pair<std::string, uint64_t>> interval_counters(
    const std::vector<std::unique_ptr<ThreadResult>>& results, size_t i) {
  IntervalCounters delta;
  auto at = [](const std::vector<IntervalCounters>& v, size_t j) -> IntervalCounters {
    return v.empty() ? IntervalCounters{} : v[std::min(j, v.size() - 1)];
  };
  for (const auto& result : results) {
    const auto& v = result->interval_counters;
    IntervalCounters end = at(v, i);
    IntervalCounters begin = i == 0 ? IntervalCounters{} : at(v, i - 1);
    delta.sent += end.sent - begin.sent;
    delta.received += end.received - begin.received;
    delta.verify_failures += end.verify_failures - begin.verify_failures;
    delta.cycles += end.cycles - begin.cycles;
    for (int k = 0; k < kLoadErrorKinds; ++k) delta.errors[k] += end.errors[k] - begin.errors[k];
    delta.connections_open += end.connections_open;
  }
  std::vector<std::pair<std::string, uint64_t>> out = {
      {"sent", delta.sent}, {"received", delta.received}};
  for (int k = 0; k < kLoadErrorKinds; ++k) {
    out.emplace_back(std::string("errors.") + load_error_name(k), delta.errors[k]);
  }
  out.emplace_back("verify_failures", delta.verify_failures);
  out.emplace_back("connections_open", delta.connections_open);
  out.emplace_back("cycles", delta.cycles);
  return out;
}

// Every second of the run from the intervals' zero, counters and histograms
// (empty ones for a second without samples), in order; the last holds what
// is left of the run after its last whole second, with that length (a run
// of 3.002 s has a fourth interval of 0.002 s, not a second with nothing in it).
std::vector<tool::RunInterval> run_intervals(
    const std::vector<std::unique_ptr<ThreadResult>>& results, const Intervals& intervals,
    double end_s) {
  size_t count = 0;
  for (const auto& result : results) count = std::max(count, result->interval_counters.size());
  for (const auto& c : intervals.collected) count = std::max<size_t>(count, c.first + 1);
  std::vector<tool::RunInterval> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i].start_s = double(i);
    out[i].length_s = std::clamp(end_s - double(i), 0.001, 1.0);
    out[i].counters = interval_counters(results, i);
    for (const char* name : kIntervalMetrics) out[i].histograms.push_back({name, tool::Histogram()});
  }
  for (const auto& c : intervals.collected) {
    for (size_t m = 0; m < kIntervalMetricCount; ++m) {
      out[c.first].histograms[m].histogram.merge(c.metrics[m]);
    }
  }
  return out;
}

// The --hlog text: the header, then every interval's metrics.
std::string hlog_text(const std::vector<tool::RunInterval>& intervals, int64_t start_unix_ns) {
  tool::HlogHeader header;
  header.start_unix_s = double(start_unix_ns) / 1e9;
  header.comment = "ringsock load " RINGSOCK_VERSION;
  std::string text = tool::hlog_header(header);
  for (const auto& interval : intervals) {
    for (const auto& h : interval.histograms) {
      text += tool::hlog_interval(h.name, interval.start_s, interval.length_s, h.histogram);
    }
  }
  return text;
}

}  // namespace

int run_load(const LoadArgs& typed) {
  CustomRequests custom;
  const bool has_custom = typed.request_option_count != 0;
  if (has_custom) {
    if (int rc = compile_custom(typed, typed.endpoint.is_stream(), custom); rc != 0) return rc;
  }
  std::vector<ringsock::Endpoint> endpoints;
  if (int rc = resolve(typed, endpoints); rc != 0) return rc;
  LoadArgs args = typed;
  args.endpoint = endpoints.front();
  if (args.assertions != nullptr) {
    auto parsed = tool::parse_assertions(args.assertions);
    if (auto* error = std::get_if<tool::ParseError>(&parsed)) {
      fprintf(stderr, "ringsock: bad value for --assert: %s\n", error->message.c_str());
      return kExitUsage;
    }
  }
  LoadArgs local;
  ThreadPlan shared;
  if (std::string error = shard_args(args, local, shared); !error.empty()) {
    fprintf(stderr, "ringsock load: --shard %u/%u: %s\n", args.shard_index, args.shard_count,
            error.c_str());
    return kExitUsage;
  }
  if (int rc = check_before_start(local); rc != 0) return rc;
  // The intervals' zero: the common --start-at instant, or now.
  const int64_t now_unix = realtime_ns();
  const uint64_t now_mono = monotonic_ns();
  shared.start_at_unix_ns = args.start_at_unix_ns;
  shared.interval_start_ns =
      args.start_at_unix_ns != 0 ? tool::monotonic_at(args.start_at_unix_ns, now_unix, now_mono)
                                 : now_mono;
  if (shared.interval_start_ns == 0) shared.interval_start_ns = now_mono;
  const int64_t interval_start_unix =
      now_unix - int64_t(now_mono) + int64_t(shared.interval_start_ns);
  std::vector<ThreadPlan> plans = make_plans(local, shared);
  for (ThreadPlan& plan : plans) {
    plan.endpoints = &endpoints;
    plan.custom = has_custom ? &custom : nullptr;
    plan.max_reply_bytes = args.endpoint.is_stream() ? kMaxStreamReply : kMaxDatagramReply;
  }
  Intervals intervals;
  const bool recording =
      args.json_file != nullptr || args.hlog_file != nullptr || args.report_file != nullptr;
  if (recording) {
    std::vector<tool::IntervalRecorder*> pointers;
    for (auto& plan : plans) {
      intervals.recorders.push_back(std::make_unique<tool::IntervalRecorder>(
          kIntervalMetricCount, shared.interval_start_ns, kIntervalNs, 8));
      plan.recorder = intervals.recorders.back().get();
      pointers.push_back(plan.recorder);
    }
    intervals.collector = std::make_unique<tool::IntervalCollector>(pointers, kIntervalMetricCount);
  }
  std::vector<std::unique_ptr<ThreadResult>> results;
  for (size_t t = 0; t < plans.size(); ++t) results.push_back(std::make_unique<ThreadResult>());
  double cpu_start = cpu_seconds();
  catch_interrupts();
  run_threads(plans, results, intervals);
  restore_interrupt_handlers();
  double cpu = cpu_seconds() - cpu_start;
  for (const auto& result : results) {
    if (result->init_error < 0) {
      fprintf(stderr, "ringsock load: no backend: %s\n", result->backend_reason);
      return 1;
    }
  }
  LoadStats stats;
  tool::LatencyPair latency;
  tool::Histogram connect;
  for (const auto& result : results) connect.merge(result->connect);
  // The measured window: from the first thread's opening (its connections
  // up) to the last thread's end; none when no thread got that far.
  uint64_t begin = UINT64_MAX, finish = 0;
  for (const auto& result : results) {
    merge(stats, result->stats);
    latency.merge(result->latency);
    if (result->measure_start_ns == 0) continue;
    begin = std::min(begin, result->measure_start_ns);
    finish = std::max(finish, result->finish_ns);
  }
  for (const auto& result : results) {
    if (!result->failure_report.empty()) {
      fprintf(stderr, "ringsock load: %s\n", result->failure_report.c_str());
      break;
    }
  }
  LoadReport report;
  report.args = &local;
  report.custom = has_custom ? &custom : nullptr;
  const tool::CustomConfig described = has_custom ? describe_requests(custom) : tool::CustomConfig{};
  report.custom_config = has_custom ? &described : nullptr;
  report.stats = &stats;
  report.latency = &latency;
  report.seconds = finish > begin ? double(finish - begin) / 1e9 : 0;
  report.cpu_seconds = cpu;
  report.backend = results[0]->uring ? "io_uring" : "epoll";
  report.backend_reason = results[0]->backend_reason;
  if (local.mode == LoadMode::churn) {
    report.local_ports = ephemeral_ports();
    report.local_rate = report.seconds > 0 ? double(stats.cycles) / report.seconds : 0;
  }
  RunIdentity identity;
  identity.shard = {args.shard_index, args.shard_count};
  identity.start_at_unix_ns = args.start_at_unix_ns;
  identity.total_connections = args.connections;
  identity.total_count = args.count;
  identity.total_rate = args.rate;
  identity.connect = &connect;
  identity.started_unix_ns = begin != UINT64_MAX
                                 ? now_unix - int64_t(now_mono) + int64_t(begin)
                                 : 0;
  if (args.start_at_unix_ns != 0) {
    identity.clock_source = clock_source_description();
    for (const auto& result : results) {  // the latest thread's start: the skew it saw
      identity.start_skew_ns = std::max(identity.start_skew_ns, result->started.skew_ns);
    }
  }
  tool::RunRecord record = make_run_record(report, identity);
  record.interrupted = uint32_t(interrupt_signal());
  const uint64_t end_ns = finish > shared.interval_start_ns ? finish - shared.interval_start_ns : 0;
  record.intervals = run_intervals(results, intervals, double(end_ns) / 1e9);
  report.record = &record;
  int rc = report_load(report);
  if (args.hlog_file != nullptr) {
    if (int error = write_output_file(args.hlog_file, hlog_text(record.intervals, interval_start_unix))) {
      fprintf(stderr, "ringsock load: cannot write --hlog %s: %s\n", args.hlog_file,
              strerror(error));
      if (rc == 0 || rc == kExitAssert) rc = kExitResults;  // 8 comes before 5
    }
  }
  if (const int signal_number = interrupt_signal(); signal_number != 0) {
    // What ran is reported, but it is not the run asked for: never exit 0.
    fprintf(stderr, "ringsock load: interrupted by %s: the results are of the part that ran\n",
            strsignal(signal_number));
    rc = interrupted_exit(rc, signal_number);
  }
  return rc;
}

}  // namespace ringsock_cli
