#include "logic/json_reader.hpp"

#include <gtest/gtest.h>

#include <string>

#include "logic/json.hpp"

namespace ringsock::tool {
namespace {

// By value: the parse result is a temporary.
JsonValue ok(std::variant<JsonValue, std::string> v) {
  EXPECT_TRUE(std::holds_alternative<JsonValue>(v)) << std::get<std::string>(v);
  return std::holds_alternative<JsonValue>(v) ? std::move(std::get<JsonValue>(v)) : JsonValue{};
}

std::string error(std::string_view text) {
  auto v = parse_json(text);
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "parsed";
}

TEST(JsonReader, ReadsEveryKind) {
  const JsonValue v = ok(parse_json(
      R"( {"a": 1, "b": [true, false, null], "c": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "d": -2.5e3,
           "e": {}, "f": [], "g": 18446744073709551615} )"));
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.find("a")->as_u64(), 1u);
  EXPECT_EQ(v.find("b")->items.size(), 3u);
  EXPECT_TRUE(v.find("b")->items[0].boolean);
  EXPECT_EQ(v.find("b")->items[2].kind, JsonValue::Kind::null);
  EXPECT_EQ(v.find("c")->text, "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v.find("d")->as_double(), -2500.0);
  EXPECT_FALSE(v.find("d")->as_u64().has_value());
  EXPECT_TRUE(v.find("e")->is_object());
  EXPECT_TRUE(v.find("f")->is_array());
  EXPECT_EQ(v.find("g")->as_u64(), UINT64_MAX);  // exact, past a double's 2^53
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(JsonReader, ReadsWhatJsonWriterWrites) {
  std::string text;
  JsonWriter w(text, 2);
  w.begin_object().field("name", "caf\xc3\xa9 \"q\"\n").field("n", UINT64_MAX).field("d", 0.1);
  w.key("list").begin_array().value(1).value(-1).end_array().end_object();
  const JsonValue v = ok(parse_json(text));
  EXPECT_EQ(v.find("name")->text, "caf\xc3\xa9 \"q\"\n");
  EXPECT_EQ(v.find("n")->as_u64(), UINT64_MAX);
  EXPECT_EQ(v.find("d")->as_double(), 0.1);
  EXPECT_EQ(v.find("list")->items[1].as_i64(), -1);
}

TEST(JsonReader, RefusesWhatIsNotStrictJson) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "expected a value"},
      {"{", "expected a key"},
      {"{\"a\":1,}", "expected a key"},
      {"[1,]", "expected a value"},
      {"[1 2]", "expected ',' or ']'"},
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\":1,\"a\":2}", "duplicate key"},
      {"// c\n{}", "expected a value"},
      {"{} x", "expected the end"},
      {"01", "expected the end"},
      {"1.", "digits after '.'"},
      {"1e", "digits in the exponent"},
      {"+1", "expected a value"},
      {"NaN", "expected a value"},
      {"\"abc", "unterminated"},
      {"\"a\tb\"", "control character"},
      {"\"\\x\"", "unknown escape"},
      {"\"\\u12\"", "4 hex digits"},
      {"\"\\udc00\"", "lone low surrogate"},
      {"\"\\ud800x\"", "without its low half"},
      {"\"\xff\"", "invalid UTF-8"},
      {"\"\xc0\x80\"", "invalid UTF-8"},
      {"\"\xed\xa0\x80\"", "invalid UTF-8"},
      {"\"\xe2\x82\"", "invalid UTF-8"},
      {"\xef\xbb\xbf{}", "expected a value"},
      {"tru", "expected a value"},
  };
  for (const auto& [text, why] : cases)
    EXPECT_NE(error(text).find(why), std::string::npos) << text << ": " << error(text);
}

TEST(JsonReader, ErrorsSayWhere) {
  EXPECT_EQ(error("{\n  \"a\": [1,\n  2,, 3]}"),
            "JSON error at line 3, column 5: expected a value, found ','");
}

TEST(JsonReader, NestingIsLimited) {
  EXPECT_NE(error(std::string(65, '[') + std::string(65, ']')), "parsed");
  EXPECT_EQ(error(std::string(64, '[') + std::string(64, ']')), "parsed");
  EXPECT_NE(error(std::string(100000, '[')).find("nested more than 64"), std::string::npos);
}

TEST(JsonReader, ValuesAreLimited) {
  std::string many = "[0";
  for (std::size_t i = 2; i < kJsonMaxValues; ++i) many += ",0";
  EXPECT_EQ(error(many + "]"), "parsed");  // the array and 2^20 - 1 zeros
  EXPECT_NE(error(many + ",0]").find("more than 1048576 values"), std::string::npos);
}

TEST(JsonReader, EveryTruncationOfADocumentIsRefused) {
  const std::string doc = R"({"run": {"a": [1, 2.5, "x\u00e9"], "b": {"c": null, "d": true}}})";
  for (std::size_t n = 0; n < doc.size(); ++n)
    EXPECT_NE(error(doc.substr(0, n)), "parsed") << n;
  EXPECT_EQ(error(doc), "parsed");
}

}  // namespace
}  // namespace ringsock::tool
