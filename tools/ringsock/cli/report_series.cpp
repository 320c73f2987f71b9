#include "report_series.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "logic/json_reader.hpp"
#include "logic/report_page.hpp"
#include "logic/result_file.hpp"
#include "output_file.hpp"

namespace ringsock_cli {

namespace tool = ringsock::tool;

namespace {

std::string text_of(const tool::JsonValue* v) {
  if (v == nullptr) return {};
  if (v->kind == tool::JsonValue::Kind::string || v->kind == tool::JsonValue::Kind::number) return v->text;
  return {};
}

const tool::JsonValue* member(const tool::JsonValue& doc, const char* object, const char* key) {
  const tool::JsonValue* o = doc.find(object);
  return o != nullptr ? o->find(key) : nullptr;
}

// Paced runs measure latency from each message's intended send time too.
bool open_loop(const tool::RunRecord& r) { return r.config.rate != 0 && r.config.mode == "rate"; }

// What this result was asked: a shard its share of the run's rate (its
// connections' part, as load splits it), a whole run the rate itself.
double asked_rate(const tool::RunRecord& r) {
  if (r.shard.count <= 1 || r.config.connections == 0) return double(r.config.rate);
  return double(r.config.rate) * double(r.connections) / double(r.config.connections);
}

std::string us_text(uint64_t ns) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f us", double(ns) / 1e3);
  return buf;
}

std::string sizes_text(const tool::RunRecord& r) {
  const tool::RunConfig& c = r.config;
  std::string s = std::to_string(c.size_min);
  if (c.size_max != c.size_min) s += "-" + std::to_string(c.size_max);
  s += " B messages, " + std::to_string(c.connections) + " connection(s), inflight " +
       std::to_string(c.inflight);
  if (c.rate != 0) s += ", rate " + std::to_string(c.rate) + "/s (" + c.arrival + ")";
  if (r.threads > 1) s += ", " + std::to_string(r.threads) + " threads";
  return s;
}

tool::RunFacts facts_of(const tool::RunRecord& r, const tool::JsonValue& doc) {
  tool::RunFacts f;
  f.command_line = text_of(member(doc, "environment", "command_line"));
  if (f.command_line.empty()) f.command_line = text_of(doc.find("command_line"));
  f.endpoint = r.endpoint;
  f.mode = r.config.mode;
  f.sizes = sizes_text(r);
  // The reason names the backend itself: "epoll (io_uring_setup: EPERM)".
  const tool::JsonValue* backend = doc.find("backend");
  const std::string reason = text_of(backend != nullptr ? backend->find("reason") : nullptr);
  f.backend = reason.empty() ? r.backend : reason;
  f.kernel = text_of(doc.find("kernel"));
  f.version = r.ringsock_version;
  f.seed = std::to_string(r.config.seed);
  return f;
}

const char* rate_counter(const tool::RunRecord& r) {
  if (r.config.mode == "throughput") return "sent";
  if (r.config.mode == "churn") return "cycles";
  return "received";
}

uint64_t total_errors(const std::vector<std::pair<std::string, uint64_t>>& counters) {
  uint64_t sum = 0;
  for (const auto& [name, value] : counters)
    if (name.rfind("errors.", 0) == 0) sum += value;
  return sum;
}

std::vector<tool::SummaryRow> summary_of(const tool::RunRecord& r, const tool::Histogram* main) {
  std::vector<tool::SummaryRow> rows;
  const double rate = r.seconds > 0 ? double(r.counter(rate_counter(r))) / r.seconds : 0;
  char buf[64];
  snprintf(buf, sizeof buf, "%.0f", rate);
  rows.push_back({r.config.mode == "churn" ? "connections/s" : "messages/s", buf});
  if (r.config.rate != 0) {
    char asked[32];
    snprintf(asked, sizeof asked, "%.0f", asked_rate(r));
    rows.push_back({r.shard.count > 1 ? "asked rate/s (its share)" : "asked rate/s", asked});
  }
  if (main != nullptr && main->count() > 0) {
    rows.push_back({"p50", us_text(main->value_at_percentile(50))});
    rows.push_back({"p99", us_text(main->value_at_percentile(99))});
    rows.push_back({"p99.9", us_text(main->value_at_percentile(99.9))});
    rows.push_back({"max", us_text(main->max())});
  }
  rows.push_back({"sent", std::to_string(r.counter("sent"))});
  rows.push_back({"errors", std::to_string(total_errors(r.counters))});
  rows.push_back({"verification failures", std::to_string(r.counter("verify_failures"))});
  snprintf(buf, sizeof buf, "%.3f s", r.seconds);
  rows.push_back({"measured", buf});
  return rows;
}

std::vector<tool::CheckVerdict> checks_of(const tool::JsonValue& doc) {
  std::vector<tool::CheckVerdict> out;
  const tool::JsonValue* list = doc.find("assertions");
  if (list == nullptr || !list->is_array()) return out;
  for (const tool::JsonValue& item : list->items) {
    const tool::JsonValue* passed = item.find("passed");
    out.push_back({text_of(item.find("check")),
                   passed != nullptr && passed->kind == tool::JsonValue::Kind::boolean && passed->boolean});
  }
  return out;
}

tool::IntervalPoint interval_of(const tool::RunRecord& r, const tool::RunInterval& in) {
  tool::IntervalPoint p;
  p.start_s = in.start_s;
  if (const tool::Histogram* h = in.histogram("latency")) tool::set_interval_latency(p, *h);
  const double length_s = in.length_s > 0 ? in.length_s : 1;
  p.rate_per_s = double(in.counter(rate_counter(r))) / length_s;
  if (r.config.rate != 0 && (r.config.mode == "rate" || r.config.mode == "churn"))
    p.asked_rate_per_s = asked_rate(r);
  for (const auto& [name, value] : in.counters) {
    if (name.rfind("errors.", 0) == 0 && value != 0) p.errors[name.substr(7)] += value;
  }
  if (uint64_t v = in.counter("verify_failures")) p.errors["verification"] += v;
  p.connections_open = in.counter("connections_open");
  return p;
}

}  // namespace

