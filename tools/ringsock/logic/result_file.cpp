#include "logic/result_file.hpp"

#include "logic/hlog.hpp"
#include "logic/json_reader.hpp"

namespace ringsock::tool {

namespace {

std::uint64_t counter_in(const std::vector<std::pair<std::string, std::uint64_t>>& counters,
                         std::string_view name) noexcept {
  for (const auto& [n, v] : counters)
    if (n == name) return v;
  return 0;
}

const Histogram* histogram_in(const std::vector<NamedHistogram>& histograms,
                              std::string_view name) noexcept {
  for (const auto& h : histograms)
    if (h.name == name) return &h.histogram;
  return nullptr;
}

}  // namespace

std::uint64_t RunRecord::counter(std::string_view name) const noexcept {
  return counter_in(counters, name);
}

const Histogram* RunRecord::histogram(std::string_view name) const noexcept {
  return histogram_in(histograms, name);
}

std::uint64_t RunInterval::counter(std::string_view name) const noexcept {
  return counter_in(counters, name);
}

const Histogram* RunInterval::histogram(std::string_view name) const noexcept {
  return histogram_in(histograms, name);
}

std::string compatibility_version(std::string_view version) {
  const auto dot = version.find('.');
  const std::string_view major = version.substr(0, dot);
  if (major != "0" || dot == std::string_view::npos) return std::string(major);
  const auto dot2 = version.find('.', dot + 1);
  return std::string(version.substr(0, dot2));
}

namespace {

void write_config(JsonWriter& w, const RunConfig& c) {
  w.key("config").begin_object();
  w.field("mode", c.mode).field("framing", c.framing).field("arrival", c.arrival);
  w.field("size_min", c.size_min).field("size_max", c.size_max).field("inflight", c.inflight);
  w.field("connections", c.connections).field("rate", c.rate).field("count", c.count);
  w.field("duration_ns", c.duration_ns).field("warmup_ns", c.warmup_ns).field("seed", c.seed);
  if (c.framing == "custom") {
    w.key("requests").begin_array();
    for (const std::string& request : c.custom.requests) w.value(request);
    w.end_array();
    w.field("reply", c.custom.reply);
    w.key("checks").begin_array();
    for (const std::string& check : c.custom.checks) w.value(check);
    w.end_array();
  }
  w.end_object();
}

void write_histogram(JsonWriter& w, const NamedHistogram& n) {
  const Histogram& h = n.histogram;
  w.begin_object();
  w.field("name", n.name).field("lowest_discernible", 1).field("highest_trackable", h.highest_trackable());
  w.field("significant_digits", 3).field("count", h.count()).field("min", h.min());
  w.field("max", h.max()).field("sum", static_cast<double>(h.sum()));
  w.field("hdr", encode_hdr_base64(h));
  w.end_object();
}

void write_counters_and_histograms(JsonWriter& w,
                                   const std::vector<std::pair<std::string, std::uint64_t>>& counters,
                                   const std::vector<NamedHistogram>& histograms) {
  w.key("counters").begin_object();
  for (const auto& [name, value] : counters) w.field(name, value);
  w.end_object();
  w.key("histograms").begin_array();
  for (const auto& h : histograms) write_histogram(w, h);
  w.end_array();
}

}  // namespace

void write_run_record(JsonWriter& w, const RunRecord& r) {
  w.key("run").begin_object();
  w.field("format", kRunFormat).field("format_version", kRunFormatVersion);
  w.field("ringsock_version", r.ringsock_version);
  w.key("shard").begin_object().field("index", r.shard.index).field("count", r.shard.count).end_object();
  w.field("host", r.host).field("clock_source", r.clock_source);
  w.field("start_at_unix_ns", r.start_at_unix_ns).field("start_skew_ns", r.start_skew_ns);
  w.field("started_unix_ns", r.started_unix_ns);
  write_config(w, r.config);
  w.field("endpoint", r.endpoint).field("backend", r.backend).field("threads", r.threads);
  w.field("connections", r.connections).field("seconds", r.seconds).field("cpu_seconds", r.cpu_seconds);
  if (r.local_ports != 0) w.field("local_ports", r.local_ports);
  if (r.interrupted != 0) w.field("interrupted", r.interrupted);
  write_counters_and_histograms(w, r.counters, r.histograms);
  w.key("intervals").begin_array();
  for (const RunInterval& i : r.intervals) {
    w.begin_object().field("start_s", i.start_s).field("length_s", i.length_s);
    write_counters_and_histograms(w, i.counters, i.histograms);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

std::string run_record_document(const RunRecord& r) {
  std::string text;
  JsonWriter w(text, 2);
  w.begin_object();
  write_run_record(w, r);
  w.end_object();
  text += '\n';
  return text;
}

namespace {

// Field readers: each names the field it could not read ("run.config.mode").
class Fields {
 public:
  Fields(const JsonValue& object, std::string path) : o_(object), path_(std::move(path)) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  const JsonValue* get(std::string_view key, JsonValue::Kind kind, const char* what) {
    const JsonValue* v = o_.find(key);
    if (v == nullptr) return fail(key, "is missing"), nullptr;
    if (v->kind != kind) return fail(key, std::string("is not ") + what), nullptr;
    return v;
  }
  void text(std::string_view key, std::string& out) {
    if (const JsonValue* v = get(key, JsonValue::Kind::string, "a string")) out = v->text;
  }
  void u64(std::string_view key, std::uint64_t& out) {
    const JsonValue* v = get(key, JsonValue::Kind::number, "a number");
    if (v == nullptr) return;
    if (auto n = v->as_u64()) out = *n;
    else fail(key, "is not a whole number from 0 to 2^64-1");
  }
  void u32(std::string_view key, std::uint32_t& out) {
    std::uint64_t v = 0;
    u64(key, v);
    if (v > UINT32_MAX) fail(key, "is too large");
    out = static_cast<std::uint32_t>(v);
  }
  void i64(std::string_view key, std::int64_t& out) {
    const JsonValue* v = get(key, JsonValue::Kind::number, "a number");
    if (v == nullptr) return;
    if (auto n = v->as_i64()) out = *n;
    else fail(key, "is not a whole number");
  }
  void real(std::string_view key, double& out) {
    const JsonValue* v = get(key, JsonValue::Kind::number, "a number");
    if (v == nullptr) return;
    if (auto n = v->as_double(); n && *n >= 0) out = *n;
    else fail(key, "is not a finite number >= 0");
  }
  void fail(std::string_view key, const std::string& what) {
    if (error_.empty()) error_ = path_ + "." + std::string(key) + " " + what;
  }

 private:
  const JsonValue& o_;
  std::string path_;
  std::string error_;
};

std::string read_config(const JsonValue& run, RunConfig& c) {
  const JsonValue* o = run.find("config");
  if (o == nullptr || !o->is_object()) return "run.config is missing or not an object";
  Fields f(*o, "run.config");
  f.text("mode", c.mode);
  f.text("framing", c.framing);
  f.text("arrival", c.arrival);
  f.u64("size_min", c.size_min);
  f.u64("size_max", c.size_max);
  f.u64("inflight", c.inflight);
  f.u64("connections", c.connections);
  f.u64("rate", c.rate);
  f.u64("count", c.count);
  f.u64("duration_ns", c.duration_ns);
  f.u64("warmup_ns", c.warmup_ns);
  f.u64("seed", c.seed);
  if (!f.ok() || c.framing != "custom") return f.error();
  auto texts = [&](const char* key, std::vector<std::string>& out) -> std::string {
    const JsonValue* a = f.get(key, JsonValue::Kind::array, "an array");
    if (a == nullptr) return f.error();
    for (const JsonValue& v : a->items) {
      if (v.kind != JsonValue::Kind::string)
        return std::string("run.config.") + key + " holds something that is not a string";
      out.push_back(v.text);
    }
    return {};
  };
  if (std::string e = texts("requests", c.custom.requests); !e.empty()) return e;
  if (c.custom.requests.empty()) return "run.config.requests is empty: a custom run has requests";
  f.text("reply", c.custom.reply);
  if (!f.ok()) return f.error();
  return texts("checks", c.custom.checks);
}

std::string read_histogram(const JsonValue& v, const std::string& path, NamedHistogram& out) {
  if (!v.is_object()) return path + " is not an object";
  Fields f(v, path);
  std::uint64_t lowest = 0, highest = 0, digits = 0, count = 0, min = 0, max = 0;
  double sum = 0;
  std::string hdr;
  f.text("name", out.name);
  f.u64("lowest_discernible", lowest);
  f.u64("highest_trackable", highest);
  f.u64("significant_digits", digits);
  f.u64("count", count);
  f.u64("min", min);
  f.u64("max", max);
  f.real("sum", sum);
  f.text("hdr", hdr);
  if (!f.ok()) return f.error();
  const std::string name = path + " (" + out.name + ")";
  if (lowest != 1 || digits != 3)
    return name + ": lowest discernible " + std::to_string(lowest) + " and " +
           std::to_string(digits) + " significant digits; ringsock records 1 and 3";
  auto decoded = decode_hdr_base64(hdr);
  if (auto* e = std::get_if<std::string>(&decoded)) return name + ": " + *e;
  out.histogram = std::move(std::get<Histogram>(decoded));
  if (out.histogram.highest_trackable() != highest)
    return name + ": highest_trackable says " + std::to_string(highest) + ", the encoding " +
           std::to_string(out.histogram.highest_trackable());
  if (out.histogram.count() != count)
    return name + ": impossible counts: count says " + std::to_string(count) +
           ", the buckets hold " + std::to_string(out.histogram.count());
  if (!out.histogram.restore_stats(min, max, static_cast<long double>(sum)))
    return name + ": impossible min " + std::to_string(min) + ", max " + std::to_string(max) +
           " or sum for the samples in its buckets";
  return {};
}

// "counters" of `owner` (the run or one of its intervals, named by `path`).
std::string read_counters(const JsonValue& owner, const std::string& path,
                          std::vector<std::pair<std::string, std::uint64_t>>& out) {
  const JsonValue* o = owner.find("counters");
  if (o == nullptr || !o->is_object()) return path + ".counters is missing or not an object";
  for (const auto& [name, v] : o->members) {
    auto n = v.as_u64();
    if (!n) return path + ".counters." + name + " is not a whole number from 0 to 2^64-1";
    out.emplace_back(name, *n);
  }
  return {};
}

std::string read_histograms(const JsonValue& owner, const std::string& path,
                            std::vector<NamedHistogram>& out) {
  const JsonValue* a = owner.find("histograms");
  if (a == nullptr || !a->is_array()) return path + ".histograms is missing or not an array";
  for (std::size_t i = 0; i < a->items.size(); ++i) {
    NamedHistogram h;
    const std::string item = path + ".histograms[" + std::to_string(i) + "]";
    if (std::string e = read_histogram(a->items[i], item, h); !e.empty()) return e;
    if (histogram_in(out, h.name) != nullptr) return path + ".histograms: '" + h.name + "' twice";
    out.push_back(std::move(h));
  }
  return {};
}

// "intervals": optional (absent in results written before intervals were
// recorded); present, every interval must read and they must be in time order.
std::string read_intervals(const JsonValue& run, std::vector<RunInterval>& out) {
  const JsonValue* a = run.find("intervals");
  if (a == nullptr) return {};
  if (!a->is_array()) return "run.intervals is not an array";
  for (std::size_t i = 0; i < a->items.size(); ++i) {
    const std::string path = "run.intervals[" + std::to_string(i) + "]";
    const JsonValue& v = a->items[i];
    if (!v.is_object()) return path + " is not an object";
    RunInterval interval;
    Fields f(v, path);
    f.real("start_s", interval.start_s);
    f.real("length_s", interval.length_s);
    if (!f.ok()) return f.error();
    if (!out.empty() && interval.start_s < out.back().start_s)
      return path + ".start_s goes back in time";
    if (std::string e = read_counters(v, path, interval.counters); !e.empty()) return e;
    if (std::string e = read_histograms(v, path, interval.histograms); !e.empty()) return e;
    out.push_back(std::move(interval));
  }
  return {};
}

std::string read_identity(const JsonValue& run, RunRecord& r) {
  Fields f(run, "run");
  std::string format;
  std::uint64_t version = 0;
  f.text("format", format);
  f.u64("format_version", version);
  if (f.ok() && format != kRunFormat) return "run.format is '" + format + "', not ringsock-run";
  if (f.ok() && version != kRunFormatVersion)
    return "run.format_version " + std::to_string(version) + " is not " +
           std::to_string(kRunFormatVersion) + " (written by another ringsock version?)";
  f.text("ringsock_version", r.ringsock_version);
  if (const JsonValue* s = f.get("shard", JsonValue::Kind::object, "an object")) {
    Fields sf(*s, "run.shard");
    sf.u32("index", r.shard.index);
    sf.u32("count", r.shard.count);
    if (!sf.ok()) return sf.error();
    if (r.shard.count == 0 || r.shard.count > kMaxShards || r.shard.index >= r.shard.count)
      return "run.shard " + std::to_string(r.shard.index) + "/" + std::to_string(r.shard.count) +
             " is not a shard (0-based index below the count)";
  }
  f.text("host", r.host);
  f.text("clock_source", r.clock_source);
  f.i64("start_at_unix_ns", r.start_at_unix_ns);
  f.i64("start_skew_ns", r.start_skew_ns);
  f.i64("started_unix_ns", r.started_unix_ns);
  f.text("endpoint", r.endpoint);
  f.text("backend", r.backend);
  f.u64("threads", r.threads);
  f.u64("connections", r.connections);
  f.real("seconds", r.seconds);
  f.real("cpu_seconds", r.cpu_seconds);
  if (run.find("local_ports") != nullptr) f.u32("local_ports", r.local_ports);  // churn only
  if (run.find("interrupted") != nullptr) f.u32("interrupted", r.interrupted);
  if (!f.ok()) return f.error();
  // Bounds that keep the merge's arithmetic exact (a window's end in
  // nanoseconds fits an int64): what lies outside them is no run.
  constexpr double kMaxSeconds = 1e8;                       // three years
  constexpr std::int64_t kMaxUnixNs = 4'102'444'800'000'000'000;  // 2100-01-01
  if (r.seconds > kMaxSeconds || r.cpu_seconds > kMaxSeconds)
    return "run.seconds or run.cpu_seconds is over 1e8 s: not a run";
  for (const auto& [name, value] : {std::pair<const char*, std::int64_t>{"start_at_unix_ns", r.start_at_unix_ns},
                                    {"started_unix_ns", r.started_unix_ns}}) {
    if (value < 0 || value > kMaxUnixNs)
      return std::string("run.") + name + " " + std::to_string(value) +
             " is not a time between 1970 and 2100";
  }
  return {};
}

}  // namespace

std::variant<RunRecord, std::string> read_run_record(std::string_view json_text) {
  auto parsed = parse_json(json_text);
  if (auto* e = std::get_if<std::string>(&parsed)) return *e;
  const JsonValue& root = std::get<JsonValue>(parsed);
  const JsonValue* run = root.find("run");
  if (run == nullptr || !run->is_object())
    return std::string(
        "not a mergeable ringsock result: no \"run\" object (write it with ringsock load --json)");
  RunRecord r;
  if (std::string e = read_identity(*run, r); !e.empty()) return e;
  if (std::string e = read_config(*run, r.config); !e.empty()) return e;
  if (std::string e = read_counters(*run, "run", r.counters); !e.empty()) return e;
  if (std::string e = read_histograms(*run, "run", r.histograms); !e.empty()) return e;
  if (std::string e = read_intervals(*run, r.intervals); !e.empty()) return e;
  return r;
}

}  // namespace ringsock::tool
