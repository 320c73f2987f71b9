// The results of `ringsock load`: a table for people, JSON for machines,
// --assert checks, and the exit code.
#include <sys/utsname.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "load.hpp"
#include "output_file.hpp"
#include "load_output.hpp"
#include "load_requests.hpp"
#include "load_record.hpp"
#include "report_series.hpp"
#include "logic/assertion.hpp"
#include "logic/escape.hpp"
#include "logic/json.hpp"
#include "logic/result_file.hpp"

#ifndef RINGSOCK_VERSION
#define RINGSOCK_VERSION "unknown"
#endif

namespace ringsock_cli {

namespace {

namespace tool = ringsock::tool;

constexpr double kStandardPercentiles[] = {50, 90, 99, 99.9, 99.99};
constexpr const char* kStandardNames[] = {"p50", "p90", "p99", "p99.9", "p99.99"};

const char* verdict_name(int v) noexcept {
  return tool::to_string(tool::Verdict(v)).data();
}

uint64_t total_errors(const LoadStats& s) noexcept {
  uint64_t sum = 0;
  for (uint64_t e : s.errors) sum += e;
  return sum;
}

double loss_fraction(const LoadReport& r) noexcept {
  const LoadStats& s = *r.stats;
  if (r.args->mode == LoadMode::throughput || s.sent_all == 0) return 0;
  return s.sent_all > s.replied_all ? double(s.sent_all - s.replied_all) / double(s.sent_all) : 0;
}

double achieved_rate(const LoadReport& r) noexcept {
  const LoadStats& s = *r.stats;
  uint64_t messages = r.args->mode == LoadMode::throughput ? s.sent : s.received;
  return r.seconds > 0 ? double(messages) / r.seconds : 0;
}

double cpu_per_message_ns(const LoadReport& r) noexcept {
  uint64_t messages = r.stats->sent_all;
  return messages > 0 ? r.cpu_seconds * 1e9 / double(messages) : 0;
}

double connections_per_s(const LoadReport& r) noexcept {
  return r.seconds > 0 ? double(r.stats->cycles) / r.seconds : 0;
}

}  // namespace

// The ports a TCP connect may pick (net.ipv4.ip_local_port_range in this
// network namespace), or 0 when it cannot be read.
uint32_t ephemeral_ports() noexcept {
  FILE* f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
  if (f == nullptr) return 0;
  unsigned low = 0, high = 0;
  bool read = fscanf(f, "%u %u", &low, &high) == 2;
  fclose(f);
  return read && high >= low ? high - low + 1 : 0;
}

namespace {

// Churn over TCP from one local address, at a quarter or more of the
// ephemeral ports per second: every port the client closes waits in
// TIME_WAIT, reusable for the same server a second later at the soonest
// (loopback), so connect's search for a free port, not the server, can be
// what sets the rate (on loopback both backends stopped near half the
// range per second; bench/README.md). Returns the range's size then, else 0.
uint32_t churn_port_bound(const LoadReport& r) noexcept {
  const LoadArgs& a = *r.args;
  if (a.mode != LoadMode::churn || a.endpoint.transport != ringsock::Transport::tcp) return 0;
  if (a.source.count > 1 || a.source.port_low != 0) return 0;  // spread, or reset with fixed ports
  const uint32_t ports = r.local_ports;
  return ports != 0 && r.local_rate * 4 >= double(ports) ? ports : 0;
}

const tool::Histogram& main_latency(const LoadReport& r) noexcept {
  return r.latency->corrected;
}

void print_latency_row(const char* title, const tool::Histogram& h, const LoadArgs& a) {
  printf("  %-14s", title);
  if (h.count() == 0) {
    printf(" no samples\n");
    return;
  }
  for (size_t i = 0; i < 5; ++i) {
    printf(" %s %.1f", kStandardNames[i], double(h.value_at_percentile(kStandardPercentiles[i])) / 1e3);
  }
  printf(" max %.1f", double(h.max()) / 1e3);
  for (uint32_t i = 0; i < a.percentile_count; ++i) {
    printf(" p%g %.1f", a.percentiles[i], double(h.value_at_percentile(a.percentiles[i])) / 1e3);
  }
  printf("\n");
}

void print_errors(const LoadStats& s) {
  printf("  %-14s", "errors");
  if (total_errors(s) == 0) printf(" none");
  for (int k = 0; k < kLoadErrorKinds; ++k) {
    if (s.errors[k] == 0) continue;
    const char* hint = load_error_hint(k);
    printf(" %s %llu%s%s%s", load_error_name(k), (unsigned long long)s.errors[k],
           *hint ? " (" : "", hint, *hint ? ")" : "");
  }
  // "other" says nothing by itself: name its first as the kernel does.
  if (s.errors[kLoadOther] != 0 && s.first_other < 0) {
    printf("; first other: %s", strerror(-s.first_other));
  }
  printf("\n");
}

void print_verification(const LoadReport& r) {
  const LoadStats& s = *r.stats;
  printf("  %-14s %llu failure(s)", "verification", (unsigned long long)s.verify_failures);
  if (r.custom != nullptr) {
    // The user's checks, and replies that could not be framed.
    const uint64_t unframed = s.verdicts[int(tool::Verdict::wrong_length)];
    const uint64_t checks = s.verdicts[int(tool::Verdict::payload_mismatch)];
    if (checks != 0) printf(" failed check %llu", (unsigned long long)checks);
    if (unframed != 0) printf(" unframable %llu", (unsigned long long)unframed);
  } else {
    for (int v = 1; v < kVerdicts; ++v) {
      if (s.verdicts[v] != 0) printf(" %s %llu", verdict_name(v), (unsigned long long)s.verdicts[v]);
    }
  }
  printf("\n");
  if (!r.args->endpoint.is_stream() && r.args->mode == LoadMode::throughput) {
    // A sink never answers: nothing here tells a datagram lost on the way.
    printf("  %-14s %llu sent to a sink, which does not answer: losses on the way are not seen\n"
           "  %-14s here (the server's drops say them)\n",
           "datagrams", (unsigned long long)s.sent_all, "");
  } else if (!r.args->endpoint.is_stream()) {
    // Over every datagram sent, the warmup's too (its replies may come after it).
    printf("  %-14s lost %.4f%% (%llu of %llu unanswered%s), duplicates %llu, reordered %llu\n",
           "datagrams", loss_fraction(r) * 100,
           (unsigned long long)(s.sent_all - std::min(s.sent_all, s.replied_all)),
           (unsigned long long)s.sent_all, s.sent_all != s.sent ? ", warmup included" : "",
           (unsigned long long)s.duplicates, (unsigned long long)s.reordered);
  }
}

}  // namespace

void print_load_table(const LoadReport& r) {
  const LoadArgs& a = *r.args;
  const LoadStats& s = *r.stats;
  char url[ringsock::kEndpointUrlMax];
  if (ringsock::format_endpoint(a.endpoint, url, sizeof url) < 0) snprintf(url, sizeof url, "?");
  char size[64];
  if (r.custom_config != nullptr) {
    snprintf(size, sizeof size, "%zu request(s)", r.custom_config->requests.size());
  } else {
    snprintf(size, sizeof size, "size %u-%u", a.size_min, a.size_max);
  }
  printf("ringsock load %s: %s, %u connection(s), inflight %u, %s, %u thread(s), "
         "backend %s%s\n",
         a.resolve ? a.endpoint_url : url, mode_name(a.mode), a.connections, a.inflight, size,
         a.threads, r.backend, a.sockperf ? ", sockperf framing" : "");
  if (const tool::CustomConfig* c = r.custom_config; c != nullptr && !c->requests.empty()) {
    printf("  %-14s %s%s\n", "request", tool::cut_for_display(c->requests.front()).c_str(),
           c->requests.size() > 1 ? " (and more, in turn)" : "");
    if (!c->reply.empty()) printf("  %-14s %s\n", "reply", c->reply.c_str());
    for (const auto& check : c->checks) {
      printf("  %-14s %s\n", "check", tool::cut_for_display(check).c_str());
    }
  }
  if (strcmp(r.backend, r.backend_reason) != 0) printf("  %-14s %s\n", "backend", r.backend_reason);
  printf("  %-14s %.3f s measured (warmup %.3f s), seed %llu\n", "duration", r.seconds,
         double(a.warmup_ns) / 1e9, (unsigned long long)a.seed);
  printf("  %-14s sent %llu, replies verified %llu\n", "messages", (unsigned long long)s.sent,
         (unsigned long long)s.received);
  if (a.mode == LoadMode::churn) {
    printf("  %-14s %llu opened, connect+exchange+close %.0f/s", "connections",
           (unsigned long long)s.opened, connections_per_s(r));
    if (a.rate != 0) printf(" (asked %u/s)", a.rate);
    printf("\n");
    if (uint32_t ports = churn_port_bound(r); ports != 0) {
      printf("  %-14s %.0f/s from one local address, and the kernel has %u ephemeral ports,\n"
             "  %-14s each held in TIME_WAIT after its close: the port search may be what\n"
             "  %-14s limits this rate (--source A-B spreads connections over addresses)\n",
             "ports", r.local_rate, ports, "", "");
    }
  } else if (a.mode == LoadMode::idle) {
    printf("  %-14s %llu of %u held for %.3f s and verified at the end\n", "connections",
           (unsigned long long)s.held, a.connections, double(a.duration_ns) / 1e9);
  }
  if (a.mode == LoadMode::rate) {
    printf("  %-14s asked %u/s, achieved %.0f/s\n", "rate", a.rate, achieved_rate(r));
    if (s.unsent != 0) {
      printf("  %-14s %llu due in the window never went out (every --inflight slot waited on a\n"
             "  %-14s reply, or its connection had failed); the corrected latency counts each\n"
             "  %-14s as waiting until the window's end\n",
             "unsent", (unsigned long long)s.unsent, "", "");
    }
  } else {
    printf("  %-14s %.0f/s\n", "rate", achieved_rate(r));
  }
  printf("  %-14s out %.2f MB/s, in %.2f MB/s\n", "throughput",
         r.seconds > 0 ? double(s.bytes_sent) / r.seconds / 1e6 : 0,
         r.seconds > 0 ? double(s.bytes_received) / r.seconds / 1e6 : 0);
  if (a.mode != LoadMode::throughput) {
    print_latency_row(a.mode == LoadMode::churn ? "cycle us" : "latency us", main_latency(r), a);
    if (a.rate != 0) print_latency_row("uncorrected us", r.latency->uncorrected, a);
  }
  print_verification(r);
  print_errors(s);
  printf("  %-14s %.2f us per message (user+system)\n", "client cpu", cpu_per_message_ns(r) / 1e3);
}

namespace {

void json_histogram(tool::JsonWriter& w, const char* name, const tool::Histogram& h,
                    const LoadArgs& a) {
  w.key(name).begin_object();
  w.field("count", h.count()).field("min", h.min()).field("mean", h.mean());
  for (size_t i = 0; i < 5; ++i) w.field(kStandardNames[i], h.value_at_percentile(kStandardPercentiles[i]));
  w.field("max", h.max());
  w.key("extra").begin_object();
  for (uint32_t i = 0; i < a.percentile_count; ++i) {
    char key[32];
    snprintf(key, sizeof key, "p%g", a.percentiles[i]);
    w.field(key, h.value_at_percentile(a.percentiles[i]));
  }
  w.end_object().end_object();
}

// --request's, as the user would write them: requests, framing, checks
// (empty arrays and a null framing with ringsock's own messages).
void json_custom(tool::JsonWriter& w, const tool::CustomConfig* custom) {
  w.key("requests").begin_array();
  if (custom) {
    for (const auto& request : custom->requests) w.value(request);
  }
  w.end_array();
  if (custom && !custom->reply.empty()) w.field("framing", custom->reply);
  else w.key("framing").null();
  w.key("checks").begin_array();
  if (custom) {
    for (const auto& check : custom->checks) w.value(check);
  }
  w.end_array();
}

void json_config(tool::JsonWriter& w, const LoadReport& r) {
  const LoadArgs& a = *r.args;
  char url[ringsock::kEndpointUrlMax];
  if (ringsock::format_endpoint(a.endpoint, url, sizeof url) < 0) snprintf(url, sizeof url, "?");
  w.key("config").begin_object();
  w.field("endpoint", url).field("mode", mode_name(a.mode)).field("connections", a.connections);
  w.field("inflight", a.inflight).field("size_min", a.size_min).field("size_max", a.size_max);
  w.field("rate", a.rate).field("duration_ns", a.duration_bound_ns()).field("count", a.count);
  w.field("warmup_ns", a.warmup_ns).field("nodelay", a.nodelay).field("threads", a.threads);
  w.field("arrival", a.arrival == Arrival::poisson ? "poisson" : "constant");
  w.field("sockperf", a.sockperf).field("sndbuf", a.send_buffer).field("rcvbuf", a.receive_buffer);
  w.field("source_addresses", a.source.count).field("source_port_low", a.source.port_low);
  w.field("source_port_high", a.source.port_high);
  w.field("endpoint_typed", a.endpoint_url ? a.endpoint_url : url);
  w.field("timeout_ns", a.timeout_ns).field("batch_wait_us", a.batch_wait_us);
  w.field("busy_poll_us", a.busy_poll_us).field("zero_copy_bytes", a.zero_copy_bytes);
  json_custom(w, r.custom_config);
  w.end_object();
}

void json_environment(tool::JsonWriter& w, const LoadReport& r) {
  utsname name{};
  uname(&name);
  std::string kernel = std::string(name.sysname) + " " + name.release + " " + name.machine;
  w.field("version", RINGSOCK_VERSION).field("seed", r.args->seed).field("kernel", kernel);
  if (!command_line().empty()) w.field("command_line", command_line());
  w.key("backend").begin_object().field("name", r.backend).field("reason", r.backend_reason);
  w.end_object();
}

void json_results(tool::JsonWriter& w, const LoadReport& r) {
  const LoadStats& s = *r.stats;
  w.key("results").begin_object();
  w.field("seconds", r.seconds).field("sent", s.sent).field("received", s.received);
  w.field("unsent", s.unsent);
  w.field("bytes_sent", s.bytes_sent).field("bytes_received", s.bytes_received);
  w.field("rate_asked", r.args->rate).field("rate_achieved", achieved_rate(r));
  w.field("mb_per_s_out", r.seconds > 0 ? double(s.bytes_sent) / r.seconds / 1e6 : 0.0);
  w.field("loss", loss_fraction(r)).field("duplicates", s.duplicates).field("reordered", s.reordered);
  w.field("verification_failures", s.verify_failures).field("errors", total_errors(s));
  w.key("errors_by_kind").begin_object();
  for (int k = 0; k < kLoadErrorKinds; ++k) w.field(load_error_name(k), s.errors[k]);
  w.end_object();
  w.field("cpu_per_message_ns", cpu_per_message_ns(r));
  w.field("connections_opened", s.opened).field("connections_per_s", connections_per_s(r));
  w.field("connections_held", s.held);
  w.field("ports_may_limit", churn_port_bound(r));
  json_histogram(w, "latency_ns", main_latency(r), *r.args);
  json_histogram(w, "latency_uncorrected_ns", r.latency->uncorrected, *r.args);
  w.end_object();
}

void json_checks(tool::JsonWriter& w, const std::vector<tool::CheckResult>& checks) {
  w.key("assertions").begin_array();
  for (const auto& c : checks) {
    w.begin_object().field("check", c.line).field("passed", c.passed).end_object();
  }
  w.end_array();
}

}  // namespace

void write_load_json_fields(tool::JsonWriter& w, const LoadReport& r,
                            const std::vector<tool::CheckResult>& checks) {
  json_environment(w, r);
  json_config(w, r);
  json_results(w, r);
  json_checks(w, checks);
}

namespace {

// The --json document: the classic fields and the mergeable "run" record.
std::string result_json(const LoadReport& r, const std::vector<tool::CheckResult>& checks) {
  std::string text;
  tool::JsonWriter w(text, 2);
  w.begin_object();
  write_load_json_fields(w, r, checks);
  if (r.record != nullptr) tool::write_run_record(w, *r.record);
  else tool::write_run_record(w, make_run_record(r, RunIdentity{}));
  w.end_object();
  return text + "\n";
}

// The --report page, made from the same document a later `ringsock report`
// reads from the --json file. Returns false when it was not written.
bool write_report(const LoadReport& r, const std::vector<tool::CheckResult>& checks) {
  auto series = series_from_result(r.backend, result_json(r, checks));
  std::string why = std::holds_alternative<std::string>(series)
                        ? std::get<std::string>(series)
                        : write_report_page({std::get<tool::ReportSeries>(series)}, r.args->report_file);
  if (why.empty()) return true;
  fprintf(stderr, "ringsock load: no report written to %s: %s\n", r.args->report_file, why.c_str());
  return false;
}

// Returns 0 or the errno of the failed step.
int write_json(const LoadReport& r, const std::vector<tool::CheckResult>& checks) {
  const std::string text = result_json(r, checks);
  return write_output_file(r.args->json_file, text);
}

}  // namespace

std::vector<tool::CheckResult> evaluate_load_checks(const LoadReport& r) {
  if (r.args->assertions == nullptr) return {};
  auto parsed = tool::parse_assertions(r.args->assertions);
  const auto* checks = std::get_if<std::vector<tool::Check>>(&parsed);
  if (checks == nullptr) return {};
  tool::Results results;
  results.latency = &main_latency(r);
  results.errors = total_errors(*r.stats) + r.stats->verify_failures;
  results.loss = loss_fraction(r);
  results.rate = achieved_rate(r);
  results.achieved = r.args->rate ? results.rate / double(r.args->rate) : 1.0;
  results.cpu_per_msg_ns = cpu_per_message_ns(r);
  return tool::evaluate(*checks, results);
}

namespace {

// Every connection ended in an error (churn goes on after errors: never).
bool all_failed(const LoadReport& r) noexcept {
  return r.args->mode != LoadMode::churn && r.stats->failed_connections >= r.args->connections;
}

// Nothing to judge: no measured reply verified (throughput: nothing sent).
bool measured_nothing(const LoadReport& r) noexcept {
  return r.args->mode == LoadMode::throughput ? r.stats->sent == 0 : r.stats->received == 0;
}

void say_nothing_measured(const LoadReport& r, const char* command) {
  const LoadStats& s = *r.stats;
  if (r.args->mode == LoadMode::throughput) {
    fprintf(stderr, "ringsock %s: measured nothing: no message went out in the measured window\n",
            command);
    return;
  }
  const char* why = !r.args->endpoint.is_stream() ? "every datagram went unanswered"
                    : s.sent == 0                 ? "nothing was sent"
                                                  : "the server never answered";
  fprintf(stderr, "ringsock %s: measured nothing: %llu sent, no reply verified (%s)\n", command,
          (unsigned long long)s.sent, why);
}

}  // namespace

// The exit code and its one line on stderr; the first that applies wins.
int load_verdict(const LoadReport& r, const char* command, int json_error, bool checks_passed) {
  const LoadStats& s = *r.stats;
  // A merged run knows its errors by kind only: the first kind counted.
  int first_kind = kLoadOther;
  if (s.first_error != 0) {
    first_kind = classify_load_error(s.first_error);
  } else {
    for (int k = kLoadErrorKinds - 1; k >= 0; --k)
      if (s.errors[k] != 0) first_kind = k;
  }
  const char* hint = *load_error_hint(first_kind) ? load_error_hint(first_kind) : "see the errors above";
  if (s.established == 0 && total_errors(s) > 0) {
    fprintf(stderr, "ringsock %s: could not connect: %s (%s)\n", command, load_error_name(first_kind), hint);
    return kExitConnect;
  }
  if (s.verify_failures > 0) {
    fprintf(stderr, "ringsock %s: %llu repl(ies) failed verification\n", command,
            (unsigned long long)s.verify_failures);
    return kExitVerify;
  }
  if (all_failed(r)) {
    fprintf(stderr, "ringsock %s: every connection failed (%u of %u), first: %s (%s)\n",
            command, r.args->connections, r.args->connections, load_error_name(first_kind), hint);
    return kExitAllFailed;
  }
  if (measured_nothing(r)) {
    say_nothing_measured(r, command);
    return kExitNothing;
  }
  if (json_error != 0) return kExitResults;
  return checks_passed ? 0 : kExitAssert;
}

int interrupted_exit(int code, int signal_number) noexcept {
  const bool weightier = code != 0 && code != kExitAssert && code != kExitNothing;
  return weightier ? code : 128 + signal_number;
}

int report_load(const LoadReport& r) {
  print_load_table(r);
  std::vector<tool::CheckResult> checks = evaluate_load_checks(r);
  for (const auto& c : checks) printf("  assert         %s\n", c.line.c_str());
  fflush(stdout);
  int json_error = r.args->json_file != nullptr ? write_json(r, checks) : 0;
  if (json_error != 0) {
    fprintf(stderr, "ringsock load: cannot write the results to %s: %s\n", r.args->json_file,
            strerror(json_error));
  }
  if (r.args->report_file != nullptr && !write_report(r, checks) && json_error == 0) json_error = EIO;
  return load_verdict(r, "load", json_error, tool::all_passed(checks));
}

}  // namespace ringsock_cli
