// EMFILE when accepting past a low RLIMIT_NOFILE: the multishot accept ends
// with -EMFILE once (it does not spin reporting it), and after fds are freed
// a re-armed accept takes every connection that waited in the backlog.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "support.hpp"

namespace rstest {
namespace {

class FdLimitTest : public BackendTest {};

int highest_open_fd() {
  int highest = -1;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* entry = readdir(dir)) {
    int fd = atoi(entry->d_name);
    if (fd > highest) highest = fd;
  }
  closedir(dir);
  return highest;
}

// Lowers the soft limit and takes every free descriptor below it but `room`,
// for the test's lifetime; then gives all back.
struct FdLimit {
  rlimit saved{};
  std::vector<int> fillers;
  FdLimit(rlim_t soft, size_t room) {
    getrlimit(RLIMIT_NOFILE, &saved);
    rlimit lowered = saved;
    lowered.rlim_cur = soft;
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers.push_back(fd);
    EXPECT_EQ(errno, EMFILE);
    for (size_t i = 0; i < room && !fillers.empty(); ++i) {
      ::close(fillers.back());
      fillers.pop_back();
    }
  }
  ~FdLimit() {
    setrlimit(RLIMIT_NOFILE, &saved);
    for (int fd : fillers) ::close(fd);
  }
};

TEST_P(FdLimitTest, AcceptPastTheLimitEndsOnceAndRecovers) {
  WaitingClients waiting;
  ASSERT_TRUE(connect_waiting_clients(6, waiting));
  const int listener = waiting.listener;
  // Room for two more descriptors only (numbers below the limit).
  Recorder first;
  {
    FdLimit limit(rlim_t(highest_open_fd() + 8), 2);
    ASSERT_EQ(loop.accept_multishot(first.op, listener, Recorder::callback, &first), 0);
    ASSERT_TRUE(run_until(loop, [&] { return first.terminal; }));
    for (int turn = 0; turn < 20; ++turn) loop.run(RunMode::no_wait);  // would show any spinning
  }
  ASSERT_EQ(first.completions.size(), 3u) << "two fds, then one terminal -EMFILE";
  EXPECT_GE(first.completions[0].result, 0);
  EXPECT_GE(first.completions[1].result, 0);
  EXPECT_EQ(first.completions[2].result, -EMFILE);
  EXPECT_EQ(first.terminal_count, 1);
  for (int i = 0; i < 2; ++i) ::close(first.completions[i].result);
  // Fds are free again: re-arming takes the four that waited, none lost.
  Recorder second;
  ASSERT_EQ(loop.accept_multishot(second.op, listener, Recorder::callback, &second), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.completions.size() >= 4; }));
  for (const Completion& c : second.completions) {
    EXPECT_GE(c.result, 0);
    EXPECT_TRUE(c.more);
    ::close(c.result);
  }
  ASSERT_EQ(loop.cancel(second.op), 0);
  ASSERT_TRUE(run_until(loop, [&] { return second.terminal; }));
  EXPECT_EQ(second.completions.size(), 5u);
}

INSTANTIATE_TEST_SUITE_P(Backends, FdLimitTest, testing::ValuesIn(all_backends()),
                         backend_param_name);

}  // namespace
}  // namespace rstest
