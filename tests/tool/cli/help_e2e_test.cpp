// `ringsock help SUBCOMMAND`, `ringsock SUBCOMMAND --help` and `-h`: the
// built binary prints that subcommand's usage on stdout and exits 0; a help
// request for something that is not a subcommand is a usage error (exit 2).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "child.hpp"

namespace {

struct HelpCase {
  std::vector<std::string> words;
  std::string first_line;  ///< how the usage printed must begin
};

class CliHelp : public ::testing::TestWithParam<HelpCase> {};

TEST_P(CliHelp, PrintsTheUsageAndExitsZero) {
  std::string out, err;
  EXPECT_EQ(cli_test::run(GetParam().words, &out, &err), 0) << err;
  EXPECT_EQ(out.rfind(GetParam().first_line, 0), 0u) << out;
  EXPECT_EQ(err, "");
}

INSTANTIATE_TEST_SUITE_P(
    Forms, CliHelp,
    ::testing::Values(HelpCase{{"--help"}, "usage: ringsock SUBCOMMAND"},
                      HelpCase{{"help"}, "usage: ringsock SUBCOMMAND"},
                      HelpCase{{"-h"}, "usage: ringsock SUBCOMMAND"},
                      HelpCase{{"help", "serve"}, "usage: ringsock serve ENDPOINT..."},
                      HelpCase{{"serve", "--help"}, "usage: ringsock serve ENDPOINT..."},
                      HelpCase{{"serve", "-h"}, "usage: ringsock serve ENDPOINT..."},
                      HelpCase{{"help", "load"}, "usage: ringsock load ENDPOINT"},
                      HelpCase{{"load", "--help"}, "usage: ringsock load ENDPOINT"},
                      HelpCase{{"load", "-h"}, "usage: ringsock load ENDPOINT"},
                      HelpCase{{"load", "tcp://127.0.0.1:1", "--count", "5", "--help"},
                               "usage: ringsock load ENDPOINT"},
                      HelpCase{{"help", "probe"}, "usage: ringsock probe"},
                      HelpCase{{"probe", "--help"}, "usage: ringsock probe"},
                      HelpCase{{"probe", "-h"}, "usage: ringsock probe"}));

TEST(CliHelpBad, UnknownTopicOrOptionExitsTwo) {
  std::string out, err;
  EXPECT_EQ(cli_test::run({"help", "frobnicate"}, &out, &err), 2);
  EXPECT_NE(err.find("'frobnicate'"), std::string::npos) << err;
  EXPECT_EQ(out, "");
  EXPECT_EQ(cli_test::run({"load", "tcp://127.0.0.1:1", "--frobnicate"}, &out, &err), 2);
  EXPECT_NE(err.find("ringsock load --help"), std::string::npos) << err;
}

}  // namespace
