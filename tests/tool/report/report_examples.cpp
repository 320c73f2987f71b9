#include "report_examples.hpp"

#include <cmath>
#include <cstdio>

#include "logic/histogram.hpp"

namespace ringsock::tool::examples {
namespace {

// A small deterministic generator (splitmix64): no std::random engine,
// whose distributions differ between standard libraries.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  double uniform() {  // in (0, 1)
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (static_cast<double>(z >> 11) + 0.5) / 9007199254740992.0;
  }

 private:
  std::uint64_t state_;
};

// A latency with a long right tail: log-normal around the median.
std::uint64_t latency_ns(Random& r, double median_us) {
  const double u1 = r.uniform();
  const double u2 = r.uniform();
  const double normal = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  return static_cast<std::uint64_t>(median_us * 1e3 * std::exp(0.45 * normal));
}

std::string us_text(std::uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f us", static_cast<double>(ns) / 1e3);
  return buf;
}

void add_facts(ReportSeries& s, const RunShape& shape) {
  const bool open_loop = shape.mode == "rate";
  s.facts.command_line = "ringsock load tcp://127.0.0.1:9000 --mode " + shape.mode + " -c 50 -s 64" +
                         (open_loop ? " --rate 20000" : "") + " -d " + std::to_string(shape.seconds) +
                         "s --assert 'p99<200us,errors=0'";
  s.facts.endpoint = "tcp://127.0.0.1:9000";
  s.facts.mode = shape.mode;
  s.facts.sizes = "64 B messages, 50 connections";
  s.facts.backend = shape.backend;
  s.facts.kernel = "6.1.0-28-amd64";
  s.facts.version = "0.4.0";
  s.facts.seed = std::to_string(shape.seed);
}

}  // namespace

ReportSeries make_run(const RunShape& shape) {
  ReportSeries s;
  s.label = shape.label;
  add_facts(s, shape);
  const bool open_loop = shape.mode == "rate";
  const bool churn = shape.mode == "churn";
  s.rate_unit = churn ? "connections/s" : "messages/s";
  s.tracks_connections = churn;
  Random random(shape.seed);
  Histogram whole;
  Histogram whole_corrected;
  std::uint64_t errors = 0;
  // A tenth of the real rate, so the tests stay quick; the rates drawn are the real ones.
  const int samples_per_s = static_cast<int>(shape.rate_per_s / 10);
  for (int second = 0; second < shape.seconds; ++second) {
    Histogram interval;
    const bool stall = second == shape.stall_second;
    for (int i = 0; i < samples_per_s; ++i) {
      std::uint64_t ns = latency_ns(random, shape.median_us);
      // A stall of 50 ms: messages due during it wait for it to end.
      const std::uint64_t waited = stall && i < samples_per_s / 20 ? 50'000'000 - i * 10'000ULL : 0;
      whole.record(ns);
      interval.record(ns + waited);
      whole_corrected.record(ns + waited);
    }
    IntervalPoint p;
    p.start_s = second;
    set_interval_latency(p, interval);
    p.rate_per_s = shape.rate_per_s * (stall ? 0.93 : 1.0) * (1 + 0.01 * std::sin(second));
    if (open_loop) p.asked_rate_per_s = shape.rate_per_s;
    if ((second + shape.seed) % 4 == 0) p.errors["ECONNRESET"] = 1 + (second + shape.seed) % 3;
    if (stall) p.errors["timeout"] = 12;
    for (const auto& [kind, n] : p.errors) errors += n;
    p.connections_open = churn ? 40 + (second * 7) % 11 : 50;
    s.intervals.push_back(p);
  }
  const Histogram& main = open_loop ? whole_corrected : whole;
  s.latency = percentile_spectrum(whole);
  if (open_loop) s.corrected = percentile_spectrum(whole_corrected);
  s.summary = {{"p50", us_text(main.value_at_percentile(50))},
               {"p99", us_text(main.value_at_percentile(99))},
               {"p99.9", us_text(main.value_at_percentile(99.9))},
               {"max", us_text(main.max())},
               {churn ? "connections/s" : "messages/s", std::to_string(static_cast<long>(shape.rate_per_s))},
               {"errors", std::to_string(errors)}};
  const bool p99_ok = main.value_at_percentile(99) < 200'000;
  s.checks = {{"p99 = " + us_text(main.value_at_percentile(99)) + " < 200us: " + (p99_ok ? "ok" : "FAILED"), p99_ok},
              {"errors = " + std::to_string(errors) + " = 0: " + (errors == 0 ? "ok" : "FAILED"), errors == 0}};
  return s;
}

}  // namespace ringsock::tool::examples
