// The parts of load's report that `ringsock merge` prints and writes for a
// merged run too (load_report.cpp), so a merged result reads like one load.
#pragma once

#include <vector>

#include "load.hpp"
#include "logic/assertion.hpp"
#include "logic/json.hpp"

namespace ringsock_cli {

/// The results table of `ringsock load`.
void print_load_table(const LoadReport& report);

/// --assert (report.args->assertions) judged on the report; empty without one.
std::vector<ringsock::tool::CheckResult> evaluate_load_checks(const LoadReport& report);

/// The members of load's --json document (version, config, results,
/// assertions), written into the object `w` is in.
void write_load_json_fields(ringsock::tool::JsonWriter& w, const LoadReport& report,
                            const std::vector<ringsock::tool::CheckResult>& checks);

}  // namespace ringsock_cli
