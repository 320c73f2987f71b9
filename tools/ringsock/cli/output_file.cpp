#include "output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace ringsock_cli {

namespace {

// Writes all of text to fd; 0 or an errno.
int write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    done += size_t(n);
  }
  return 0;
}

int close_checked(int fd, int error) {
  if (close(fd) != 0 && error == 0) error = errno;
  return error;
}

// The temporary's name beside path: ".NAME.XXXXXX" in its directory.
std::string temporary_for(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + name + ".XXXXXX";
}

mode_t new_file_mode() {
  const mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

// How a path is written, decided in one place for stage() and the check
// before a run: in place (it exists and is no regular file: not ours to
// replace), or by a temporary beside it. 0, or the errno of a regular file
// the caller may not write (it is not replaced behind the caller's back).
struct Target {
  bool in_place = false;
  bool exists = false;
  mode_t mode = 0;  // the existing file's, for its replacement
};
int target_of(const std::string& path, Target& out) {
  struct stat link {};
  out.exists = lstat(path.c_str(), &link) == 0;
  out.in_place = out.exists && !S_ISREG(link.st_mode);
  out.mode = link.st_mode & 07777;
  if (out.exists && !out.in_place && access(path.c_str(), W_OK) != 0) return errno;
  return 0;
}

}  // namespace

OutputFiles::~OutputFiles() {
  for (const Staged& s : staged_) {
    if (!s.temporary.empty()) unlink(s.temporary.c_str());
  }
}

int OutputFiles::stage(const std::string& path, const std::string& text) {
  Target target;
  if (int error = target_of(path, target)) return error;
  if (target.in_place) {
    // Written as it is (a device, a FIFO, a link, whose target is made if
    // it is missing, as fopen(3) would).
    int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return errno;
    int error = close_checked(fd, write_all(fd, text));
    if (error == 0) staged_.push_back({path, ""});
    return error;
  }
  std::string temporary = temporary_for(path);
  int fd = mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) return errno;
  staged_.push_back({path, temporary});
  const mode_t mode = target.exists ? target.mode : new_file_mode();
  int error = fchmod(fd, mode) == 0 ? 0 : errno;
  if (error == 0) error = write_all(fd, text);
  return close_checked(fd, error);
}

int OutputFiles::commit() {
  int error = 0;
  for (Staged& s : staged_) {
    if (s.temporary.empty() || error != 0) continue;
    if (rename(s.temporary.c_str(), s.path.c_str()) != 0) error = errno;
    else s.temporary.clear();
  }
  return error;
}

int output_writable(const std::string& path) {
  Target target;
  if (int error = target_of(path, target)) return error;
  if (target.in_place) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    return fd < 0 ? errno : close_checked(fd, 0);
  }
  std::string temporary = temporary_for(path);
  int fd = mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) return errno;
  unlink(temporary.c_str());
  return close_checked(fd, 0);
}

int write_output_file(const std::string& path, const std::string& text) {
  OutputFiles out;
  if (int error = out.stage(path, text)) return error;
  return out.commit();
}

bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  struct stat x {}, y {};
  return stat(a.c_str(), &x) == 0 && stat(b.c_str(), &y) == 0 && x.st_dev == y.st_dev &&
         x.st_ino == y.st_ino;
}

}  // namespace ringsock_cli
