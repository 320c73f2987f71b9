// --expect-regex limits: the expanded size counts repeats as regcomp writes
// them out; back-references, huge expansions and deep nesting are refused
// when the option is parsed, with a sentence; the regexes users write pass.
#include "logic/regex_limits.hpp"

#include <gtest/gtest.h>

#include <string>

#include "logic/reply_check.hpp"

namespace ringsock::tool {
namespace {

std::size_t atoms(std::string_view pattern) { return measure_regex(pattern).expanded_atoms; }

std::string refusal(std::string_view pattern) {
  ReplyCheckSpec spec;
  std::string error;
  EXPECT_FALSE(parse_expect_regex(pattern, spec, error)) << pattern;
  return error;
}

TEST(RegexLimits, ExpandedSizeWritesRepeatsOut) {
  EXPECT_EQ(atoms(""), 0u);
  EXPECT_EQ(atoms("abc"), 3u);
  EXPECT_EQ(atoms("a|bc"), 3u);
  EXPECT_EQ(atoms("a{3}"), 3u);
  EXPECT_EQ(atoms("a{2,5}"), 5u);
  EXPECT_EQ(atoms("a{4,}"), 5u);   // four copies and a star
  EXPECT_EQ(atoms("a{,6}"), 6u);
  EXPECT_EQ(atoms("a{0}"), 1u);    // never less than once: regcomp has read it
  EXPECT_EQ(atoms("a*b?"), 3u);
  EXPECT_EQ(atoms("a??"), 4u);
  EXPECT_EQ(atoms("a+"), 2u);      // aa*
  EXPECT_EQ(atoms("(ab){2}"), 6u); // the group counts once per copy
  EXPECT_EQ(atoms("(a{3}){3}"), 12u);
  EXPECT_EQ(atoms("(a{30}){30}"), kRegexMaxExpandedAtoms + 1);  // 930: the pass stops past the limit
  EXPECT_EQ(atoms("a{2}{3}"), 6u);
  EXPECT_EQ(atoms("\\.{4}"), 4u);
  EXPECT_EQ(atoms("[]a-z{]{10}"), 10u);         // ']' first and '{' are members
  EXPECT_EQ(atoms("[[:digit:]][^]x]{2}"), 3u);  // a class; a negated ']' first
  EXPECT_EQ(atoms("a{"), 2u);                   // not an interval: regcomp refuses it
  EXPECT_EQ(atoms("(ab"), 3u);                  // unclosed: regcomp refuses it
}

TEST(RegexLimits, DepthAndBackReferencePositions) {
  EXPECT_EQ(measure_regex("((a)(b))").group_depth, 2u);
  EXPECT_EQ(measure_regex("(a)\\1").back_reference_at, 4u);
  EXPECT_EQ(measure_regex("[\\1]").back_reference_at, 0u);  // a backslash in brackets is literal
  EXPECT_EQ(measure_regex("\\\\1").back_reference_at, 0u);  // an escaped backslash, then 1
  EXPECT_EQ(measure_regex("a\\0").back_reference_at, 0u);
}

TEST(RegexLimits, TheLimitIsInclusive) {
  std::string error;
  EXPECT_TRUE(check_regex_limits("a{500}", error)) << error;
  EXPECT_TRUE(check_regex_limits("[0-9]{1,500}", error)) << error;
  EXPECT_FALSE(check_regex_limits("a{501}", error));
  EXPECT_TRUE(check_regex_limits(std::string(500, 'x'), error)) << error;
  EXPECT_FALSE(check_regex_limits(std::string(501, 'x'), error));
  EXPECT_TRUE(check_regex_limits(std::string(32, '(') + "a" + std::string(32, ')'), error))
      << error;
  EXPECT_FALSE(check_regex_limits(std::string(33, '(') + "a" + std::string(33, ')'), error));
}

// What regcomp/regexec would choke on is refused with a sentence, before
// regcomp runs (each of these compiles, and would run, without the limits).
TEST(RegexLimits, ParseRefusesWhatWouldBlowUp) {
  // 6 s of regexec on 200 bytes without the limit.
  EXPECT_NE(refusal("^(a|a)*(a*)\\2\\1c").find("--expect-regex \"^(a|a)*(a*)\\\\2\\\\1c\": a "
                                                 "back-reference (\\2 at character 12)"),
            std::string::npos)
      << refusal("^(a|a)*(a*)\\2\\1c");
  EXPECT_NE(refusal("(a{1000}){1000}").find("more than 500 atoms"), std::string::npos);
  EXPECT_NE(refusal("(a{1000}){0}").find("more than 500 atoms"), std::string::npos);
  EXPECT_NE(refusal("((((((((((a+)+)+)+)+)+)+)+)+)+)").find("more than 500 atoms"),
            std::string::npos);
  EXPECT_NE(refusal("a{99999999999999999999999}").find("more than 500 atoms"), std::string::npos);
  // 8 s of regcomp without the limit (found by the reply_check fuzzer).
  EXPECT_NE(refusal("x????????++++++").find("more than 500 atoms"), std::string::npos);
  EXPECT_NE(refusal("\r???????????????????+++++++").find("more than 500 atoms"), std::string::npos);
  // regcomp's recursive parser overflows its stack near 20000 levels.
  EXPECT_NE(refusal(std::string(20000, '(') + "a" + std::string(20000, ')'))
                .find("nested more than 32 deep"),
            std::string::npos);
  // ReplyChecker::init applies the same limits to a spec made another way.
  ReplyCheckSpec spec;
  spec.kind = CheckKind::regex;
  spec.bytes = "(x)\\1";
  ReplyChecker checker;
  std::string error;
  EXPECT_FALSE(checker.init({spec}, error));
  EXPECT_NE(error.find("back-reference"), std::string::npos) << error;
}

TEST(RegexLimits, RegexesUsersWritePass) {
  for (std::string_view pattern :
       {"^\\$2\r\nv[0246]\r\n$", "^VALUE k:[0-9]+ 0 5\r\nhello\r\nEND\r\n$",
        "^(HTTP/1.1 200|\\*2)", "ringsock test page</body></html>\n$",
        "^HTTP/1\\.[01] 2[0-9]{2} ", "^[[:alnum:]_-]{1,64}\r\n$", "Content-Length: [0-9]+"}) {
    ReplyCheckSpec spec;
    std::string error;
    EXPECT_TRUE(parse_expect_regex(pattern, spec, error)) << pattern << ": " << error;
  }
}

}  // namespace
}  // namespace ringsock::tool
