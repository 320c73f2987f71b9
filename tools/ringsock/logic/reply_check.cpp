#include "logic/reply_check.hpp"

#include <regex.h>

#include <algorithm>
#include <cstring>

#include "logic/escape.hpp"
#include "logic/regex_limits.hpp"

namespace ringsock::tool {

namespace {

std::string_view as_text(const std::uint8_t* text, std::size_t size) {
  return {reinterpret_cast<const char*>(text), size};
}

// The pattern as regcomp takes it: a C string, so one without NUL bytes.
bool compile_regex(const std::string& pattern, regex_t& out, std::string& error) {
  if (pattern.find('\0') != std::string::npos) {
    error = "--expect-regex: the pattern has a NUL byte, which a POSIX regex cannot hold";
    return false;
  }
  if (pattern.empty()) {
    error = "--expect-regex needs a pattern, e.g. '^\\+PONG'";
    return false;
  }
  // Before regcomp, which the refused patterns hurt (logic/regex_limits.hpp).
  std::string limit;
  if (!check_regex_limits(pattern, limit)) {
    error = "--expect-regex \"" + escape_for_display(pattern, 80) + "\": " + limit;
    return false;
  }
  const int rc = regcomp(&out, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char reason[160];
    regerror(rc, &out, reason, sizeof reason);
    error = "--expect-regex \"" + escape_for_display(pattern, 80) + "\" does not compile: " +
            reason;
    return false;
  }
  return true;
}

std::string quoted(const std::string& bytes) {
  std::string text = "\"" + escape_for_display(bytes, ReplyChecker::kShownBytes) + "\"";
  if (bytes.size() > ReplyChecker::kShownBytes) {
    text += " (" + std::to_string(bytes.size()) + " bytes, first " +
            std::to_string(ReplyChecker::kShownBytes) + " shown)";
  }
  return text;
}

}  // namespace

struct ReplyChecker::Regex {
  regex_t compiled{};
  bool ok = false;  // regfree only what regcomp made
  ~Regex() {
    if (ok) regfree(&compiled);
  }
};

std::string ReplyCheckSpec::describe() const {
  switch (kind) {
    case CheckKind::exact: return "--expect \"" + escape_for_display(bytes) + "\"";
    case CheckKind::prefix: return "--expect-prefix \"" + escape_for_display(bytes) + "\"";
    case CheckKind::regex: return "--expect-regex \"" + escape_for_display(bytes) + "\"";
    case CheckKind::status:
      return "--expect-status " +
             (status != 0 ? std::to_string(status) : std::to_string(status_class) + "xx");
  }
  return "?";
}

bool parse_expect(const std::uint8_t* text, std::size_t size, ReplyCheckSpec& out,
                  std::string& error) {
  ReplyCheckSpec spec;
  if (!decode_escapes(text, size, spec.bytes, error)) {
    error = "--expect: " + error;
    return false;
  }
  out = std::move(spec);
  return true;
}

bool parse_expect_prefix(const std::uint8_t* text, std::size_t size, ReplyCheckSpec& out,
                         std::string& error) {
  ReplyCheckSpec spec;
  spec.kind = CheckKind::prefix;
  if (!decode_escapes(text, size, spec.bytes, error)) {
    error = "--expect-prefix: " + error;
    return false;
  }
  if (spec.bytes.empty()) {
    error = "--expect-prefix needs at least one byte";
    return false;
  }
  out = std::move(spec);
  return true;
}

bool parse_expect_regex(const std::uint8_t* text, std::size_t size, ReplyCheckSpec& out,
                        std::string& error) {
  ReplyCheckSpec spec;
  spec.kind = CheckKind::regex;
  spec.bytes.assign(reinterpret_cast<const char*>(text), size);
  regex_t compiled;
  if (!compile_regex(spec.bytes, compiled, error)) return false;
  regfree(&compiled);
  out = std::move(spec);
  return true;
}

bool parse_expect_status(const std::uint8_t* text, std::size_t size, ReplyCheckSpec& out,
                         std::string& error) {
  const std::string_view s = as_text(text, size);
  ReplyCheckSpec spec;
  spec.kind = CheckKind::status;
  const bool digits = s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) {
                        return c >= '0' && c <= '9';
                      });
  const bool klass = s.size() == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
                     (s[2] == 'x' || s[2] == 'X');
  if (digits) spec.status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  if (klass) spec.status_class = s[0] - '0';
  if (!klass && (!digits || spec.status < 100 || spec.status > 599)) {
    error = "--expect-status takes an HTTP status (100 to 599) or a class (1xx to 5xx); got \"" +
            escape_for_display(text, size, 40) + "\"";
    return false;
  }
  out = std::move(spec);
  return true;
}

