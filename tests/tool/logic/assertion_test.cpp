#include "logic/assertion.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace ringsock::tool {
namespace {

std::vector<Check> ok(std::string_view text) {
  auto r = parse_assertions(text);
  if (auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << text << ": " << e->message;
    return {};
  }
  return std::get<std::vector<Check>>(r);
}

Check one(std::string_view text) {
  auto v = ok(text);
  EXPECT_EQ(v.size(), 1u) << text;
  return v.empty() ? Check{} : v[0];
}

TEST(AssertParse, TheIssueExample) {
  const auto v = ok("p99<200us,errors=0,loss<0.01%");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].metric, Metric::percentile);
  EXPECT_EQ(v[0].percentile, 99);
  EXPECT_EQ(v[0].op, CompareOp::lt);
  EXPECT_EQ(v[0].threshold, 200'000);
  EXPECT_EQ(v[1].metric, Metric::errors);
  EXPECT_EQ(v[1].op, CompareOp::eq);
  EXPECT_EQ(v[1].threshold, 0);
  EXPECT_EQ(v[2].metric, Metric::loss);
  EXPECT_DOUBLE_EQ(v[2].threshold, 0.0001);
}

TEST(AssertParse, EveryNameAndPercentile) {
  EXPECT_EQ(one("p50<1").percentile, 50);
  EXPECT_EQ(one("p90<1").percentile, 90);
  EXPECT_EQ(one("p99.9<1").percentile, 99.9);
  EXPECT_EQ(one("p99.99<1").percentile, 99.99);
  EXPECT_EQ(one("p0<1").percentile, 0);
  EXPECT_EQ(one("p100<1").percentile, 100);
  EXPECT_EQ(one("min<1").metric, Metric::min);
  EXPECT_EQ(one("max<1").metric, Metric::max);
  EXPECT_EQ(one("mean<1").metric, Metric::mean);
  EXPECT_EQ(one("errors<1").metric, Metric::errors);
  EXPECT_EQ(one("loss<1%").metric, Metric::loss);
  EXPECT_EQ(one("rate>1000").metric, Metric::rate);
  EXPECT_EQ(one("rate>1000").threshold, 1000);
  EXPECT_EQ(one("achieved>99%").metric, Metric::achieved);
  EXPECT_DOUBLE_EQ(one("achieved>99%").threshold, 0.99);
  EXPECT_EQ(one("cpu_per_msg<2us").metric, Metric::cpu_per_msg);
  EXPECT_EQ(one("cpu_per_msg<2us").threshold, 2000);
}

TEST(AssertParse, EveryOperator) {
  EXPECT_EQ(one("max<1").op, CompareOp::lt);
  EXPECT_EQ(one("max<=1").op, CompareOp::le);
  EXPECT_EQ(one("max>1").op, CompareOp::gt);
  EXPECT_EQ(one("max>=1").op, CompareOp::ge);
  EXPECT_EQ(one("max=1").op, CompareOp::eq);
  EXPECT_EQ(one("max==1").op, CompareOp::eq);
  EXPECT_EQ(one("max!=1").op, CompareOp::ne);
}

