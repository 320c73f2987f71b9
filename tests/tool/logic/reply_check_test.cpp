// Reply checks: exact, prefix, regex, HTTP status; bad options are
// sentences; the first failed reply is reported escaped, cut, next to what
// was expected.
#include "logic/reply_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringsock::tool {
namespace {

using Parse = bool (*)(std::string_view, ReplyCheckSpec&, std::string&);

ReplyCheckSpec spec_of(Parse parse, std::string_view text) {
  ReplyCheckSpec spec;
  std::string error;
  EXPECT_TRUE(parse(text, spec, error)) << error;
  return spec;
}

ReplyChecker checker_of(std::vector<ReplyCheckSpec> specs) {
  ReplyChecker checker;
  std::string error;
  EXPECT_TRUE(checker.init(std::move(specs), error)) << error;
  return checker;
}

bool check(ReplyChecker& checker, std::string_view reply, int status = 0) {
  return checker.check(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size(), status);
}

TEST(ReplyCheck, ExactBytesWithEscapes) {
  ReplyChecker c = checker_of({spec_of(parse_expect, "+PONG\\r\\n")});
  EXPECT_TRUE(check(c, "+PONG\r\n"));
  EXPECT_FALSE(check(c, "+PONG\r\n+"));
  EXPECT_FALSE(check(c, "+PONG\r"));
  EXPECT_EQ(c.checked(), 3u);
  EXPECT_EQ(c.failed(), 2u);
}

TEST(ReplyCheck, ExpectFileBytesAreTakenAsTheyAre) {
  const std::uint8_t bytes[] = {'\\', 'n', 0};
  ReplyChecker c = checker_of({expect_bytes(bytes, sizeof bytes)});
  EXPECT_TRUE(check(c, std::string_view("\\n\0", 3)));
}

TEST(ReplyCheck, Prefix) {
  ReplyChecker c = checker_of({spec_of(parse_expect_prefix, "\\xab\\xcd")});
  EXPECT_TRUE(check(c, "\xab\xcd\x81\x80"));
  EXPECT_FALSE(check(c, "\xab"));
  EXPECT_FALSE(check(c, "\xab\xce"));
}

TEST(ReplyCheck, RegexMatchesAnywhereAndSeesPastNuls) {
  ReplyChecker c = checker_of({spec_of(parse_expect_regex, "VALUE k:[0-9]+ 0 [0-9]+")});
  EXPECT_TRUE(check(c, "VALUE k:17 0 3\r\nabc\r\nEND\r\n"));
  EXPECT_FALSE(check(c, "END\r\n"));
  ReplyChecker anchored = checker_of({spec_of(parse_expect_regex, "^\\+PONG.$")});
  EXPECT_TRUE(check(anchored, "+PONG\r"));
  EXPECT_FALSE(check(anchored, "+PONG\r\n"));
  ReplyChecker after_nul = checker_of({spec_of(parse_expect_regex, "tail$")});
  EXPECT_TRUE(check(after_nul, std::string_view("head\0tail", 9)));
  // The reply's end is REG_STARTEND's, not a NUL or the buffer's.
  EXPECT_FALSE(check(after_nul, std::string_view("tailX", 4 - 1)));
  // As the manual says: `.` takes no NUL (glibc's POSIX syntax), a negated
  // bracket does.
  ReplyChecker dots = checker_of({spec_of(parse_expect_regex, "^.{3}$")});
  EXPECT_FALSE(check(dots, std::string_view("a\0b", 3)));
  ReplyChecker bracket = checker_of({spec_of(parse_expect_regex, "^[^z]{3}$")});
  EXPECT_TRUE(check(bracket, std::string_view("a\0b", 3)));
}

TEST(ReplyCheck, StatusCodeAndClass) {
  ReplyChecker one = checker_of({spec_of(parse_expect_status, "200")});
  EXPECT_TRUE(check(one, "", 200));
  EXPECT_FALSE(check(one, "", 204));
  ReplyChecker klass = checker_of({spec_of(parse_expect_status, "2xx")});
  EXPECT_TRUE(klass.needs_http_status());
  EXPECT_TRUE(check(klass, "", 204));
  EXPECT_FALSE(check(klass, "", 301));
  EXPECT_FALSE(check(klass, "", 0));
}

TEST(ReplyCheck, EveryCheckMustPass) {
  ReplyChecker c = checker_of({spec_of(parse_expect_status, "200"),
                               spec_of(parse_expect_prefix, "HTTP/1.1")});
  EXPECT_TRUE(check(c, "HTTP/1.1 200 OK\r\n\r\n", 200));
  EXPECT_FALSE(check(c, "HTTP/1.0 200 OK\r\n\r\n", 200));
  EXPECT_FALSE(c.needs_http_status() == false);
}

TEST(ReplyCheck, BadOptionsAreSentences) {
  ReplyCheckSpec spec;
  std::string e;
  EXPECT_FALSE(parse_expect_regex("a(b", spec, e));
  EXPECT_NE(e.find("--expect-regex \"a(b\" does not compile: "), std::string::npos) << e;
  EXPECT_FALSE(parse_expect_regex("", spec, e));
  EXPECT_FALSE(parse_expect_regex(std::string_view("a\0b", 3), spec, e));
  EXPECT_NE(e.find("NUL"), std::string::npos);
  EXPECT_FALSE(parse_expect_status("20", spec, e));
  EXPECT_NE(e.find("100 to 599"), std::string::npos);
  EXPECT_FALSE(parse_expect_status("6xx", spec, e));
  EXPECT_FALSE(parse_expect_status("099", spec, e));
  EXPECT_FALSE(parse_expect("\\z", spec, e));
  EXPECT_NE(e.find("--expect: \\z"), std::string::npos) << e;
  EXPECT_FALSE(parse_expect_prefix("", spec, e));
}

TEST(ReplyCheck, ReportShowsTheFirstBadReplyCutAndEscaped) {
  ReplyChecker c = checker_of({spec_of(parse_expect, "+PONG\\r\\n")});
  EXPECT_TRUE(check(c, "+PONG\r\n"));
  const std::string long_reply = "-ERR " + std::string(300, 'x') + "\r\n";
  EXPECT_FALSE(check(c, long_reply));
  EXPECT_FALSE(check(c, "-ERR later\r\n"));
  const std::string report = c.failure_report();
  EXPECT_NE(report.find("reply 2 failed --expect \"+PONG\\r\\n\""), std::string::npos) << report;
  EXPECT_NE(report.find("got:      \"-ERR " + std::string(195, 'x') + "\" (307 bytes, first 200 shown)"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("expected: \"+PONG\\r\\n\""), std::string::npos) << report;
  EXPECT_NE(report.find("2 of 3 replies failed"), std::string::npos) << report;
  EXPECT_EQ(report.find("later"), std::string::npos);  // the first, not the last
}

TEST(ReplyCheck, StatusReportSaysTheStatus) {
  ReplyChecker c = checker_of({spec_of(parse_expect_status, "2xx")});
  EXPECT_FALSE(check(c, "HTTP/1.1 404 Not Found\r\n\r\n", 404));
  const std::string report = c.failure_report();
  EXPECT_NE(report.find("failed --expect-status 2xx: its status was 404"), std::string::npos)
      << report;
  EXPECT_NE(report.find("expected: status 2xx"), std::string::npos) << report;
  EXPECT_EQ(checker_of({}).failure_report(), "");
}

TEST(ReplyCheck, MovedCheckerKeepsItsRegex) {
  ReplyChecker a = checker_of({spec_of(parse_expect_regex, "^ok")});
  ReplyChecker b = std::move(a);
  EXPECT_TRUE(check(b, "ok!"));
  EXPECT_FALSE(check(b, "no"));
}

}  // namespace
}  // namespace ringsock::tool
