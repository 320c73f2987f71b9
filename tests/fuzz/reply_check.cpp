// Fuzzes what a reply must be (tools/ringsock/logic/reply_check.hpp and
// regex_limits.hpp): --expect, --expect-file, --expect-prefix,
// --expect-regex and --expect-status parsed from arbitrary text, then
// checked against an arbitrary reply.
//
// Input: byte 0 is the number of checks (% 3 + 1); per check a kind byte
// (% 5: expect, prefix, regex, status, file) and a length byte, then that
// many bytes of option value; then 2 bytes of HTTP status; the rest is the
// reply.
// Properties: a regex passes the parser only within the limits (no
// back-reference, expanded size and depth bounded: what stalled glibc
// before); describe() shows a value that parses back to the same check;
// exact, prefix and status checks agree with a model; several checks pass
// exactly when each one alone does; the counters and the failure report
// follow.
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "fuzz_check.hpp"
#include "logic/escape.hpp"
#include "logic/regex_limits.hpp"
#include "logic/reply_check.hpp"

namespace tool = ringsock::tool;

namespace {

const std::uint8_t* bytes_of(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

bool parse(std::uint8_t kind, std::string_view text, tool::ReplyCheckSpec& spec,
           std::string& error) {
  const std::uint8_t* v = bytes_of(text);
  switch (kind % 5) {
    case 0: return tool::parse_expect(v, text.size(), spec, error);
    case 1: return tool::parse_expect_prefix(v, text.size(), spec, error);
    case 2: {
      const bool ok = tool::parse_expect_regex(v, text.size(), spec, error);
      std::string limit;
      const bool within = tool::check_regex_limits(text, limit);
      const tool::RegexShape shape = tool::measure_regex(text);
      FUZZ_CHECK(shape.expanded_atoms <= tool::kRegexMaxExpandedAtoms + 1);
      FUZZ_CHECK(within == (shape.back_reference_at == 0 &&
                            shape.group_depth <= tool::kRegexMaxGroupDepth &&
                            shape.expanded_atoms <= tool::kRegexMaxExpandedAtoms));
      FUZZ_CHECK(!ok || within);
      return ok;
    }
    case 3: return tool::parse_expect_status(v, text.size(), spec, error);
    default: spec = tool::expect_bytes(v, text.size()); return true;
  }
}

// describe() is `--option "ESCAPED"` or `--expect-status VALUE`.
void check_describe(const tool::ReplyCheckSpec& spec) {
  const std::string text = spec.describe();
  std::string error;
  if (spec.kind == tool::CheckKind::status) {
    const std::string value = text.substr(text.rfind(' ') + 1);
    tool::ReplyCheckSpec again;
    FUZZ_CHECK(tool::parse_expect_status(bytes_of(value), value.size(), again, error));
    FUZZ_CHECK(again.status == spec.status && again.status_class == spec.status_class);
    return;
  }
  const std::size_t open = text.find('"');
  FUZZ_CHECK(open != std::string::npos && text.back() == '"');
  const std::string shown = text.substr(open + 1, text.size() - open - 2);
  std::string decoded;
  FUZZ_CHECK(tool::decode_escapes(bytes_of(shown), shown.size(), decoded, error));
  FUZZ_CHECK(decoded == spec.bytes);
}

// What exact, prefix and status say, without the checker; -1 for a regex.
int model(const tool::ReplyCheckSpec& spec, std::string_view reply, int status) {
  switch (spec.kind) {
    case tool::CheckKind::exact: return reply == spec.bytes;
    case tool::CheckKind::prefix: return reply.substr(0, spec.bytes.size()) == spec.bytes;
    case tool::CheckKind::status:
      return spec.status != 0 ? status == spec.status : status / 100 == spec.status_class;
    case tool::CheckKind::regex: return -1;
  }
  return -1;
}

bool check_one(tool::ReplyCheckSpec spec, std::string_view reply, int status) {
  tool::ReplyChecker checker;
  std::string error;
  const int expected = model(spec, reply, status);
  FUZZ_CHECK(checker.init({std::move(spec)}, error));
  const bool passed = checker.check(bytes_of(reply), reply.size(), status);
  FUZZ_CHECK(expected < 0 || passed == (expected == 1));
  return passed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ringsock_fuzz::ByteReader in(data, size);
  const std::size_t count = 1 + in.take<std::uint8_t>() % 3;
  std::vector<tool::ReplyCheckSpec> specs;
  bool all_parsed = true;
  for (std::size_t i = 0; i < count; ++i) {
    const auto kind = in.take<std::uint8_t>();
    const std::string_view text = in.bytes(in.take<std::uint8_t>());
    tool::ReplyCheckSpec spec;
    std::string error;
    if (!parse(kind, text, spec, error)) {
      FUZZ_CHECK(!error.empty());
      all_parsed = false;
      continue;
    }
    check_describe(spec);
    specs.push_back(std::move(spec));
  }
  const int status = in.take<std::uint16_t>() % 700;
  // Copied into a std::string, whose NUL follows the reply's last byte:
  // compiler-rt's regexec interceptor (clang 14, GCC 12's libasan) checks
  // strlen(string) + 1 bytes even under REG_STARTEND, where glibc reads only
  // [rm_so, rm_eo). Without the NUL, ASan reports a read that never happens.
  const std::string reply(in.rest());
  if (!all_parsed) return 0;

  bool each = true;
  bool wants_status = false;
  for (const tool::ReplyCheckSpec& spec : specs) {
    each = check_one(spec, reply, status) && each;
    wants_status = wants_status || spec.kind == tool::CheckKind::status;
  }
  tool::ReplyChecker checker;
  std::string error;
  FUZZ_CHECK(checker.init(specs, error));
  FUZZ_CHECK(checker.needs_http_status() == wants_status);
  const bool passed = checker.check(bytes_of(reply), reply.size(), status);
  FUZZ_CHECK(passed == each);
  FUZZ_CHECK(checker.checked() == 1 && checker.failed() == (passed ? 0u : 1u));
  FUZZ_CHECK(checker.failure_report().empty() == passed);
  return 0;
}
