// The bridge between one load's report and its mergeable record
// (logic/result_file.hpp): what `ringsock load --json` adds under "run", and
// what `ringsock merge` turns back into a report to print.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "load.hpp"
#include "logic/result_file.hpp"

namespace ringsock_cli {

/// What a run knows besides its LoadReport.
struct RunIdentity {
  ringsock::tool::ShardSpec shard;          ///< {0, 1} when not sharded
  std::string host;                         ///< gethostname(); "" = ask here
  std::string clock_source = "CLOCK_REALTIME";
  int64_t start_at_unix_ns = 0;             ///< --start-at, 0 without
  int64_t start_skew_ns = 0;                ///< when measuring began minus --start-at
  int64_t started_unix_ns = 0;              ///< when measuring began (wall clock)
  /// The whole run's totals; a shard's LoadArgs hold its share. 0 = the args'.
  uint32_t total_connections = 0;
  uint64_t total_count = 0;
  uint32_t total_rate = 0;
  /// Connect times, when the run recorded them (nullptr: no "connect" histogram).
  const ringsock::tool::Histogram* connect = nullptr;
};

/// The counters of a run by name: sent, received, ..., errors.<kind>, verdicts.<name>.
std::vector<std::pair<std::string, uint64_t>> load_counters(const LoadStats& stats);
/// The inverse (names it does not know are ignored).
LoadStats stats_from_counters(const std::vector<std::pair<std::string, uint64_t>>& counters);

/// The record of a finished run, for write_run_record().
ringsock::tool::RunRecord make_run_record(const LoadReport& report, const RunIdentity& identity);

/// The LoadArgs a merged record prints with (mode, sizes, totals, endpoint).
/// False when a field names something this ringsock does not know.
bool args_from_record(const ringsock::tool::RunRecord& record, LoadArgs& args);

/// The framing name recorded for these args.
const char* framing_name(const LoadArgs& args) noexcept;

}  // namespace ringsock_cli