std::variant<tool::ReportSeries, std::string> series_from_result(const std::string& label,
                                                                 std::string_view json_text) {
  auto parsed = tool::parse_json(json_text);
  if (auto* e = std::get_if<std::string>(&parsed)) return *e;
  auto record = tool::read_run_record(json_text);
  if (auto* e = std::get_if<std::string>(&record)) return *e;
  const tool::JsonValue& doc = std::get<tool::JsonValue>(parsed);
  const tool::RunRecord& r = std::get<tool::RunRecord>(record);
  tool::ReportSeries s;
  s.label = label;
  s.facts = facts_of(r, doc);
  s.checks = checks_of(doc);
  const tool::Histogram* corrected = r.histogram("latency");
  const tool::Histogram* uncorrected = r.histogram("latency_uncorrected");
  if (open_loop(r)) {
    if (uncorrected != nullptr) s.latency = tool::percentile_spectrum(*uncorrected);
    if (corrected != nullptr) s.corrected = tool::percentile_spectrum(*corrected);
  } else if (corrected != nullptr) {
    s.latency = tool::percentile_spectrum(*corrected);
  }
  s.summary = summary_of(r, corrected);
  s.rate_unit = r.config.mode == "churn" ? "connections/s" : "messages/s";
  s.tracks_connections = r.config.mode == "churn" || r.config.mode == "idle";
  // A merged result (merge --json lists its shards) is the whole among its
  // shards when they are drawn with it: black and on top.
  s.highlight = doc.find("shards") != nullptr;
  // The rest of a run after its last whole second (a run of 3.002 s ends
  // with 2 ms) is too short to draw as a second; the JSON keeps it. A run
  // of one short interval is drawn as it is.
  for (size_t i = 0; i < r.intervals.size(); ++i) {
    const tool::RunInterval& in = r.intervals[i];
    const bool short_rest = i > 0 && i + 1 == r.intervals.size() && in.length_s < 0.25;
    if (!short_rest) s.intervals.push_back(interval_of(r, in));
  }
  if (s.latency.empty() && s.corrected.empty() && s.intervals.empty() && r.counter("sent") != 0) {
    return "it has no latency samples and no one-second intervals (a " + r.config.mode +
           " run recorded by a ringsock that writes no intervals): nothing to draw";
  }
  return s;
}

std::string write_report_page(const std::vector<tool::ReportSeries>& results, const std::string& path,
                              bool* write_failed) {
  auto page = tool::render_report_page(results);
  if (auto* e = std::get_if<tool::ReportError>(&page)) return e->message;
  const std::string& text = std::get<std::string>(page);
  if (int error = write_output_file(path, text)) {
    if (write_failed != nullptr) *write_failed = true;
    return "cannot write " + path + ": " + strerror(error);
  }
  return {};
}

}  // namespace ringsock_cli
