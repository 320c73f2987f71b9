// What a reply must be: `ringsock load`'s --expect TEXT / --expect-file
// (exact bytes), --expect-prefix TEXT, --expect-regex RE and, with --reply
// http, --expect-status 200 (or a class, 2xx). A reply passes when every
// check given passes. The first reply that does not is kept (its first
// kShownBytes bytes, its size, which check it failed) for a report that
// shows it escaped next to what was expected.
//
// TEXT takes C escapes (logic/escape.hpp); an --expect-file's bytes are
// taken as they are. RE is a POSIX extended regex (regcomp, REG_EXTENDED)
// that must match somewhere in the reply; anchor it with ^ and $ for all of
// it. It is not C-unescaped (regex syntax has its own backslashes); the
// reply's bytes, NULs included, are matched with REG_STARTEND ('.' still
// matches no NUL: glibc's POSIX syntax sets RE_DOT_NOT_NULL).
// Caveats: check() never calls operator new; glibc's regexec builds its DFA
// states with malloc while it meets new kinds of input, then stops (0
// mallocs over 1000 matches after 100 warm-up ones, measured on glibc
// 2.36). regexec serialises threads on one regex_t: one checker per thread.
// Under ASan, the sanitizer's regexec interceptor checks strlen(reply) + 1
// bytes although REG_STARTEND makes glibc read only the reply's size: a
// reply with no NUL before the end of its allocation is reported as a read
// past it (a false positive; the fuzz harness passes NUL-terminated replies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringsock::tool {

enum class CheckKind : std::uint8_t { exact, prefix, regex, status };

struct ReplyCheckSpec {
  CheckKind kind = CheckKind::exact;
  std::string bytes;      // exact, prefix: the decoded bytes; regex: the pattern
  int status = 0;         // status: 100..599, or 0 for a class
  int status_class = 0;   // status: 1..5 for 1xx..5xx, or 0 for one code

  // As the user wrote it: "--expect \"+PONG\\r\\n\"", "--expect-status 2xx".
  std::string describe() const;
};

// The option parsers: each returns false with `error` set to a sentence.
bool parse_expect(const std::uint8_t* text, std::size_t size, ReplyCheckSpec& out,
                  std::string& error);
bool parse_expect_prefix(const std::uint8_t* text, std::size_t size, ReplyCheckSpec& out,
                         std::string& error);
// Compiles the regex once to report a bad one now.
bool parse_expect_regex(const std::uint8_t* text, std::size_t size, ReplyCheckSpec& out,
                        std::string& error);
bool parse_expect_status(const std::uint8_t* text, std::size_t size, ReplyCheckSpec& out,
                         std::string& error);
// --expect-file: the file's bytes, exactly.
ReplyCheckSpec expect_bytes(const std::uint8_t* bytes, std::size_t size);
bool parse_expect(std::string_view text, ReplyCheckSpec& out, std::string& error);
bool parse_expect_prefix(std::string_view text, ReplyCheckSpec& out, std::string& error);
bool parse_expect_regex(std::string_view text, ReplyCheckSpec& out, std::string& error);
bool parse_expect_status(std::string_view text, ReplyCheckSpec& out, std::string& error);

class ReplyChecker {
 public:
  static constexpr std::size_t kShownBytes = 200;

  ReplyChecker();
  ~ReplyChecker();
  ReplyChecker(ReplyChecker&&) noexcept;
  ReplyChecker& operator=(ReplyChecker&&) noexcept;

  // Takes the checks (their regexes compiled here). False with `error` set
  // when a regex does not compile.
  bool init(std::vector<ReplyCheckSpec> specs, std::string& error);

  bool empty() const noexcept { return specs_.empty(); }
  // An --expect-status is among the checks: the framing must be http.
  bool needs_http_status() const noexcept;
  const std::vector<ReplyCheckSpec>& specs() const noexcept { return specs_; }

  // Checks one whole reply; http_status is the framer's (0 when not HTTP).
  // Returns whether it passed; the first failure is kept. Allocation-free.
  bool check(const std::uint8_t* reply, std::size_t size, int http_status) noexcept;

  std::uint64_t checked() const noexcept { return checked_; }
  std::uint64_t failed() const noexcept { return failed_; }

  // Several lines about the first failed reply ("" when none failed):
  //   reply 17 failed --expect-status 2xx: its status was 404
  //     got:      "HTTP/1.1 404 Not Found\r\n..." (153 bytes, first 200 shown)
  //     expected: status 2xx
  std::string failure_report() const;

 private:
  struct Regex;
  bool passes(std::size_t index, const std::uint8_t* reply, std::size_t size,
              int http_status) noexcept;
  void keep_failure(std::size_t index, const std::uint8_t* reply, std::size_t size,
                    int http_status) noexcept;

  std::vector<ReplyCheckSpec> specs_;
  std::vector<std::unique_ptr<Regex>> regexes_;  // by spec index; null for other kinds
  std::uint64_t checked_ = 0;
  std::uint64_t failed_ = 0;
  // The first failure.
  std::uint64_t first_reply_ = 0;  // 1-based number among the replies checked
  std::size_t first_check_ = 0;
  std::size_t first_size_ = 0;
  int first_status_ = 0;
  std::uint8_t first_bytes_[kShownBytes] = {};
};

}  // namespace ringsock::tool
