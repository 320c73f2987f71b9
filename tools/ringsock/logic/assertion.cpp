#include "logic/assertion.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ringsock::tool {
namespace {

enum class Kind : std::uint8_t { latency, fraction, count, rate };

Kind kind_of(Metric m) {
  switch (m) {
    case Metric::errors: return Kind::count;
    case Metric::loss:
    case Metric::achieved: return Kind::fraction;
    case Metric::rate: return Kind::rate;
    default: return Kind::latency;
  }
}

struct Unit {
  std::string_view name;
  double scale;  // to canonical units
};

constexpr Unit kTimeUnits[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9') ||
         c == '.';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::variant<std::vector<Check>, ParseError> run() {
    std::vector<Check> checks;
    skip_space();
    if (at_end()) return fail("expected a check such as p99<200us");
    while (true) {
      Check c;
      if (!name(c) || !op(c) || !number(c) || !unit(c)) return error_;
      checks.push_back(std::move(c));
      skip_space();
      if (at_end()) return checks;
      if (s_[pos_] != ',') return fail("expected ',' or the end");
      ++pos_;
      skip_space();
      if (at_end()) return fail("expected a check after ','");
    }
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  void skip_space() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  std::string found() const {
    if (at_end()) return "the end";
    return "'" + std::string(s_.substr(pos_, 1)) + "'";
  }

  ParseError fail(const std::string& what, bool show_found = true) {
    return fail_at(pos_, what, show_found);
  }
  ParseError fail_at(std::size_t at, const std::string& what, bool show_found = true) {
    std::string msg = "position " + std::to_string(at + 1) + ": " + what;
    if (show_found) msg += ", found " + found();
    error_ = {at, std::move(msg)};
    return error_;
  }

  bool name(Check& c) {
    const std::size_t start = pos_;
    while (!at_end() && is_name_char(s_[pos_])) ++pos_;
    const std::string_view word = s_.substr(start, pos_ - start);
    c.name = std::string(word);
    if (word.empty()) return fail_at(start, "expected a name (p99, max, errors, loss, ...)"), false;
    static constexpr std::pair<std::string_view, Metric> kNames[] = {
        {"min", Metric::min},   {"max", Metric::max},   {"mean", Metric::mean},
        {"errors", Metric::errors}, {"loss", Metric::loss}, {"rate", Metric::rate},
        {"achieved", Metric::achieved}, {"cpu_per_msg", Metric::cpu_per_msg}};
    for (const auto& [n, m] : kNames)
      if (word == n) return c.metric = m, true;
    if (word[0] == 'p' && word.size() > 1) return percentile(c, word.substr(1), start);
    return fail_at(start,
                   "unknown name '" + c.name +
                       "' (expected p<percentile>, min, max, mean, errors, loss, rate, achieved, "
                       "cpu_per_msg)",
                   false),
           false;
  }

  bool percentile(Check& c, std::string_view digits, std::size_t start) {
    double p = 0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), p,
                                   std::chars_format::fixed);
    const bool plain = !digits.empty() && digits.front() != '-' && digits.back() != '.';
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size() || !plain)
      return fail_at(start, "'" + c.name + "' is not a percentile (expected p50, p99.9, ...)", false),
             false;
    if (p > 100)
      return fail_at(start, "percentile '" + c.name + "' is above 100", false), false;
    c.metric = Metric::percentile;
    c.percentile = p;
    return true;
  }

  bool op(Check& c) {
    skip_space();
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"<=", CompareOp::le}, {">=", CompareOp::ge}, {"!=", CompareOp::ne}, {"==", CompareOp::eq},
        {"<", CompareOp::lt},  {">", CompareOp::gt},  {"=", CompareOp::eq}};
    for (const auto& [text, o] : kOps) {
      if (s_.substr(pos_, text.size()) == text) {
        pos_ += text.size();
        c.op = o;
        return true;
      }
    }
    return fail("expected a comparison (<, <=, >, >=, =, !=) after '" + c.name + "'"), false;
  }

  bool number(Check& c) {
    skip_space();
    const std::size_t start = pos_;
    while (!at_end() && ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.')) ++pos_;
    const std::string_view text = s_.substr(start, pos_ - start);
    if (text.empty()) return fail("expected a number after the comparison"), false;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), c.threshold,
                                   std::chars_format::fixed);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || text.back() == '.' ||
        !std::isfinite(c.threshold))
      return fail_at(start, "'" + std::string(text) + "' is not a number", false), false;
    if (kind_of(c.metric) == Kind::count && c.threshold != std::floor(c.threshold))
      return fail_at(start, "errors is a count: expected a whole number", false), false;
    return true;
  }

  bool unit(Check& c) {
    const std::size_t start = pos_;
    while (!at_end() && ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || s_[pos_] == '%')) ++pos_;
    const std::string_view u = s_.substr(start, pos_ - start);
    pos_ = start;  // errors point at the unit
    switch (kind_of(c.metric)) {
      case Kind::latency: return time_unit(c, u, start);
      case Kind::fraction:
        if (u != "%")
          return fail_at(start, c.name + " is a percentage: expected '%' after the number"), false;
        c.unit = "%";
        c.threshold /= 100;
        pos_ += u.size();
        return true;
      default:
        if (!u.empty())
          return fail_at(start, c.name + " takes a plain number, without a unit"), false;
        pos_ += u.size();
        return true;
    }
  }

  bool time_unit(Check& c, std::string_view written, std::size_t start) {
    // A bare latency is in microseconds.
    const std::string_view u = written.empty() ? std::string_view("us") : written;
    for (const Unit& t : kTimeUnits) {
      if (u == t.name) {
        c.unit = std::string(u);
        c.threshold *= t.scale;
        pos_ = start + written.size();
        return true;
      }
    }
    return fail("expected a time unit (ns, us, ms, s) after the number"), false;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  ParseError error_;
};

