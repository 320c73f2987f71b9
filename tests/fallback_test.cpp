// Backend selection for real: a child process forbids io_uring_setup with a
// seccomp filter (EPERM, as container profiles do, or ENOSYS, as old kernels
// and qemu-user answer), then opens a loop in auto mode. It must run on epoll,
// say why, and carry an echo. Forcing io_uring there must fail clearly.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "support.hpp"

namespace rstest {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#elif defined(__arm__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_ARM;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr uint32_t kAuditArch = AUDIT_ARCH_RISCV64;
#elif defined(__i386__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_I386;
#else
#define RINGSOCK_NO_SECCOMP_ARCH 1
constexpr uint32_t kAuditArch = 0;
#endif

// Makes io_uring_setup fail with `error`; everything else is allowed.
bool forbid_io_uring(int error) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (uint32_t(error) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// 0 when this process may install a seccomp filter at all, else the errno of
// trying: qemu-user answers PR_SET_SECCOMP with EINVAL (the guest must not
// filter the emulator's own syscalls), so does a kernel without
// CONFIG_SECCOMP_FILTER. Probed once, in a child, with a filter that allows
// everything, so a failure of the real filter stays a test failure.
int seccomp_filter_error() {
  static const int error = [] {
    pid_t pid = ::fork();
    if (pid == 0) {
      sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
      sock_fprog program{1, allow};
      bool ok = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
                prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
      _exit(ok ? 0 : (errno > 0 && errno < 256 ? errno : 255));
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 0;  // let the test tell
    return WEXITSTATUS(status);
  }();
  return error;
}

// One echo through the loop over a socketpair: send on one end, receive on the other.
bool echo_once(Loop& loop) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return false;
  char out[] = "fallback", in[sizeof(out)] = {};
  Recorder sent, received;
  bool ok = loop.send(sent.op, sv[0], out, sizeof(out), Recorder::callback, &sent) == 0 &&
            loop.recv(received.op, sv[1], in, sizeof(in), Recorder::callback, &received) == 0;
  for (int turns = 0; ok && turns < 1000 && !(sent.terminal && received.terminal); ++turns) {
    ok = loop.run(RunMode::once) >= 0;
  }
  ok = ok && sent.result() == int(sizeof(out)) && received.result() == int(sizeof(out)) &&
       memcmp(in, out, sizeof(out)) == 0;
  ::close(sv[0]);
  ::close(sv[1]);
  return ok;
}

// Runs `body` in a child under the filter; the child writes a line of
// explanation to a pipe and exits 0 on success.
struct ChildResult {
  int status = -1;
  std::string said;
};

template <class Body>
ChildResult in_child_without_io_uring(int error, Body body) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    std::string said;
    int code = forbid_io_uring(error) ? body(said) : 90;
    if (code == 90) said = "seccomp filter could not be installed";
    (void)!::write(pipe_fds[1], said.data(), said.size());
    _exit(code);
  }
  ::close(pipe_fds[1]);
  ChildResult result;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) result.said.append(buffer, size_t(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

int auto_mode_falls_back(std::string& said) {
  unsetenv("RINGSOCK_BACKEND");
  Loop loop;
  int rc = loop.init();  // automatic
  said = loop.backend_reason();
  if (rc != 0) return 1;
  if (loop.backend() != BackendKind::epoll) return 2;
  return echo_once(loop) ? 0 : 3;
}

int forced_uring_fails(std::string& said) {
  unsetenv("RINGSOCK_BACKEND");
  Loop loop;
  LoopOptions options;
  options.backend = BackendChoice::uring;
  int rc = loop.init(options);
  said = std::to_string(rc) + " " + loop.backend_reason();
  return (rc < 0 && !loop.initialized()) ? 0 : 1;
}

class FallbackTest : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
#ifdef RINGSOCK_NO_SECCOMP_ARCH
    GTEST_SKIP() << "no seccomp architecture constant for this target";
#endif
    if (int error = seccomp_filter_error(); error != 0) {
      GTEST_SKIP() << "seccomp filters cannot be installed here: prctl(PR_SET_SECCOMP) fails with "
                   << std::strerror(error) << " (qemu-user refuses them; so does a kernel without "
                   << "CONFIG_SECCOMP_FILTER)";
    }
  }
  const char* errno_name() const { return GetParam() == EPERM ? "EPERM" : "ENOSYS"; }
};

TEST_P(FallbackTest, AutoModeRunsOnEpollAndSaysWhy) {
  ChildResult child = in_child_without_io_uring(GetParam(), auto_mode_falls_back);
  ASSERT_EQ(child.status, 0) << child.said;
  EXPECT_NE(child.said.find("epoll"), std::string::npos) << child.said;
  EXPECT_NE(child.said.find(errno_name()), std::string::npos) << child.said;
}

TEST_P(FallbackTest, ForcedUringIsAClearErrorNotAFallback) {
  ChildResult child = in_child_without_io_uring(GetParam(), forced_uring_fails);
  ASSERT_EQ(child.status, 0) << child.said;
  std::string prefix = std::string("-").append(std::to_string(GetParam())).append(" ");
  EXPECT_EQ(child.said.find(prefix), 0u) << child.said;
  EXPECT_NE(child.said.find("forced"), std::string::npos) << child.said;
  EXPECT_NE(child.said.find(errno_name()), std::string::npos) << child.said;
}

INSTANTIATE_TEST_SUITE_P(Seccomp, FallbackTest, testing::Values(EPERM, ENOSYS),
                         [](const testing::TestParamInfo<int>& p) {
                           return std::string(p.param == EPERM ? "EPERM" : "ENOSYS");
                         });

// The environment variable overrides the options, for any program.
class BackendEnvTest : public testing::Test {
 protected:
  void TearDown() override { unsetenv("RINGSOCK_BACKEND"); }
};

TEST_F(BackendEnvTest, EnvironmentOverridesTheOptions) {
  setenv("RINGSOCK_BACKEND", "epoll", 1);
  Loop loop;
  LoopOptions options;
  options.backend = BackendChoice::uring;
  ASSERT_EQ(loop.init(options), 0);
  EXPECT_EQ(loop.backend(), BackendKind::epoll);
  EXPECT_STREQ(loop.backend_reason(), "epoll: forced by RINGSOCK_BACKEND");
}

TEST_F(BackendEnvTest, AutoPrefersIoUringWhereItWorks) {
  setenv("RINGSOCK_BACKEND", "auto", 1);
  Loop loop;
  ASSERT_EQ(loop.init(), 0);
  if (loop.backend() == BackendKind::epoll) {
    GTEST_SKIP() << "io_uring unavailable here: " << loop.backend_reason();
  }
  EXPECT_STREQ(loop.backend_reason(), "io_uring");
}

TEST_F(BackendEnvTest, UnknownValueIsRefusedWithAReason) {
  for (const char* bad : {"iouring", "EPOLL", "uring ", "1"}) {
    setenv("RINGSOCK_BACKEND", bad, 1);
    Loop loop;
    EXPECT_EQ(loop.init(), -EINVAL) << bad;
    EXPECT_FALSE(loop.initialized());
    EXPECT_STREQ(loop.backend_reason(), "RINGSOCK_BACKEND must be uring, epoll or auto");
  }
}

}  // namespace
}  // namespace rstest
