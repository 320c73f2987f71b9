// `ringsock load`'s address family, end to end on both backends: `localhost`
// under --ipv6 is the IPv6 loopback, and a host name is resolved to the
// family of --source, whose connections could reach no other.
// Every run is bounded by --count.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "e2e_support.hpp"

namespace {

class LoadFamily : public cli_test::LoadOnBackend {};

// The port of a URL that ends in ":PORT".
std::string port_of(const std::string& url) { return url.substr(url.rfind(':') + 1); }

TEST_P(LoadFamily, LocalhostUnderIpv6IsTheIpv6Loopback) {
  for (const std::string transport : {"tcp", "udp"}) {
    cli_test::Server echo(transport + "://[::1]:0", "echo", GetParam());
    ASSERT_FALSE(echo.url().empty()) << transport;
    const std::string port = port_of(echo.url());
    EXPECT_EQ(load(transport + "://localhost:" + port, {"--ipv6", "--count", "20"}), 0)
        << out << err;
    EXPECT_EQ(cli_test::replies_verified(out), 20u) << out;
    EXPECT_NE(out.find("load " + transport + "://[::1]:" + port + ":"), std::string::npos) << out;
  }
}

// A name with an IPv4 and an IPv6 address (an /etc/hosts of the test's own,
// as in load_custom_e2e_test.cpp) and a listener on each: every connection
// goes to the address of its --source's family.
TEST_P(LoadFamily, ANameIsResolvedToTheFamilyOfSource) {
#ifdef RINGSOCK_EMULATOR
  GTEST_SKIP() << "the child runs through unshare, not the emulator";
#endif
  cli_test::TempDir dir;
  const cli_test::HostsNamespace names(dir, "127.0.0.1 dual.test\n::1 dual.test\n");
  if (std::string why = names.unusable(); !why.empty()) GTEST_SKIP() << why;
  std::string p;
  const auto echo = cli_test::echo_on_one_port({"127.0.0.1", "[::1]"}, GetParam(), &p);
  ASSERT_NE(echo, nullptr) << "no port was free on 127.0.0.1 and ::1";

  const std::string load = "exec '" RINGSOCK_BIN "' load tcp://dual.test:" + p +
                           " --connections 4 --count 40 --backend " + GetParam();
  std::string output;
  const int v6 = names.run(load + " --source ::1", &output);
  ASSERT_TRUE(WIFEXITED(v6) && WEXITSTATUS(v6) == 0) << v6 << "\n" << output;
  EXPECT_EQ(cli_test::replies_verified(output), 40u) << output;
  const int v4 = names.run(load + " --source 127.0.0.2-127.0.0.3", &output);
  ASSERT_TRUE(WIFEXITED(v4) && WEXITSTATUS(v4) == 0) << v4 << "\n" << output;
  EXPECT_EQ(cli_test::replies_verified(output), 40u) << output;

  const std::string counters = echo->stop();
  EXPECT_NE(counters.find("tcp://[::1]:" + p + ": connections 4,"), std::string::npos) << counters;
  EXPECT_NE(counters.find("tcp://127.0.0.1:" + p + ": connections 4,"), std::string::npos)
      << counters;
}

INSTANTIATE_TEST_SUITE_P(Backends, LoadFamily, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
