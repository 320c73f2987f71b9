#include "logic/start_at.hpp"

#include <gtest/gtest.h>

namespace ringsock::tool {
namespace {

constexpr std::int64_t kS = 1'000'000'000LL;

std::int64_t ok(const std::variant<std::int64_t, std::string>& v) {
  EXPECT_TRUE(std::holds_alternative<std::int64_t>(v)) << std::get<std::string>(v);
  return std::holds_alternative<std::int64_t>(v) ? std::get<std::int64_t>(v) : -1;
}

std::string error(const std::variant<std::int64_t, std::string>& v) {
  EXPECT_TRUE(std::holds_alternative<std::string>(v));
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : "";
}

TEST(StartAt, ParsesRfc3339) {
  // date -u -d 2026-12-04T18:00:00Z +%s -> 1796407200
  EXPECT_EQ(ok(parse_time("2026-12-04T18:00:00Z")), 1796407200 * kS);
  EXPECT_EQ(ok(parse_time("2026-12-04t18:00:00z")), 1796407200 * kS);
  EXPECT_EQ(ok(parse_time("2026-12-04 18:00:00Z")), 1796407200 * kS);
  EXPECT_EQ(ok(parse_time("2026-12-04T19:00:00+01:00")), 1796407200 * kS);
  EXPECT_EQ(ok(parse_time("2026-12-04T12:30:00-05:30")), 1796407200 * kS);
  EXPECT_EQ(ok(parse_time("2026-12-04T18:00:00.5Z")), 1796407200 * kS + 500'000'000);
  EXPECT_EQ(ok(parse_time("2026-12-04T18:00:00.000000001Z")), 1796407200 * kS + 1);
  EXPECT_EQ(ok(parse_time("1970-01-01T00:00:00Z")), 0);
  EXPECT_EQ(ok(parse_time("2000-02-29T00:00:00Z")), 951782400 * kS);
  EXPECT_EQ(ok(parse_time("2100-03-01T00:00:00Z")), 4107542400 * kS);
}

TEST(StartAt, ParsesUnixSeconds) {
  EXPECT_EQ(ok(parse_time("1796407200")), 1796407200 * kS);
  EXPECT_EQ(ok(parse_time("1796407200.25")), 1796407200 * kS + 250'000'000);
  EXPECT_EQ(ok(parse_time("0.000000001")), 1);
}

TEST(StartAt, RefusesMalformedTimes) {
  for (const char* bad :
       {"", "now", "2026-12-04", "2026-12-04T18:00:00", "2026-12-04T18:00Z", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-12-32T00:00:00Z", "2026-12-04T24:00:00Z",
        "2026-12-04T18:60:00Z", "2026-12-04T23:59:60Z", "2026-12-04T18:00:00.Z",
        "2026-12-04T18:00:00.1234567890Z", "2026-12-04T18:00:00+1:00", "2026-12-04T18:00:00+01",
        "2026-12-04T18:00:00Zjunk", "1969-12-31T23:59:59Z", "1.", ".5", "-5", "1e9", "12 ",
        "99999999999999999999", "1970-01-01T00:00:00+01:00"})
    EXPECT_NE(error(parse_time(bad)).find("bad time"), std::string::npos) << bad;
}

TEST(StartAt, RefusesThePastAndMoreThanADayAhead) {
  const std::int64_t now = 1796407200 * kS;
  EXPECT_EQ(ok(parse_start_at("1796407201", now)), now + kS);
  EXPECT_EQ(ok(parse_start_at("2026-12-05T18:00:00Z", now)), now + 86400 * kS);
  std::string e = error(parse_start_at("1796407200", now));
  EXPECT_NE(e.find("in the past"), std::string::npos) << e;
  e = error(parse_start_at("2026-12-04T17:59:00Z", now));
  EXPECT_NE(e.find("60.000 s in the past"), std::string::npos) << e;
  e = error(parse_start_at("2026-12-05T18:00:00.000000001Z", now));
  EXPECT_NE(e.find("more than a day"), std::string::npos) << e;
  e = error(parse_start_at("soon", now));
  EXPECT_NE(e.find("bad value for --start-at"), std::string::npos) << e;
}

TEST(StartAt, FormatsRfc3339RoundTrip) {
  EXPECT_EQ(format_rfc3339(1796407200 * kS + 5), "2026-12-04T18:00:00.000000005Z");
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000000000Z");
  for (std::int64_t t : {std::int64_t{951782400} * kS, std::int64_t{4107542400} * kS - 1,
                         std::int64_t{1234567890123456789}})
    EXPECT_EQ(ok(parse_time(format_rfc3339(t))), t);
}

TEST(StartAt, MonotonicDeadline) {
  EXPECT_EQ(monotonic_at(10 * kS, 7 * kS, 500), 3 * kS + 500);
  EXPECT_EQ(monotonic_at(7 * kS, 7 * kS, 500), 0u);
}

}  // namespace
}  // namespace ringsock::tool
