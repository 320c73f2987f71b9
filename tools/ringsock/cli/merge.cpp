#include "merge.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>

#include "args.hpp"
#include "load.hpp"
#include "load_output.hpp"
#include "load_record.hpp"
#include "logic/hlog.hpp"
#include "logic/hlog_merge.hpp"
#include "logic/json.hpp"
#include "logic/run_merge.hpp"
#include "output_file.hpp"
#include "value_options.hpp"
#include "result_input.hpp"
#include "usage.hpp"

namespace ringsock_cli {

namespace tool = ringsock::tool;

namespace {

double shard_rate(const tool::RunRecord& r) {
  const uint64_t messages = r.config.mode == "throughput" ? r.counter("sent") : r.counter("received");
  return r.seconds > 0 ? double(messages) / r.seconds : 0;
}

uint64_t shard_errors(const tool::RunRecord& r) {
  uint64_t sum = 0;
  for (const auto& [name, value] : r.counters)
    if (name.rfind("errors.", 0) == 0) sum += value;
  return sum;
}

void print_shards(const std::vector<tool::MergeInput>& inputs) {
  printf("  %-14s %-7s %-16s %12s %12s %8s %8s %12s %9s\n", "shards", "shard", "host", "rate/s",
         "sent", "errors", "verify", "start skew", "seconds");
  std::vector<const tool::MergeInput*> ordered(inputs.size());
  for (const auto& in : inputs) ordered[in.record.shard.index] = &in;
  for (const auto* in : ordered) {
    const tool::RunRecord& r = in->record;
    char shard[24], skew[32];
    snprintf(shard, sizeof shard, "%u/%u", r.shard.index, r.shard.count);
    if (r.start_at_unix_ns == 0) snprintf(skew, sizeof skew, "-");
    else snprintf(skew, sizeof skew, "%+.1f us", double(r.start_skew_ns) / 1e3);
    printf("  %-14s %-7s %-16.16s %12.0f %12" PRIu64 " %8" PRIu64 " %8" PRIu64 " %12s %9.3f\n", "",
           shard, r.host.c_str(), shard_rate(r), r.counter("sent"), shard_errors(r),
           r.counter("verify_failures"), skew, r.seconds);
  }
}

// Churn's port hint for the merged run: each host's connections/s against
// its own port range (shards on one host share its ports, hosts do not);
// the host nearest its range speaks for the run.
void ports_of_busiest_host(const std::vector<tool::MergeInput>& inputs, double seconds,
                           LoadReport& report) {
  std::map<std::string, std::pair<uint64_t, uint32_t>> hosts;  // cycles, ports
  for (const auto& in : inputs) {
    auto& [cycles, ports] = hosts[in.record.host];
    cycles += in.record.counter("cycles");
    if (ports == 0 || (in.record.local_ports != 0 && in.record.local_ports < ports))
      ports = in.record.local_ports;
  }
  for (const auto& [host, load] : hosts) {
    const auto [cycles, ports] = load;
    const double rate = seconds > 0 ? double(cycles) / seconds : 0;
    if (ports == 0) continue;
    if (report.local_ports == 0 || rate / ports > report.local_rate / report.local_ports) {
      report.local_ports = ports;
      report.local_rate = rate;
    }
  }
}

void json_shards(tool::JsonWriter& w, const std::vector<tool::MergeInput>& inputs) {
  w.key("shards").begin_array();
  for (const auto& in : inputs) {
    const tool::RunRecord& r = in.record;
    w.begin_object().field("file", in.label).field("index", r.shard.index);
    w.field("count", r.shard.count).field("host", r.host).field("rate_achieved", shard_rate(r));
    w.field("sent", r.counter("sent")).field("errors", shard_errors(r));
    w.field("verification_failures", r.counter("verify_failures"));
    w.field("start_skew_ns", r.start_skew_ns).field("seconds", r.seconds).end_object();
  }
  w.end_array();
}

std::string merged_json(const LoadReport& report, const std::vector<tool::CheckResult>& checks,
                        const tool::RunRecord& whole, const std::vector<tool::MergeInput>& inputs) {
  std::string text;
  tool::JsonWriter w(text, 2);
  w.begin_object();
  write_load_json_fields(w, report, checks);
  json_shards(w, inputs);
  tool::write_run_record(w, whole);
  w.end_object();
  return text + "\n";
}

std::string merged_hlog(const tool::RunRecord& whole, const std::vector<tool::MergeInput>& inputs) {
  const int64_t start = whole.started_unix_ns ? whole.started_unix_ns : whole.start_at_unix_ns;
  std::string text = tool::hlog_header(
      {.start_unix_s = double(start) / 1e9,
       .comment = "ringsock merge of " + std::to_string(inputs.size()) + " shard(s), whole run"});
  for (const auto& h : whole.histograms) text += tool::hlog_interval(h.name, 0, whole.seconds, h.histogram);
  return text;
}

// The exit code load would give the whole run; and a shard whose every
// connection failed leaves the run without its share of the load: exit 7,
// as load's own for that shard, where nothing weightier applies.
int merged_verdict(const LoadReport& report, const std::vector<tool::MergeInput>& inputs,
                   bool checks_passed) {
  const int code = load_verdict(report, "merge", 0, checks_passed);
  if (code != 0 && code != kExitNothing && code != kExitAssert) return code;
  for (const auto& in : inputs) {
    const tool::RunRecord& r = in.record;
    if (report.args->mode == LoadMode::churn || r.connections == 0 ||
        r.counter("failed_connections") < r.connections)
      continue;
    fprintf(stderr, "ringsock merge: every connection of shard %u/%u (%s) failed: the run lacks "
            "its share of the load\n", r.shard.index, r.shard.count, in.label.c_str());
    return kExitAllFailed;
  }
  // A shard cut short by a signal: as load's own exit for it, 128 + signal.
  for (const auto& in : inputs) {
    const uint32_t signal_number = in.record.interrupted;
    if (signal_number == 0 || signal_number > 64) continue;
    fprintf(stderr, "ringsock merge: shard %u/%u (%s) was interrupted by %s: the run lacks the rest "
            "of its share\n", in.record.shard.index, in.record.shard.count, in.label.c_str(),
            strsignal(int(signal_number)));
    return interrupted_exit(code, int(signal_number));
  }
  return code;
}

int fail(const std::string& message, int code = kExitUsage) {
  fprintf(stderr, "ringsock merge: %s\n", message.c_str());
  return code;
}

// A histogram log starts with a comment, the legend or an interval line; a
// JSON result with '{'.
bool looks_like_hlog(const std::string& text) {
  const size_t at = text.find_first_not_of(" \t\r\n");
  return at != std::string::npos && (text[at] == '#' || text[at] == '"' || text.compare(at, 4, "Tag=") == 0);
}

// Reads every file, JSON results into inputs and histogram logs into logs;
// the first error is the result.
int read_inputs(const MergeArgs& args, std::vector<tool::MergeInput>& inputs,
                std::vector<tool::HlogInput>& logs) {
  for (const std::string& path : args.inputs) {
    std::string text, error;
    if (!read_result_file(path, text, error)) return fail(error);
    if (looks_like_hlog(text)) {
      auto log = tool::read_hlog(text);
      if (auto* e = std::get_if<std::string>(&log)) return fail(path + ": " + *e);
      logs.push_back({path, std::move(std::get<tool::HlogFile>(log))});
      continue;
    }
    auto record = tool::read_run_record(text);
    if (auto* e = std::get_if<std::string>(&record)) return fail(path + ": " + *e);
    inputs.push_back({path, std::move(std::get<tool::RunRecord>(record))});
  }
  return 0;
}

// Whether two logs hold the same latency samples, second by second: a copy
// of one log under another name. (Logs without them, as throughput's, with
// at most a connect sample or two, may be alike in two shards: no copies.)
bool same_samples(const tool::HlogFile& a, const tool::HlogFile& b) {
  if (a.intervals.size() != b.intervals.size()) return false;
  uint64_t samples = 0;
  for (size_t i = 0; i < a.intervals.size(); ++i) {
    const tool::HlogInterval& x = a.intervals[i];
    const tool::HlogInterval& y = b.intervals[i];
    if (x.tag != y.tag || x.start_s != y.start_s || x.count != y.count || x.encoded != y.encoded)
      return false;
    if (x.tag != "connect") samples += x.count;
  }
  return samples != 0;
}

// One log per shard, no file given twice: the logs are added as they are,
// so a log twice or one missing would count twice or not at all. A copy
// under another name is told by its samples (and caught by the totals too,
// log_matches_run).
std::string logs_match_shards(const std::vector<tool::HlogInput>& logs, size_t shards) {
  if (logs.size() != shards) {
    return std::to_string(logs.size()) + " log(s) for " + std::to_string(shards) +
           " shard(s): give each shard's --hlog once";
  }
  for (size_t i = 0; i < logs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (same_file(logs[j].label, logs[i].label))
        return logs[j].label + " and " + logs[i].label + " are the same log";
      if (same_samples(logs[j].file, logs[i].file))
        return logs[j].label + " and " + logs[i].label + " hold the same samples: one log twice";
    }
  }
  return {};
}

// The logs' samples of each tag, added over their seconds, are the merged
// results' histogram of that name, bucket by bucket: logs of another run, a
// copy of another shard's log, or lines repeated are refused, not added.
std::string log_matches_run(const tool::HlogFile& log, const tool::RunRecord& whole) {
  for (const auto& h : whole.histograms) {
    tool::Histogram pooled(h.histogram.highest_trackable());
    bool tagged = false;
    for (const tool::HlogInterval& interval : log.intervals) {
      if (interval.tag != h.name) continue;
      tagged = true;
      auto decoded = interval.histogram();  // read_hlog has decoded it once already: it does
      if (const auto* one = std::get_if<tool::Histogram>(&decoded)) pooled.merge(*one);
    }
    if (!tagged) continue;
    const std::string question = ": are they the logs of these shards?";
    if (pooled.count() != h.histogram.count()) {
      return "the logs hold " + std::to_string(pooled.count()) + " '" + h.name +
             "' sample(s), the results " + std::to_string(h.histogram.count()) + question;
    }
    bool same = pooled.bucket_count() == h.histogram.bucket_count();
    for (size_t i = 0; same && i < pooled.bucket_count(); ++i)
      same = pooled.count_at(i) == h.histogram.count_at(i);
    if (!same) return "the logs' '" + h.name + "' samples are not the results'" + question;
  }
  return {};
}

}  // namespace

