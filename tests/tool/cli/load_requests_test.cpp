// The request, framing and check options compiled together: what works on
// streams and datagrams, what cannot, and files read whole.
#include "load_requests.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace ringsock_cli {
namespace {

namespace tool = ringsock::tool;

constexpr std::size_t kMax = 65536;

std::string error_of(const RequestOptions& o, bool stream = true, bool replies = true) {
  CustomRequests out;
  std::string error;
  EXPECT_FALSE(compile_requests(o, stream, replies, kMax, out, error));
  return error;
}

CustomRequests compiled(const RequestOptions& o, bool stream = true, bool replies = true) {
  CustomRequests out;
  std::string error;
  EXPECT_TRUE(compile_requests(o, stream, replies, kMax, out, error)) << error;
  return out;
}

// A file in the test's temporary directory, removed at the end.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& bytes) {
    char name[] = "/tmp/ringsock-request-XXXXXX";
    const int fd = mkstemp(name);
    path = name;
    if (fd >= 0) {
      EXPECT_EQ(write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
      close(fd);
    }
  }
  ~TempFile() { unlink(path.c_str()); }
};

TEST(LoadRequests, RedisStyleCycleWithFramingAndCheck) {
  const CustomRequests r = compiled({.requests = {{"--request", "SET k:{round} v\\r\\n"},
                                                  {"--request", "GET k:{round}\\r\\n"}},
                                     .framing = {{"--reply", "resp"}},
                                     .checks = {{"--expect-prefix", "+"}}});
  EXPECT_EQ(r.requests.size(), 2u);
  ASSERT_TRUE(r.framing.has_value());
  EXPECT_EQ(r.framing->describe(), "resp");
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.checks[0].describe(), "--expect-prefix \"+\"");
}

TEST(LoadRequests, FilesAreTakenByteForByte) {
  const TempFile query(std::string("\xbe\xef{seq}\\n\0", 10));
  const TempFile expected(std::string("\xbe\xef", 2));
  const CustomRequests r = compiled({.requests = {{"--request-file", query.path}},
                                     .checks = {{"--expect-file", expected.path}}},
                                    /*stream=*/false);
  ASSERT_EQ(r.requests.size(), 1u);
  const auto bytes = r.requests.for_sequence(0).constant_bytes();
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), std::string("\xbe\xef{seq}\\n\0", 10));
  EXPECT_FALSE(r.framing.has_value());
  EXPECT_EQ(r.checks[0].bytes, std::string("\xbe\xef", 2));
}

TEST(LoadRequests, CombinationsThatCannotWork) {
  EXPECT_EQ(error_of({.framing = {{"--reply", "http"}}}), "--reply needs --request or --request-file");
  EXPECT_NE(error_of({.requests = {{"--request", "GET /\\r\\n"}}}).find("where a reply ends"),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request", "x"}}, .framing = {{"--reply", "http"}}}, false)
                .find("--reply does not apply to a datagram endpoint"),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request", "x"}},
                      .framing = {{"--reply-bytes", "1"}, {"--reply", "resp"}}})
                .find("give one way"),
            std::string::npos);
  EXPECT_EQ(error_of({.requests = {{"--request", "x"}},
                      .framing = {{"--reply", "resp"}},
                      .checks = {{"--expect-status", "200"}}}),
            "--expect-status needs --reply http");
  EXPECT_NE(error_of({.requests = {{"--request", "x"}}, .checks = {{"--expect", "y"}}}, true,
                     /*replies=*/false)
                .find("expects none"),
            std::string::npos);
  // A sink: requests on a stream without framing are fine when no reply is awaited.
  CustomRequests out;
  std::string error;
  EXPECT_TRUE(compile_requests({.requests = {{"--request", "x"}}}, true, false, kMax, out, error))
      << error;
}

TEST(LoadRequests, BadValuesSayWhichOption) {
  EXPECT_NE(error_of({.requests = {{"--request", ""}}, .framing = {{"--reply", "resp"}}})
                .find("--request: the request is empty"),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request", "{nope}"}}, .framing = {{"--reply", "resp"}}})
                .find("--request: unknown placeholder {nope}"),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request", "\\x"}}, .framing = {{"--reply", "resp"}}})
                .find("--request: \\x at character 1 needs exactly two hex digits"),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request-file", "/nonexistent/q.bin"}}}, false)
                .find("--request-file: cannot read /nonexistent/q.bin: No such file"),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request", "x"}}, .framing = {{"--reply-length", "3be"}}})
                .find("--reply-length \"3be\""),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request", "x"}}, .framing = {{"--reply-bytes", "100000"}}})
                .find("larger than the largest reply"),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request", "x"}},
                      .framing = {{"--reply", "http"}},
                      .checks = {{"--expect-regex", "(("}}})
                .find("does not compile"),
            std::string::npos);
  EXPECT_NE(error_of({.requests = {{"--request", "x"}},
                      .framing = {{"--reply", "http"}},
                      .checks = {{"--expect-regex", "(a{1000}){1000}"}}})
                .find("--expect-regex \"(a{1000}){1000}\": with its repeats written out"),
            std::string::npos);
}

}  // namespace
}  // namespace ringsock_cli
