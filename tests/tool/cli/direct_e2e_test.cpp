// `serve --direct` end to end, on both backends: connections accepted into
// io_uring direct descriptors (one table slot per connection slot) echo
// every message verified over TCP and a UNIX stream, in ping-pong and in
// churn; with fewer slots than concurrent clients the others wait in the
// backlog and none is lost. On epoll the option is off and says so.
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <cstdio>
#include <string>

#include "e2e_support.hpp"

namespace cli_test {
namespace {

class DirectE2E : public ::testing::TestWithParam<std::string> {};

// Whether serve's banner says its loops have a table of `slots` direct
// descriptors; if not, it must say why (epoll, or a kernel that refused).
bool table_on(const std::string& out, const char* slots) {
  if (out.find(std::string("direct descriptors: ") + slots + " per thread") != std::string::npos) {
    return true;
  }
  EXPECT_NE(out.find("direct descriptors: off ("), std::string::npos) << out;
  return false;
}

// Linux 6.13 or later: where the engine asks for the table (serve raises
// its fd limit to the hard limit, far above these tests' slots).
bool kernel_has_table() {
  utsname name{};
  unsigned major = 0, minor = 0;
  if (uname(&name) != 0 || sscanf(name.release, "%u.%u", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 13);
}

// On io_uring the table must be on where the kernel has it (elsewhere the
// test has nothing to say: skip); on epoll it is off.
#define EXPECT_TABLE(out, slots, on)                                                     \
  do {                                                                                   \
    if (GetParam() == "epoll") {                                                         \
      EXPECT_FALSE(on);                                                                  \
      EXPECT_NE((out).find("off (epoll has none)"), std::string::npos) << (out);         \
    } else if (!(on)) {                                                                  \
      ASSERT_FALSE(kernel_has_table()) << "no table on a kernel that has it: " << (out); \
      GTEST_SKIP() << "the kernel has no table of direct descriptors: " << (out);        \
    }                                                                                    \
  } while (0)

TEST_P(DirectE2E, EveryMessageComesBackVerified) {
  if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " does not start here";
  TempDir dir;
  for (const std::string& endpoint :
       {std::string("tcp://127.0.0.1:0"), "unix://" + dir.path + "/direct.sock"}) {
    SCOPED_TRACE(endpoint);
    Server server(endpoint, "echo", GetParam(), {"--direct", "--max-connections", "64"});
    ASSERT_FALSE(server.url().empty());
    std::string out, err;
    EXPECT_EQ(run_load({server.url(), "--connections", "8", "--inflight", "2", "--count", "2000",
                        "--backend", GetParam(), "--assert", "errors=0"},
                       &out, &err),
              0) << out << err;
    EXPECT_EQ(run_load({server.url(), "--mode", "churn", "--connections", "8", "--count", "400",
                        "--backend", GetParam(), "--assert", "errors=0"},
                       &out, &err),
              0) << out << err;
    const std::string counters = server.stop();
    EXPECT_NE(counters.find("errors 0"), std::string::npos) << counters;
    EXPECT_TABLE(counters, "64", table_on(counters, "64"));
  }
}

// Twelve clients at once against four connection slots. With direct
// descriptors (io_uring) the table has four slots too: at the limit the
// accept ends with -EMFILE (an accept error in serve's counters) and serve
// accepts again after a pause; the waiting clients stay in the backlog
// meanwhile, and every exchange completes. Without the table (epoll) serve
// is as without the option: it accepts past its slots and closes those
// connections at once (no-slot errors; the clients see them closed).
TEST_P(DirectE2E, MoreClientsThanSlots) {
  if (!backend_starts(GetParam())) GTEST_SKIP() << GetParam() << " does not start here";
  Server server("tcp://127.0.0.1:0", "echo", GetParam(), {"--direct", "--max-connections", "4"});
  ASSERT_FALSE(server.url().empty());
  std::string out, err;
  int code = run_load({server.url(), "--mode", "churn", "--connections", "12", "--count", "120",
                       "--backend", GetParam()},
                      &out, &err);
  EXPECT_EQ(code, 0) << out << err;
  const std::string counters = server.stop();
  const bool on = table_on(counters, "4");
  EXPECT_TABLE(counters, "4", on);
  size_t errors = counters.find("errors ");
  ASSERT_NE(errors, std::string::npos) << counters;
  const std::string tail = counters.substr(errors);
  for (const char* other : {"recv=", "send=", "close=", "protocol="}) {
    EXPECT_EQ(tail.find(other), std::string::npos) << counters;
  }
  if (on) {
    EXPECT_NE(out.find("errors         none"), std::string::npos) << out;
    EXPECT_NE(counters.find("connections 120, in 120 messages 7680 bytes, out 120 messages"),
              std::string::npos) << counters;
    EXPECT_EQ(tail.find("no-slot="), std::string::npos) << counters;
  } else {
    // Whether connections ever overlapped past four depends on timing: if
    // they did, serve closed the extras at once (no-slot), and their
    // clients saw errors; either way nothing else went wrong.
    if (tail.find("no-slot=") != std::string::npos) {
      EXPECT_EQ(out.find("errors         none"), std::string::npos) << out << counters;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DirectE2E, ::testing::Values("uring", "epoll"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace cli_test
