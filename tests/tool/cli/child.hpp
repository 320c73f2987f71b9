// A child process of the ringsock binary with its stdout and stderr captured,
// read with deadlines so that a hung child fails a test instead of blocking it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace cli_test {

class Child {
 public:
  /// Starts RINGSOCK_BIN with `args` (argv[1..]).
  explicit Child(const std::vector<std::string>& args);
  /// A host program, not ringsock.
  struct Program {
    std::string path;  ///< a path to the executable (no PATH search)
  };
  /// Starts a host program with `args` (argv[1..]), never through the emulator.
  Child(const Program& program, const std::vector<std::string>& args);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Reads stdout until `count` lines start with `prefix` or `timeout_ms`
  /// passes; returns those lines (without the prefix).
  std::vector<std::string> wait_lines(const std::string& prefix, size_t count, int timeout_ms);
  /// The same on stderr.
  std::vector<std::string> wait_err_lines(const std::string& prefix, size_t count, int timeout_ms);
  /// Sends `signal_number`, waits up to `timeout_ms` for the exit, collects
  /// the remaining output. Returns the wait status, or -1 on a timeout (killed).
  int stop(int signal_number, int timeout_ms);
  /// Waits for an exit without signalling it (for commands that end by themselves).
  int wait(int timeout_ms);

  /// The child's process id while it runs (-1 after it was waited for).
  pid_t pid() const { return pid_; }
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  void start(std::vector<std::string> words);
  bool pump(int timeout_ms);  // reads what is available; false once both pipes closed
  std::vector<std::string> wait_text_lines(const std::string& text, const std::string& prefix,
                                           size_t count, int timeout_ms);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  size_t scanned_ = 0;
};

/// Runs the binary to completion: exit code (or -1), with output.
int run(const std::vector<std::string>& args, std::string* out, std::string* err,
        int timeout_ms = 10000);

}  // namespace cli_test
