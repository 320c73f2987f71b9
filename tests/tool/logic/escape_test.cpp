// C escapes in --request, --reply-until, --expect: decoded exactly, errors as
// sentences that say where, and the display form reads back as the same bytes.
#include "logic/escape.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringsock::tool {
namespace {

std::string decoded(std::string_view text) {
  std::string out, error;
  EXPECT_TRUE(decode_escapes(text, out, error)) << error;
  return out;
}

std::string escape_error(std::string_view text) {
  std::string out, error;
  EXPECT_FALSE(decode_escapes(text, out, error)) << "decoded: " << out;
  return error;
}

TEST(Escape, PlainTextIsUnchanged) { EXPECT_EQ(decoded("GET / HTTP/1.1"), "GET / HTTP/1.1"); }

TEST(Escape, NamedEscapes) {
  EXPECT_EQ(decoded("a\\r\\n\\t\\\\b"), "a\r\n\t\\b");
  EXPECT_EQ(decoded("\\\"\\'\\a\\b\\e\\f\\v"), std::string("\"'\a\b\x1b\f\v"));
}

TEST(Escape, NulAndHex) {
  EXPECT_EQ(decoded("x\\0y"), std::string("x\0y", 3));
  EXPECT_EQ(decoded("\\x00\\x7f\\xFF\\xaB"), std::string("\x00\x7f\xff\xab", 4));
  EXPECT_EQ(decoded("\\0"), std::string("\0", 1));
}

TEST(Escape, LoneBackslashAtTheEndIsAnError) {
  EXPECT_NE(escape_error("abc\\").find("lone backslash (at character 4)"), std::string::npos);
}

TEST(Escape, UnknownEscapeNamesItAndWhere) {
  const std::string e = escape_error("ab\\q");
  EXPECT_NE(e.find("\\q at character 3"), std::string::npos) << e;
  EXPECT_NE(e.find("not an escape"), std::string::npos) << e;
}

TEST(Escape, HexNeedsTwoDigits) {
  EXPECT_NE(escape_error("\\x4").find("two hex digits"), std::string::npos);
  EXPECT_NE(escape_error("\\x4g").find("at character 1"), std::string::npos);
  EXPECT_NE(escape_error("\\x").find("two hex digits"), std::string::npos);
}

TEST(Escape, OctalIsRefusedNotReadAsNul) {
  EXPECT_NE(escape_error("\\012").find("octal escapes are not supported"), std::string::npos);
}

TEST(Escape, DisplayFormDecodesBack) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(char(c));
  all += std::string("\0" "1", 2);  // a NUL before a digit must not read as octal
  const std::string shown = escape_for_display(all);
  EXPECT_EQ(decoded(shown), all);
  EXPECT_EQ(escape_for_display(std::string_view("+PONG\r\n")), "+PONG\\r\\n");
}

TEST(Escape, DisplayIsCutAtTheLimit) {
  EXPECT_EQ(escape_for_display(std::string(500, 'a'), 200), std::string(200, 'a'));
}

TEST(Escape, LongDisplayTextIsCutBetweenEscapes) {
  EXPECT_EQ(cut_for_display("short"), "short");
  EXPECT_EQ(cut_for_display(std::string(200, 'a')), std::string(200, 'a'));
  EXPECT_EQ(cut_for_display(std::string(300, 'a')),
            std::string(200, 'a') + "... (300 characters, first 200 shown)");
  // 198 plain characters, then escapes: \x01 would end at 202, so the cut
  // stays before it; a named escape (\n) that fits is kept whole.
  EXPECT_EQ(cut_for_display(std::string(198, 'a') + "\\x01\\x02", 200),
            std::string(198, 'a') + "... (206 characters, first 198 shown)");
  EXPECT_EQ(cut_for_display(std::string(198, 'a') + "\\n\\x02", 200),
            std::string(198, 'a') + "\\n... (204 characters, first 200 shown)");
}

TEST(Escape, ACutKeepsBracesAndPlaceholdersWholeAndClosesTheQuote) {
  EXPECT_EQ(cut_for_display(std::string(9, 'a') + "{{b", 10),
            std::string(9, 'a') + "... (12 characters, first 9 shown)");
  EXPECT_EQ(cut_for_display(std::string(5, 'a') + "{rand:8}b", 10),
            std::string(5, 'a') + "... (14 characters, first 5 shown)");
  EXPECT_EQ(cut_for_display("--expect \"" + std::string(20, 'c') + "\"", 15),
            "--expect \"ccccc\"... (31 characters, first 15 shown)");
}

TEST(Escape, AnyBytesNeverCrash) {
  std::string out, error;
  for (int c = 0; c < 256; ++c) {
    const std::uint8_t text[3] = {'\\', std::uint8_t(c), '\\'};
    for (std::size_t n = 0; n <= 3; ++n) (void)decode_escapes(text, n, out, error);
  }
  SUCCEED();
}

}  // namespace
}  // namespace ringsock::tool
