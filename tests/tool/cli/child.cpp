#include "child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

namespace cli_test {

namespace {
long long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
// The cross build's emulator command (qemu-user and its arguments), if any:
// a process under qemu-user can exec a host binary, not a foreign one.
std::vector<std::string> emulator_words() {
  std::vector<std::string> words;
#ifdef RINGSOCK_EMULATOR
  std::string list = RINGSOCK_EMULATOR;
  size_t start = 0;
  for (size_t bar; (bar = list.find('|', start)) != std::string::npos; start = bar + 1) {
    words.push_back(list.substr(start, bar - start));
  }
  words.push_back(list.substr(start));
#endif
  return words;
}

}  // namespace

Child::Child(const std::vector<std::string>& args) {
  std::vector<std::string> words = emulator_words();
  words.push_back(RINGSOCK_BIN);
  words.insert(words.end(), args.begin(), args.end());
  start(std::move(words));
}

Child::Child(const Program& program, const std::vector<std::string>& args) {
  std::vector<std::string> words{program.path};
  words.insert(words.end(), args.begin(), args.end());
  start(std::move(words));
}

void Child::start(std::vector<std::string> words) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) abort();
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

Child::~Child() {
  if (pid_ > 0) stop(SIGKILL, 5000);
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

bool Child::pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  if (poll(fds, 2, timeout_ms) <= 0) return true;
  int* fd_of[2] = {&out_fd_, &err_fd_};
  std::string* text_of[2] = {&out_, &err_};
  for (int i = 0; i < 2; ++i) {
    if (fds[i].revents == 0) continue;
    char buffer[4096];
    ssize_t n = read(*fd_of[i], buffer, sizeof buffer);
    if (n > 0) {
      text_of[i]->append(buffer, size_t(n));
    } else {
      close(*fd_of[i]);
      *fd_of[i] = -1;
    }
  }
  return true;
}

std::vector<std::string> Child::wait_lines(const std::string& prefix, size_t count, int timeout_ms) {
  return wait_text_lines(out_, prefix, count, timeout_ms);
}

std::vector<std::string> Child::wait_err_lines(const std::string& prefix, size_t count,
                                               int timeout_ms) {
  return wait_text_lines(err_, prefix, count, timeout_ms);
}

// `text` is out_ or err_, which pump() appends to.
std::vector<std::string> Child::wait_text_lines(const std::string& text, const std::string& prefix,
                                                size_t count, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  std::vector<std::string> lines;
  for (;;) {
    lines.clear();
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      std::string line = text.substr(start, end - start);
      if (line.rfind(prefix, 0) == 0) lines.push_back(line.substr(prefix.size()));
    }
    long long left = deadline - now_ms();
    if (lines.size() >= count || left <= 0) return lines;
    if (!pump(int(left))) return lines;
  }
}

int Child::wait(int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (now_ms() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    pump(20);
  }
  pid_ = -1;
  while (pump(100)) {
  }
  return status;
}

int Child::stop(int signal_number, int timeout_ms) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal_number);
  return wait(timeout_ms);
}

int run(const std::vector<std::string>& args, std::string* out, std::string* err, int timeout_ms) {
  Child child(args);
  int status = child.wait(timeout_ms);
  if (out != nullptr) *out = child.out();
  if (err != nullptr) *err = child.err();
  return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace cli_test
