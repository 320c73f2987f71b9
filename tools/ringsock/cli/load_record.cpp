#include "load_record.hpp"

#include <unistd.h>

#include <cstring>

#include "load_requests.hpp"

#ifndef RINGSOCK_VERSION
#define RINGSOCK_VERSION "unknown"
#endif

namespace ringsock_cli {

namespace tool = ringsock::tool;

namespace {

// The named LoadStats fields, in the order they are written.
struct CounterField {
  const char* name;
  uint64_t LoadStats::*field;
};

constexpr CounterField kCounterFields[] = {
    {"sent", &LoadStats::sent},
    {"received", &LoadStats::received},
    {"bytes_sent", &LoadStats::bytes_sent},
    {"bytes_received", &LoadStats::bytes_received},
    {"sent_all", &LoadStats::sent_all},
    {"replied_all", &LoadStats::replied_all},
    {"verify_failures", &LoadStats::verify_failures},
    {"duplicates", &LoadStats::duplicates},
    {"reordered", &LoadStats::reordered},
    {"gaps", &LoadStats::gaps},
    {"established", &LoadStats::established},
    {"failed_connections", &LoadStats::failed_connections},
    {"unsent", &LoadStats::unsent},
    {"opened", &LoadStats::opened},
    {"cycles", &LoadStats::cycles},
    {"held", &LoadStats::held},
    {"final_sent", &LoadStats::final_sent},
};

std::string error_counter(int kind) { return std::string("errors.") + load_error_name(kind); }
std::string verdict_counter(int v) {
  return "verdicts." + std::string(tool::to_string(tool::Verdict(v)));
}

std::string this_host() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

}  // namespace

const char* framing_name(const LoadArgs& args) noexcept {
  return args.sockperf ? "sockperf" : "ringsock";
}

std::vector<std::pair<std::string, uint64_t>> load_counters(const LoadStats& s) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const CounterField& f : kCounterFields) out.emplace_back(f.name, s.*f.field);
  for (int k = 0; k < kLoadErrorKinds; ++k) out.emplace_back(error_counter(k), s.errors[k]);
  for (int v = 1; v < kVerdicts; ++v) out.emplace_back(verdict_counter(v), s.verdicts[v]);
  return out;
}

LoadStats stats_from_counters(const std::vector<std::pair<std::string, uint64_t>>& counters) {
  LoadStats s;
  for (const auto& [name, value] : counters) {
    for (const CounterField& f : kCounterFields)
      if (name == f.name) s.*f.field = value;
    for (int k = 0; k < kLoadErrorKinds; ++k)
      if (name == error_counter(k)) s.errors[k] = value;
    for (int v = 1; v < kVerdicts; ++v)
      if (name == verdict_counter(v)) s.verdicts[v] = value;
  }
  return s;
}

tool::RunRecord make_run_record(const LoadReport& r, const RunIdentity& id) {
  const LoadArgs& a = *r.args;
  tool::RunRecord out;
  out.ringsock_version = RINGSOCK_VERSION;
  out.shard = id.shard;
  out.host = id.host.empty() ? this_host() : id.host;
  out.clock_source = id.clock_source;
  out.start_at_unix_ns = id.start_at_unix_ns;
  out.start_skew_ns = id.start_skew_ns;
  out.started_unix_ns = id.started_unix_ns;
  out.config.mode = mode_name(a.mode);
  out.config.framing = r.custom_config != nullptr ? "custom" : framing_name(a);
  if (r.custom_config != nullptr) out.config.custom = *r.custom_config;
  out.config.arrival = a.arrival == Arrival::poisson ? "poisson" : "constant";
  out.config.size_min = a.size_min;
  out.config.size_max = a.size_max;
  out.config.inflight = a.inflight;
  out.config.connections = id.total_connections ? id.total_connections : a.connections;
  out.config.rate = id.total_rate ? id.total_rate : a.rate;
  out.config.count = id.total_count ? id.total_count : a.count;
  out.config.duration_ns = a.duration_bound_ns();
  out.config.warmup_ns = a.warmup_ns;
  out.config.seed = a.seed;
  char url[ringsock::kEndpointUrlMax];
  out.endpoint = ringsock::format_endpoint(a.endpoint, url, sizeof url) < 0 ? "?" : url;
  out.backend = r.backend;
  out.threads = a.threads;
  out.connections = a.connections;
  out.seconds = r.seconds;
  out.cpu_seconds = r.cpu_seconds;
  out.local_ports = r.local_ports;
  out.counters = load_counters(*r.stats);
  out.histograms.push_back({"latency", r.latency->corrected});
  out.histograms.push_back({"latency_uncorrected", r.latency->uncorrected});
  if (id.connect != nullptr) out.histograms.push_back({"connect", *id.connect});
  return out;
}

namespace {

bool mode_from_name(const std::string& name, LoadMode& out) {
  for (LoadMode m : {LoadMode::pingpong, LoadMode::throughput, LoadMode::rate, LoadMode::churn,
                     LoadMode::idle}) {
    if (name == mode_name(m)) return out = m, true;
  }
  return false;
}

}  // namespace

bool args_from_record(const tool::RunRecord& record, LoadArgs& a) {
  const tool::RunConfig& c = record.config;
  a = LoadArgs{};
  if (!mode_from_name(c.mode, a.mode)) return false;
  if (c.framing != "ringsock" && c.framing != "sockperf" && c.framing != "custom") return false;
  a.sockperf = c.framing == "sockperf";
  a.arrival = c.arrival == "poisson" ? Arrival::poisson : Arrival::constant;
  a.size_min = uint32_t(std::min<uint64_t>(c.size_min, UINT32_MAX));
  a.size_max = uint32_t(std::min<uint64_t>(c.size_max, UINT32_MAX));
  a.inflight = uint32_t(std::min<uint64_t>(c.inflight, UINT32_MAX));
  a.connections = uint32_t(std::min<uint64_t>(c.connections, UINT32_MAX));
  a.rate = uint32_t(std::min<uint64_t>(c.rate, UINT32_MAX));
  a.count = c.count;
  a.duration_ns = c.duration_ns;
  a.duration_given = c.count != 0 && c.duration_ns != 0;  // both bounded the run
  a.warmup_ns = c.warmup_ns;
  a.seed = c.seed;
  a.threads = uint32_t(std::min<uint64_t>(record.threads, UINT32_MAX));
  // The endpoint is for the table only; one that does not parse prints as '?'.
  ringsock::parse_endpoint(record.endpoint, a.endpoint);
  return true;
}

}  // namespace ringsock_cli
