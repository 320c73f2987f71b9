// Fuzzes the --assert language (tools/ringsock/logic/assertion.hpp), which
// `load` and `merge` read from the user: 'p99<200us,errors=0,loss<0.01%'.
// Properties: the parser either returns checks or an error whose position
// lies inside the text and whose message says something; every check it
// returns is well formed; evaluating the checks gives one line per check,
// against results with and without latency data.
#include <cmath>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "logic/assertion.hpp"
#include "logic/histogram.hpp"

namespace tool = ringsock::tool;

namespace {

void check_well_formed(const tool::Check& check) {
  FUZZ_CHECK(!check.name.empty());
  FUZZ_CHECK(!std::isnan(check.threshold));
  FUZZ_CHECK(check.op <= tool::CompareOp::ne);
  FUZZ_CHECK(check.metric <= tool::Metric::cpu_per_msg);
  if (check.metric == tool::Metric::percentile) {
    FUZZ_CHECK(check.percentile >= 0 && check.percentile <= 100);
  }
}

void check_evaluation(const std::vector<tool::Check>& checks, const tool::Results& results) {
  std::vector<tool::CheckResult> evaluated = tool::evaluate(checks, results);
  FUZZ_CHECK(evaluated.size() == checks.size());
  bool all = true;
  for (const tool::CheckResult& result : evaluated) {
    FUZZ_CHECK(!result.line.empty());
    all = all && result.passed;
  }
  FUZZ_CHECK(tool::all_passed(evaluated) == all);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = tool::parse_assertions(text);
  if (const auto* error = std::get_if<tool::ParseError>(&parsed)) {
    FUZZ_CHECK(error->position <= text.size());
    FUZZ_CHECK(!error->message.empty());
    return 0;
  }
  const auto& checks = std::get<std::vector<tool::Check>>(parsed);
  FUZZ_CHECK(!checks.empty());
  for (const tool::Check& check : checks) check_well_formed(check);

  tool::Histogram latency;
  for (uint64_t ns : {900u, 1000u, 1200u, 50000u, 2000000u}) latency.record(ns);
  tool::Results with_data{&latency, 3, 0.001, 9000, 0.9, 1500};
  tool::Results without_data{};
  check_evaluation(checks, with_data);
  check_evaluation(checks, without_data);
  return 0;
}