bool compare(double a, CompareOp op, double b) {
  switch (op) {
    case CompareOp::lt: return a < b;
    case CompareOp::le: return a <= b;
    case CompareOp::gt: return a > b;
    case CompareOp::ge: return a >= b;
    case CompareOp::eq: return a == b;
    case CompareOp::ne: return a != b;
  }
  return false;
}

std::string_view op_text(CompareOp op) {
  constexpr std::string_view kText[] = {"<", "<=", ">", ">=", "==", "!="};
  return kText[static_cast<int>(op)];
}

double actual_of(const Check& c, const Results& r) {
  const bool have_latency = r.latency && r.latency->count() > 0;
  switch (c.metric) {
    case Metric::percentile:
      return have_latency ? static_cast<double>(r.latency->value_at_percentile(c.percentile)) : NAN;
    case Metric::min: return have_latency ? static_cast<double>(r.latency->min()) : NAN;
    case Metric::max: return have_latency ? static_cast<double>(r.latency->max()) : NAN;
    case Metric::mean: return have_latency ? r.latency->mean() : NAN;
    case Metric::errors: return static_cast<double>(r.errors);
    case Metric::loss: return r.loss;
    case Metric::rate: return r.rate;
    case Metric::achieved: return r.achieved;
    case Metric::cpu_per_msg: return r.cpu_per_msg_ns;
  }
  return NAN;
}

// A canonical value in the unit the user wrote, e.g. 153200 ns as "153.2us".
std::string show(const Check& c, double canonical) {
  double scale = 1;
  if (c.unit == "%") scale = 0.01;
  for (const Unit& t : kTimeUnits)
    if (c.unit == t.name) scale = t.scale;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g%s", canonical / scale, c.unit.c_str());
  return buf;
}

}  // namespace

std::variant<std::vector<Check>, ParseError> parse_assertions(std::string_view text) {
  return Parser(text).run();
}

std::vector<CheckResult> evaluate(const std::vector<Check>& checks, const Results& results) {
  std::vector<CheckResult> out;
  out.reserve(checks.size());
  for (const Check& c : checks) {
    CheckResult r;
    r.actual = actual_of(c, results);
    r.passed = !std::isnan(r.actual) && compare(r.actual, c.op, c.threshold);
    const std::string actual = std::isnan(r.actual) ? "n/a (no samples)" : show(c, r.actual);
    r.line = c.name + " = " + actual + " " + std::string(op_text(c.op)) + " " +
             show(c, c.threshold) + (r.passed ? ": ok" : ": FAILED");
    out.push_back(std::move(r));
  }
  return out;
}

bool all_passed(const std::vector<CheckResult>& results) noexcept {
  for (const auto& r : results)
    if (!r.passed) return false;
  return true;
}

}  // namespace ringsock::tool