TEST(AssertParse, EveryTimeUnit) {
  EXPECT_EQ(one("p99<7ns").threshold, 7);
  EXPECT_EQ(one("p99<7us").threshold, 7'000);
  EXPECT_EQ(one("p99<7").threshold, 7'000);  // bare: microseconds
  EXPECT_EQ(one("p99<7").unit, "us");
  EXPECT_EQ(one("p99<7ms").threshold, 7'000'000);
  EXPECT_EQ(one("p99<7s").threshold, 7'000'000'000);
  EXPECT_EQ(one("p99<1.5ms").threshold, 1'500'000);
  EXPECT_EQ(one("p99<0.25us").threshold, 250);
}

TEST(AssertParse, WhitespaceBetweenTokens) {
  const auto v = ok("  p99 < 200us , errors = 0 ,loss<0.01% ");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].name, "p99");
  EXPECT_EQ(v[2].unit, "%");
}

struct Bad {
  const char* text;
  const char* message;
};

TEST(AssertParse, MalformedExpressions) {
  const Bad cases[] = {
      {"", "position 1: expected a check such as p99<200us, found the end"},
      {"   ", "position 4: expected a check such as p99<200us, found the end"},
      {"p99", "position 4: expected a comparison (<, <=, >, >=, =, !=) after 'p99', found the end"},
      {"p99 200us", "position 5: expected a comparison (<, <=, >, >=, =, !=) after 'p99', found '2'"},
      {"p99<", "position 5: expected a number after the comparison, found the end"},
      {"<200us", "position 1: expected a name (p99, max, errors, loss, ...), found '<'"},
      {"p99<200xs", "position 8: expected a time unit (ns, us, ms, s) after the number, found 'x'"},
      {"p99<200 us", "position 9: expected ',' or the end, found 'u'"},
      {"p<200", "position 1: unknown name 'p' (expected p<percentile>, min, max, mean, errors, "
                "loss, rate, achieved, cpu_per_msg)"},
      {"p101<1", "position 1: percentile 'p101' is above 100"},
      {"p99.<1", "position 1: 'p99.' is not a percentile (expected p50, p99.9, ...)"},
      {"p9x<1", "position 1: 'p9x' is not a percentile (expected p50, p99.9, ...)"},
      {"latency<1", "position 1: unknown name 'latency' (expected p<percentile>, min, max, mean, "
                    "errors, loss, rate, achieved, cpu_per_msg)"},
      {"p99<<1", "position 5: expected a number after the comparison, found '<'"},
      {"p99=<1", "position 5: expected a number after the comparison, found '<'"},
      {"p99<200us,", "position 11: expected a check after ',', found the end"},
      {",p99<1", "position 1: expected a name (p99, max, errors, loss, ...), found ','"},
      {"p99<1,,errors=0", "position 7: expected a name (p99, max, errors, loss, ...), found ','"},
      {"errors=1us", "position 9: errors takes a plain number, without a unit, found 'u'"},
      {"errors=1.5", "position 8: errors is a count: expected a whole number"},
      {"loss<0.01", "position 10: loss is a percentage: expected '%' after the number, found the end"},
      {"loss<0.01us", "position 10: loss is a percentage: expected '%' after the number, found 'u'"},
      {"achieved>99", "position 12: achieved is a percentage: expected '%' after the number, found the end"},
      {"rate>1%", "position 7: rate takes a plain number, without a unit, found '%'"},
      {"p99<-1us", "position 5: expected a number after the comparison, found '-'"},
      {"p99<abc", "position 5: expected a number after the comparison, found 'a'"},
      {"p99<1.2.3us", "position 5: '1.2.3' is not a number"},
      {"p99<1.us", "position 5: '1.' is not a number"},
      {"p99<200us;errors=0", "position 10: expected ',' or the end, found ';'"},
      {"p99<1us,max", "position 12: expected a comparison (<, <=, >, >=, =, !=) after 'max', found the end"},
      {"p99<1%", "position 6: expected a time unit (ns, us, ms, s) after the number, found '%'"},
  };
  for (const Bad& b : cases) {
    auto r = parse_assertions(b.text);
    auto* e = std::get_if<ParseError>(&r);
    ASSERT_NE(e, nullptr) << "accepted: '" << b.text << "'";
    EXPECT_EQ(e->message, b.message) << "for '" << b.text << "'";
  }
}

Results results_with(const Histogram& h) {
  Results r;
  r.latency = &h;
  r.errors = 0;
  r.loss = 0.00005;  // 0.005%
  r.rate = 9'950;
  r.achieved = 0.995;
  r.cpu_per_msg_ns = 1'500;
  return r;
}

TEST(AssertEvaluate, PassAndFailWithReadableLines) {
  Histogram h;
  h.record_n(153'000, 100);
  const auto r = evaluate(ok("p99<200us,errors=0,loss<0.01%,p99>1ms"), results_with(h));
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].passed);
  EXPECT_EQ(r[0].line, "p99 = 153us < 200us: ok");
  EXPECT_EQ(r[1].line, "errors = 0 == 0: ok");
  EXPECT_EQ(r[2].line, "loss = 0.005% < 0.01%: ok");
  EXPECT_FALSE(r[3].passed);
  EXPECT_EQ(r[3].line, "p99 = 0.153ms > 1ms: FAILED");
  EXPECT_FALSE(all_passed(r));
  EXPECT_TRUE(all_passed({r[0], r[1], r[2]}));
}

TEST(AssertEvaluate, EveryMetric) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v * 1000);  // 1us..1ms
  const auto res = results_with(h);
  const auto r = evaluate(ok("min=1us,max=1ms,mean=500.5us,p50>=500us,p50<501us,rate>9900,"
                             "achieved>=99.5%,cpu_per_msg<=1.5us,errors<1"),
                          res);
  for (const auto& c : r) EXPECT_TRUE(c.passed) << c.line;
}

TEST(AssertEvaluate, Boundaries) {
  Histogram h;
  h.record(200'000);
  const auto r = evaluate(ok("p99<200us,p99<=200us,p99=200us,p99!=200us,p99>=200us,p99>200us"),
                          results_with(h));
  const bool want[] = {false, true, true, false, true, false};
  for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i].passed, want[i]) << r[i].line;
  Results e;
  e.errors = 3;
  const auto f = evaluate(ok("errors=0,errors<=3,errors!=0"), e);
  EXPECT_FALSE(f[0].passed);
  EXPECT_EQ(f[0].line, "errors = 3 == 0: FAILED");
  EXPECT_TRUE(f[1].passed);
  EXPECT_TRUE(f[2].passed);
}

TEST(AssertEvaluate, NoLatencySamplesFails) {
  Histogram empty;
  Results r;
  r.latency = &empty;
  const auto out = evaluate(ok("p99<200us,max>=0"), r);
  EXPECT_FALSE(out[0].passed);
  EXPECT_EQ(out[0].line, "p99 = n/a (no samples) < 200us: FAILED");
  EXPECT_FALSE(out[1].passed);
  Results none;
  EXPECT_FALSE(evaluate(ok("mean<1"), none)[0].passed);
}

}  // namespace
}  // namespace ringsock::tool
