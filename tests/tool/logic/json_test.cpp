#include "logic/json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ringsock::tool {
namespace {

std::string escaped(std::string_view s) {
  std::string out;
  JsonWriter::escape(out, s);
  return out;
}

TEST(Json, EscapesQuotesBackslashAndControls) {
  EXPECT_EQ(escaped("plain"), "\"plain\"");
  EXPECT_EQ(escaped("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(escaped("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(escaped("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(escaped(std::string_view("\0\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(escaped("/"), "\"/\"");
  EXPECT_EQ(escaped(""), "\"\"");
}

TEST(Json, Utf8PassesThrough) {
  EXPECT_EQ(escaped("µs → 延迟 😀"), "\"µs → 延迟 😀\"");
}

TEST(Json, CompactStructure) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("name", "ringsock")
      .field("threads", 4)
      .field("big", std::uint64_t{18446744073709551615ULL})
      .field("neg", std::int64_t{-9223372036854775807LL - 1})
      .field("ratio", 0.25)
      .field("ok", true)
      .field("bad", false)
      .key("none").null()
      .key("list").begin_array().value(1).value("two").value(3.5).begin_object().end_object()
      .begin_array().end_array().end_array()
      .key("nested").begin_object().field("a", nullptr).end_object()
      .end_object();
  EXPECT_EQ(out,
            "{\"name\":\"ringsock\",\"threads\":4,\"big\":18446744073709551615,"
            "\"neg\":-9223372036854775808,\"ratio\":0.25,\"ok\":true,\"bad\":false,"
            "\"none\":null,\"list\":[1,\"two\",3.5,{},[]],\"nested\":{\"a\":null}}");
  EXPECT_EQ(w.depth(), 0);
}

TEST(Json, DoublesAreFiniteAndRoundTrip) {
  std::string out;
  JsonWriter w(out);
  w.begin_array()
      .value(0.1)
      .value(1e300)
      .value(-2.0)
      .value(std::nan(""))
      .value(std::numeric_limits<double>::infinity())
      .value(-std::numeric_limits<double>::infinity())
      .end_array();
  EXPECT_EQ(out, "[0.1,1e+300,-2,null,null,null]");
}

TEST(Json, PrettyPrinting) {
  std::string out;
  JsonWriter w(out, 2);
  w.begin_object().field("a", 1).key("b").begin_array().value(true).end_array()
      .key("c").begin_object().end_object().end_object();
  EXPECT_EQ(out, "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ],\n  \"c\": {}\n}");
}

TEST(Json, TopLevelScalarsAndKeyEscaping) {
  std::string out;
  JsonWriter(out).value("x\"y");
  EXPECT_EQ(out, "\"x\\\"y\"");
  out.clear();
  JsonWriter(out).begin_object().field("k\ney", 1u).end_object();
  EXPECT_EQ(out, "{\"k\\ney\":1}");
}

TEST(Json, MisuseThrows) {
  std::string out;
  JsonWriter w(out);
  EXPECT_THROW(w.end_object(), std::logic_error);
  for (int i = 0; i < 64; ++i) w.begin_array();
  EXPECT_THROW(w.begin_array(), std::length_error);
}

}  // namespace
}  // namespace ringsock::tool
