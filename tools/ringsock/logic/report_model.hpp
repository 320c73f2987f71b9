// What `ringsock report` draws, as plain data: one ReportSeries per result
// (a run, one shard of a merged run, or the merged whole). The page
// (report_page.hpp) only reads this model, so whatever fills it - a result
// file, a finished `load` run, bench/compare - gets the same charts.
//
// Units are in the names: latencies in microseconds (_us), times in seconds
// (_s), rates per second (_per_s).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "logic/histogram.hpp"

namespace ringsock::tool {

// What was run, shown in the page's header. Empty fields are left out.
struct RunFacts {
  std::string command_line;  // as typed, e.g. "ringsock load tcp://127.0.0.1:9000 -c 50"
  std::string endpoint;      // "tcp://127.0.0.1:9000"
  std::string mode;          // "pingpong", "throughput", "rate", "churn", "idle"
  std::string sizes;         // "64 B messages, 50 connections, pipeline 1"
  std::string backend;       // "uring" or "epoll (io_uring_setup: EPERM)"
  std::string kernel;        // uname -r
  std::string version;       // ringsock's version
  std::string seed;          // the random seed, as text
};

// One row of the summary table: a name and this result's value as text
// ("p99", "153.2 us"). Rows with the same name line up across results.
struct SummaryRow {
  std::string name;
  std::string value;
};

// One --assert check and its verdict.
struct CheckVerdict {
  std::string line;  // "p99 = 153us < 200us: ok", as the load command prints it
  bool passed = false;
};

// One point of a percentile spectrum: at least `percentile` % of the samples
// are <= value_us. percentile is in [0, 100): the x axis is log(1/(1-p)).
struct SpectrumPoint {
  double percentile = 0;
  double value_us = 0;
};

// One one-second interval of a run (the same intervals the .hlog log writes).
struct IntervalPoint {
  double start_s = 0;                  // seconds since the measured start
  std::uint64_t latency_samples = 0;   // 0: p50/p99/max are not drawn
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  double rate_per_s = 0;               // achieved, in the series' rate_unit
  double asked_rate_per_s = 0;         // the asked (open-loop) rate; 0: none asked
  // Errors and timeouts counted in this interval, by kind ("ECONNRESET",
  // "timeout", "verify"); kinds missing from an interval count 0.
  std::map<std::string, std::uint64_t> errors;
  std::uint64_t connections_open = 0;  // at the end of the interval
};

struct ReportSeries {
  std::string label;  // the legend's name: "uring", "shard 2/4", "merged"
  RunFacts facts;
  std::vector<SummaryRow> summary;
  std::vector<CheckVerdict> checks;
  // The latency spectrum: for closed-loop runs the only one; for open-loop
  // runs the uncorrected one (measured from the actual send).
  std::vector<SpectrumPoint> latency;
  // Open-loop runs only: measured from each message's intended send time,
  // so a stall counts for every message it delayed (coordinated omission).
  std::vector<SpectrumPoint> corrected;
  std::string rate_unit = "messages/s";  // the throughput chart's y axis
  bool tracks_connections = false;       // churn and idle: draw connections_open
  // Drawn black and wider: the merged whole among its shards. Put it last,
  // so that it is drawn on top.
  bool highlight = false;
  std::vector<IntervalPoint> intervals;  // in time order
};

// The spectrum of a histogram of nanoseconds, as HdrHistogram's percentile
// distribution reports it: ticks_per_half_distance points between 0% and
// 50%, as many again between 50% and 75%, and so on, each halving of the
// distance to 100% getting the same number of ticks, up to 99.999% or the
// first point that reaches the histogram's max (whichever comes first, and
// that last point carries the max). Empty histogram: no points.
std::vector<SpectrumPoint> percentile_spectrum(const Histogram& latency_ns,
                                               int ticks_per_half_distance = 5);

// Fills the interval's latency fields (samples, p50, p99, max) from a
// histogram of nanoseconds.
void set_interval_latency(IntervalPoint& interval, const Histogram& latency_ns);

// The highest percentile a spectrum draws: 99.999%.
inline constexpr double kSpectrumTopPercentile = 99.999;

}  // namespace ringsock::tool