int parse_merge_args(int argc, const char* const* argv, MergeArgs& out, std::string& error) {
  out = MergeArgs{};
  for (int i = 2; i < argc; ++i) {
    ValueArg arg;
    if (int rc = next_value_arg(Command::merge, "merge", argc, argv, i, arg, error)) return rc;
    if (arg.kind == ValueArg::Kind::help) {
      out.help = true;
      return 0;
    }
    if (arg.kind == ValueArg::Kind::positional) out.inputs.emplace_back(arg.name);
    else if (arg.name == "--json") out.json_file = arg.value;
    else if (arg.name == "--hlog") out.hlog_file = arg.value;
    else if (arg.name == "--assert") out.assertions = arg.value;
  }
  if (out.inputs.empty()) {
    error = "merge needs the JSON results of the shards, e.g. ringsock merge shard-*.json";
    return kExitUsage;
  }
  if (!out.assertions.empty()) {
    auto parsed = tool::parse_assertions(out.assertions);
    if (auto* e = std::get_if<tool::ParseError>(&parsed)) {
      error = "bad value for --assert: " + e->message;
      return kExitUsage;
    }
  }
  return 0;
}

int run_merge(int argc, const char* const* argv) {
  MergeArgs args;
  std::string error;
  if (parse_merge_args(argc, argv, args, error) != 0) return fail(error);
  if (args.help) {
    print_usage(Command::merge, stdout);
    return 0;
  }
  // An output over an input would replace what was just read.
  for (const std::string* out : {&args.json_file, &args.hlog_file}) {
    if (out->empty()) continue;
    for (const std::string& in : args.inputs)
      if (same_file(*out, in)) return fail(*out + " is one of the inputs: the merge would replace it");
  }
  if (!args.json_file.empty() && !args.hlog_file.empty() && same_file(args.json_file, args.hlog_file))
    return fail("--json and --hlog name one file (" + args.json_file + "): give each its own");
  std::vector<tool::MergeInput> inputs;
  std::vector<tool::HlogInput> logs;
  if (int rc = read_inputs(args, inputs, logs)) return rc;
  if (inputs.empty()) return fail("no JSON result among the inputs (the .hlog logs come with them)");
  if (!logs.empty() && args.hlog_file.empty())
    return fail("histogram logs are merged into --hlog OUT: give it");
  auto merged = tool::merge_runs(inputs);
  if (auto* e = std::get_if<std::string>(&merged)) return fail("cannot merge: " + *e);
  const tool::RunRecord& whole = std::get<tool::RunRecord>(merged);
  // The logs are merged before anything is printed: a refusal prints nothing else.
  std::string hlog_text;
  if (!logs.empty()) {
    if (std::string e = logs_match_shards(logs, inputs.size()); !e.empty())
      return fail("cannot merge the logs: " + e);
    auto merged_logs = tool::merge_hlogs(logs);
    if (auto* e = std::get_if<std::string>(&merged_logs)) return fail("cannot merge the logs: " + *e);
    const tool::HlogFile& merged_log = std::get<tool::HlogFile>(merged_logs);
    if (std::string e = log_matches_run(merged_log, whole); !e.empty())
      return fail("cannot merge the logs: " + e);
    hlog_text = tool::write_hlog(merged_log,
                                 "ringsock merge of " + std::to_string(logs.size()) + " log(s)");
  }
  static LoadArgs load_args;  // holds an Endpoint: not for the stack
  if (!args_from_record(whole, load_args))
    return fail("cannot merge: mode '" + whole.config.mode + "' or framing '" +
                whole.config.framing + "' is unknown to this ringsock");
  load_args.assertions = args.assertions.empty() ? nullptr : args.assertions.c_str();
  const LoadStats stats = stats_from_counters(whole.counters);
  tool::LatencyPair latency;
  if (const auto* h = whole.histogram("latency")) latency.corrected = *h;
  if (const auto* h = whole.histogram("latency_uncorrected")) latency.uncorrected = *h;
  LoadReport report;
  report.args = &load_args;
  report.stats = &stats;
  report.latency = &latency;
  report.seconds = whole.seconds;
  report.cpu_seconds = whole.cpu_seconds;
  report.backend = whole.backend.c_str();
  report.backend_reason = whole.backend.c_str();
  if (whole.config.framing == "custom") report.custom_config = &whole.config.custom;
  ports_of_busiest_host(inputs, whole.seconds, report);
  printf("ringsock merge: %zu shard(s) of one run\n", inputs.size());
  print_load_table(report);
  print_shards(inputs);
  const std::vector<tool::CheckResult> checks = evaluate_load_checks(report);
  for (const auto& c : checks) printf("  assert         %s\n", c.line.c_str());
  fflush(stdout);
  // Both outputs are written before either is put in place: a failure leaves neither.
  OutputFiles outputs;
  if (!args.json_file.empty()) {
    if (int failed = outputs.stage(args.json_file, merged_json(report, checks, whole, inputs)))
      return fail("cannot write " + args.json_file + ": " + strerror(failed), 1);
  }
  if (hlog_text.empty() && !args.hlog_file.empty()) hlog_text = merged_hlog(whole, inputs);
  if (!args.hlog_file.empty()) {
    if (int failed = outputs.stage(args.hlog_file, hlog_text))
      return fail("cannot write " + args.hlog_file + ": " + strerror(failed), 1);
  }
  if (int failed = outputs.commit()) return fail(std::string("cannot write: ") + strerror(failed), 1);
  return merged_verdict(report, inputs, tool::all_passed(checks));
}


}  // namespace ringsock_cli
