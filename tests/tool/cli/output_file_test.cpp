// Result files (output_file.hpp): a write that fails changes nothing, two
// staged together are put in place together, and a path that is no regular
// file is written in place and never removed.
#include "output_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using ringsock_cli::OutputFiles;
using ringsock_cli::write_output_file;

struct Dir {
  std::string path;
  Dir() {
    char name[] = "/tmp/ringsock-output-XXXXXX";
    path = mkdtemp(name);
  }
  ~Dir() { std::system(("rm -rf '" + path + "'").c_str()); }
  // Names in the directory, one per line, sorted.
  std::string listing() const {
    std::string out;
    FILE* p = popen(("ls -A '" + path + "'").c_str(), "r");
    char line[256];
    while (p != nullptr && fgets(line, sizeof line, p) != nullptr) out += line;
    if (p != nullptr) pclose(p);
    return out;
  }
};

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(OutputFile, ReplacesTheFileKeepingItsMode) {
  Dir dir;
  const std::string path = dir.path + "/r.json";
  ASSERT_EQ(write_output_file(path, "first"), 0);
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  ASSERT_EQ(write_output_file(path, "second"), 0);
  EXPECT_EQ(read(path), "second");
  struct stat s {};
  ASSERT_EQ(stat(path.c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 07777, 0640u);
  EXPECT_EQ(dir.listing(), "r.json\n");  // no temporary left
}

TEST(OutputFile, TwoStagedGoInPlaceTogetherOrNeither) {
  Dir dir;
  const std::string a = dir.path + "/a.json", b = dir.path + "/b.hlog";
  {
    OutputFiles out;
    ASSERT_EQ(out.stage(a, "A"), 0);
    EXPECT_EQ(out.stage(dir.path + "/missing/b.hlog", "B"), ENOENT);
  }  // not committed: the first one's temporary goes too
  EXPECT_EQ(dir.listing(), "");
  OutputFiles out;
  ASSERT_EQ(out.stage(a, "A"), 0);
  ASSERT_EQ(out.stage(b, "B"), 0);
  EXPECT_EQ(access(a.c_str(), F_OK), -1) << "in place before the commit";
  ASSERT_EQ(out.commit(), 0);
  EXPECT_EQ(read(a), "A");
  EXPECT_EQ(read(b), "B");
  EXPECT_EQ(dir.listing(), "a.json\nb.hlog\n");
}

// The check before a run: a path it could write later is 0, and nothing is
// left behind; one whose directory is missing is its errno.
TEST(OutputFile, WritableIsCheckedWithoutLeavingAFile) {
  Dir dir;
  EXPECT_EQ(ringsock_cli::output_writable(dir.path + "/new.json"), 0);
  EXPECT_EQ(dir.listing(), "");
  EXPECT_EQ(ringsock_cli::output_writable(dir.path + "/missing/new.json"), ENOENT);
  EXPECT_EQ(ringsock_cli::output_writable("/dev/null"), 0);
}

// A device that refuses the bytes (a private /dev/full) is not removed, and
// a symbolic link is written through, not replaced.
TEST(OutputFile, APathThatIsNoRegularFileIsWrittenInPlace) {
  Dir dir;
  const std::string full = dir.path + "/full";
  if (mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) {
    GTEST_SKIP() << "no mknod here (root needed): " << strerror(errno);
  }
  EXPECT_EQ(write_output_file(full, std::string(1 << 16, 'x')), ENOSPC);
  struct stat s {};
  ASSERT_EQ(lstat(full.c_str(), &s), 0) << "the device was removed";
  EXPECT_TRUE(S_ISCHR(s.st_mode));
  const std::string target = dir.path + "/target.html", link = dir.path + "/link.html";
  ASSERT_EQ(write_output_file(target, "old"), 0);
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  ASSERT_EQ(write_output_file(link, "new"), 0);
  ASSERT_EQ(lstat(link.c_str(), &s), 0);
  EXPECT_TRUE(S_ISLNK(s.st_mode));
  EXPECT_EQ(read(target), "new");
}

}  // namespace
