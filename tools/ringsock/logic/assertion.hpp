// The --assert language: 'p99<200us,errors=0,loss<0.01%'.
//
//   list   := check (',' check)*
//   check  := name op number unit?
//   name   := p<0..100> | min | max | mean | errors | loss | rate | achieved | cpu_per_msg
//   op     := < | <= | > | >= | = | == | !=
//   unit   := ns | us | ms | s   for latencies and cpu_per_msg (bare: us)
//             %                  for loss and achieved (required)
//             none               for errors (an integer) and rate (msgs/s)
// Whitespace between tokens is allowed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "logic/histogram.hpp"

namespace ringsock::tool {

enum class Metric : std::uint8_t { percentile, min, max, mean, errors, loss, rate, achieved, cpu_per_msg };
enum class CompareOp : std::uint8_t { lt, le, gt, ge, eq, ne };

struct Check {
  Metric metric = Metric::percentile;
  double percentile = 0;  // for Metric::percentile
  CompareOp op = CompareOp::lt;
  double threshold = 0;   // canonical: ns, fraction (loss, achieved), msgs/s, count
  std::string name;       // as written, e.g. "p99.9"
  std::string unit;       // as written or implied ("us" for a bare latency)
};

struct ParseError {
  std::size_t position = 0;  // 0-based offset into the expression
  std::string message;       // "position 5: expected ..., found ..."
};

std::variant<std::vector<Check>, ParseError> parse_assertions(std::string_view text);

// What the checks are evaluated against.
struct Results {
  const Histogram* latency = nullptr;  // ns; null or empty: latency checks fail
  std::uint64_t errors = 0;
  double loss = 0;           // fraction of messages lost
  double rate = 0;           // achieved msgs/s
  double achieved = 0;       // fraction of the asked rate
  double cpu_per_msg_ns = 0;
};

struct CheckResult {
  bool passed = false;
  double actual = 0;   // canonical units; NaN when there was no data
  std::string line;    // "p99 = 153us < 200us: ok"
};

std::vector<CheckResult> evaluate(const std::vector<Check>& checks, const Results& results);
bool all_passed(const std::vector<CheckResult>& results) noexcept;

}  // namespace ringsock::tool
