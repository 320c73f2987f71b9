// Requests with placeholders: compiled once, rendered per message into a
// caller's buffer; bad syntax is a sentence that says where.
#include "logic/request_template.hpp"

#include "logic/escape.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace ringsock::tool {
namespace {

RequestTemplate compiled(std::string_view text) {
  RequestTemplate t;
  std::string error;
  EXPECT_TRUE(RequestTemplate::compile(text, t, error)) << error;
  return t;
}

std::string compile_error(std::string_view text) {
  RequestTemplate t;
  std::string error;
  EXPECT_FALSE(RequestTemplate::compile(text, t, error)) << text;
  return error;
}

std::string render(const RequestTemplate& t, RenderValues values) {
  std::vector<std::uint8_t> buffer(t.max_size());
  const std::size_t n = t.render(values, buffer.data(), buffer.size());
  return std::string(reinterpret_cast<const char*>(buffer.data()), n);
}

TEST(RequestTemplate, PlainBytesAreConstant) {
  const RequestTemplate t = compiled("PING\r\n");
  EXPECT_TRUE(t.is_constant());
  EXPECT_EQ(t.max_size(), 6u);
  EXPECT_EQ(render(t, {}), "PING\r\n");
  EXPECT_EQ(std::string(t.constant_bytes().begin(), t.constant_bytes().end()), "PING\r\n");
}

TEST(RequestTemplate, SequenceAndConnection) {
  const RequestTemplate t = compiled("SET k:{seq}:{conn} v\r\n");
  EXPECT_FALSE(t.is_constant());
  EXPECT_EQ(render(t, {.sequence = 0, .connection = 7}), "SET k:0:7 v\r\n");
  EXPECT_EQ(render(t, {.sequence = 18446744073709551615ULL, .connection = 4294967295U}),
            "SET k:18446744073709551615:4294967295 v\r\n");
  EXPECT_EQ(t.max_size(), std::string("SET k:: v\r\n").size() + 20 + 10);
}

TEST(RequestTemplate, RandomDigitsAreSeededAndSpread) {
  const RequestTemplate t = compiled("{rand:6}-{rand:20}");
  const std::string a = render(t, {.sequence = 5, .connection = 1, .seed = 42});
  ASSERT_EQ(a.size(), 6u + 1 + 20);
  EXPECT_EQ(a.find_first_not_of("0123456789-"), std::string::npos);
  EXPECT_EQ(render(t, {.sequence = 5, .connection = 1, .seed = 42}), a);  // same inputs, same bytes
  EXPECT_NE(render(t, {.sequence = 5, .connection = 1, .seed = 43}), a);
  EXPECT_NE(a.substr(0, 6), a.substr(7, 6));  // two placeholders, two streams
  std::set<std::string> keys;
  int digit_count[10] = {};
  for (std::uint64_t s = 0; s < 1000; ++s) {
    const std::string r = render(t, {.sequence = s, .connection = 0, .seed = 1});
    keys.insert(r.substr(0, 6));
    for (char c : r.substr(7)) ++digit_count[c - '0'];
  }
  EXPECT_GT(keys.size(), 990u);  // 1000 draws of 10^6 keys: a collision or two at most
  for (int count : digit_count) EXPECT_GT(count, 1500);  // 20000 digits, 2000 each expected
}

TEST(RequestTemplate, DoubledBracesAreLiteral) {
  const RequestTemplate t = compiled("{{\"k\":{seq}}}");
  EXPECT_EQ(render(t, {.sequence = 3}), "{\"k\":3}");
  EXPECT_EQ(t.describe(), "{{\\\"k\\\":{seq}}}");
}

TEST(RequestTemplate, DescribeCompilesBack) {
  const RequestTemplate t = compiled(std::string_view("a\r\n\0{conn}{rand:3}}}", 20));
  std::string text, error;
  ASSERT_TRUE(decode_escapes(t.describe(), text, error)) << error;  // as the command line would
  const RequestTemplate again = compiled(text);
  EXPECT_EQ(render(again, {.sequence = 1, .connection = 2, .seed = 3}),
            render(t, {.sequence = 1, .connection = 2, .seed = 3}));
}

TEST(RequestTemplate, ErrorsSaySentencesWithPlaces) {
  EXPECT_NE(compile_error("").find("empty"), std::string::npos);
  EXPECT_NE(compile_error("GET {foo}").find("unknown placeholder {foo} at character 5"),
            std::string::npos);
  EXPECT_NE(compile_error("ab}c").find("a lone } at character 3"), std::string::npos);
  EXPECT_NE(compile_error("ab{seq").find("never closed"), std::string::npos);
  EXPECT_NE(compile_error("{rand:0}").find("1 to 20"), std::string::npos);
  EXPECT_NE(compile_error("{rand:21}").find("1 to 20"), std::string::npos);
  EXPECT_NE(compile_error("{rand:}").find("1 to 20"), std::string::npos);
  EXPECT_NE(compile_error("{rand:x}").find("1 to 20"), std::string::npos);
  EXPECT_NE(compile_error("{}").find("unknown placeholder {}"), std::string::npos);
}

TEST(RequestTemplate, LiteralKeepsBraces) {
  RequestTemplate t;
  std::string error;
  const std::uint8_t bytes[] = {'{', 0, '}', 0xff};
  ASSERT_TRUE(RequestTemplate::compile_literal(bytes, sizeof bytes, t, error));
  EXPECT_TRUE(t.is_constant());
  EXPECT_EQ(render(t, {}), std::string("{\0}\xff", 4));
  EXPECT_FALSE(RequestTemplate::compile_literal(bytes, 0, t, error));
  EXPECT_NE(error.find("empty"), std::string::npos);
}

TEST(RequestTemplate, RenderRefusesASmallBuffer) {
  const RequestTemplate t = compiled("x{seq}");
  std::uint8_t buffer[8];
  EXPECT_EQ(t.render({.sequence = 1}, buffer, sizeof buffer), 0u);  // max_size is 21
}

TEST(RequestCycle, CyclesInOrder) {
  RequestCycle cycle;
  cycle.add(compiled("SET k:{seq} v\r\n"));
  cycle.add(compiled("GET k:{seq}\r\n"));
  ASSERT_EQ(cycle.size(), 2u);
  EXPECT_EQ(render(cycle.for_sequence(0), {.sequence = 0}), "SET k:0 v\r\n");
  EXPECT_EQ(render(cycle.for_sequence(1), {.sequence = 1}), "GET k:1\r\n");
  EXPECT_EQ(render(cycle.for_sequence(4), {.sequence = 4}), "SET k:4 v\r\n");
  EXPECT_EQ(cycle.max_size(), std::string("SET k: v\r\n").size() + 20);
}

TEST(RequestCycle, RoundAddressesTheSameKeyAcrossTheCycle) {
  RequestCycle cycle;
  cycle.add(compiled("SET k:{round} v\r\n"));
  cycle.add(compiled("GET k:{round}\r\n"));
  std::vector<std::uint8_t> buffer(cycle.max_size());
  std::string sent;
  for (std::uint64_t seq = 0; seq < 4; ++seq) {
    const std::size_t n = cycle.render({.sequence = seq}, buffer.data(), buffer.size());
    sent.append(reinterpret_cast<const char*>(buffer.data()), n);
  }
  EXPECT_EQ(sent, "SET k:0 v\r\nGET k:0\r\nSET k:1 v\r\nGET k:1\r\n");
}

TEST(RequestTemplate, AnyBytesNeverCrash) {
  RequestTemplate t;
  std::string error;
  const char* inputs[] = {"{", "}", "{{", "}}", "{{}", "{seq", "{rand:", "{rand:99999999999}",
                          "{conn}{", "\xff{seq}\x00"};
  for (const char* in : inputs) {
    if (RequestTemplate::compile(in, t, error)) (void)render(t, {.sequence = 9});
  }
  SUCCEED();
}

}  // namespace
}  // namespace ringsock::tool