ReplyCheckSpec expect_bytes(const std::uint8_t* bytes, std::size_t size) {
  ReplyCheckSpec spec;
  spec.bytes.assign(reinterpret_cast<const char*>(bytes), size);
  return spec;
}

#define RINGSOCK_TEXT_OVERLOAD(name)                                                   \
  bool name(std::string_view text, ReplyCheckSpec& out, std::string& error) {           \
    return name(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), out, error); \
  }
RINGSOCK_TEXT_OVERLOAD(parse_expect)
RINGSOCK_TEXT_OVERLOAD(parse_expect_prefix)
RINGSOCK_TEXT_OVERLOAD(parse_expect_regex)
RINGSOCK_TEXT_OVERLOAD(parse_expect_status)
#undef RINGSOCK_TEXT_OVERLOAD

ReplyChecker::ReplyChecker() = default;
ReplyChecker::~ReplyChecker() = default;
ReplyChecker::ReplyChecker(ReplyChecker&&) noexcept = default;
ReplyChecker& ReplyChecker::operator=(ReplyChecker&&) noexcept = default;

bool ReplyChecker::init(std::vector<ReplyCheckSpec> specs, std::string& error) {
  std::vector<std::unique_ptr<Regex>> regexes(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].kind != CheckKind::regex) continue;
    auto regex = std::make_unique<Regex>();
    regex->ok = compile_regex(specs[i].bytes, regex->compiled, error);
    if (!regex->ok) return false;
    regexes[i] = std::move(regex);
  }
  specs_ = std::move(specs);
  regexes_ = std::move(regexes);
  return true;
}

bool ReplyChecker::needs_http_status() const noexcept {
  return std::any_of(specs_.begin(), specs_.end(),
                     [](const ReplyCheckSpec& s) { return s.kind == CheckKind::status; });
}

bool ReplyChecker::passes(std::size_t index, const std::uint8_t* reply, std::size_t size,
                          int http_status) noexcept {
  const ReplyCheckSpec& spec = specs_[index];
  switch (spec.kind) {
    case CheckKind::exact:
      return size == spec.bytes.size() && std::memcmp(reply, spec.bytes.data(), size) == 0;
    case CheckKind::prefix:
      return size >= spec.bytes.size() &&
             std::memcmp(reply, spec.bytes.data(), spec.bytes.size()) == 0;
    case CheckKind::regex: {
      regmatch_t range[1];
      range[0].rm_so = 0;
      range[0].rm_eo = regoff_t(size);
      return regexec(&regexes_[index]->compiled, reinterpret_cast<const char*>(reply), 1, range,
                     REG_STARTEND) == 0;
    }
    case CheckKind::status:
      return spec.status != 0 ? http_status == spec.status : http_status / 100 == spec.status_class;
  }
  return false;
}

bool ReplyChecker::check(const std::uint8_t* reply, std::size_t size, int http_status) noexcept {
  ++checked_;
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (!passes(i, reply, size, http_status)) {
      keep_failure(i, reply, size, http_status);
      return false;
    }
  }
  return true;
}

void ReplyChecker::keep_failure(std::size_t index, const std::uint8_t* reply, std::size_t size,
                                int http_status) noexcept {
  if (failed_++ != 0) return;
  first_reply_ = checked_;
  first_check_ = index;
  first_size_ = size;
  first_status_ = http_status;
  std::memcpy(first_bytes_, reply, std::min(size, kShownBytes));
}

std::string ReplyChecker::failure_report() const {
  if (failed_ == 0) return "";
  const ReplyCheckSpec& spec = specs_[first_check_];
  const std::size_t shown = std::min(first_size_, kShownBytes);
  std::string report =
      "reply " + std::to_string(first_reply_) + " failed " + cut_for_display(spec.describe());
  if (spec.kind == CheckKind::status) {
    report += first_status_ == 0 ? ": it has no HTTP status"
                                 : ": its status was " + std::to_string(first_status_);
  }
  report += "\n  got:      \"" + escape_for_display(first_bytes_, shown) + "\"";
  report += " (" + std::to_string(first_size_) + " bytes";
  report += first_size_ > kShownBytes ? ", first " + std::to_string(kShownBytes) + " shown)" : ")";
  report += "\n  expected: ";
  switch (spec.kind) {
    case CheckKind::exact: report += quoted(spec.bytes); break;
    case CheckKind::prefix: report += "a reply that starts with " + quoted(spec.bytes); break;
    case CheckKind::regex: report += "a match of the regex " + quoted(spec.bytes); break;
    case CheckKind::status:
      report += "status " + (spec.status != 0 ? std::to_string(spec.status)
                                              : std::to_string(spec.status_class) + "xx");
      break;
  }
  if (failed_ > 1) {
    report += "\n  (" + std::to_string(failed_) + " of " + std::to_string(checked_) +
              " replies failed)";
  }
  return report;
}

}  // namespace ringsock::tool
