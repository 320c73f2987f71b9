#include "load_requests.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "logic/escape.hpp"

namespace ringsock_cli {

namespace tool = ringsock::tool;

namespace {

const std::uint8_t* bytes_of(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

bool compile_one_request(const TypedOption& option, tool::RequestCycle& cycle,
                         std::string& error) {
  tool::RequestTemplate request;
  if (option.name == "--request-file") {
    std::string bytes;
    if (!read_whole_file(option.value, bytes, error)) {
      error = "--request-file: " + error;
      return false;
    }
    if (!tool::RequestTemplate::compile_literal(bytes_of(bytes), bytes.size(), request, error)) {
      error = "--request-file " + std::string(option.value) + ": " + error;
      return false;
    }
  } else {
    std::string text;
    if (!tool::decode_escapes(bytes_of(option.value), option.value.size(), text, error) ||
        !tool::RequestTemplate::compile(bytes_of(text), text.size(), request, error)) {
      error = "--request: " + error;
      return false;
    }
  }
  cycle.add(std::move(request));
  return true;
}

bool compile_framing(const TypedOption& option, std::size_t max_reply_bytes,
                     tool::FramingSpec& spec, std::string& error) {
  const std::uint8_t* v = bytes_of(option.value);
  const std::size_t n = option.value.size();
  bool ok = false;
  if (option.name == "--reply-bytes") ok = tool::parse_reply_bytes(v, n, spec, error);
  else if (option.name == "--reply-until") ok = tool::parse_reply_until(v, n, spec, error);
  else if (option.name == "--reply-length") ok = tool::parse_reply_length(v, n, spec, error);
  else if (option.name == "--reply") ok = tool::parse_reply_protocol(v, n, spec, error);
  else error = "unknown framing option " + std::string(option.name);
  return ok && tool::validate_framing(spec, max_reply_bytes, error);
}

bool compile_check(const TypedOption& option, tool::ReplyCheckSpec& spec, std::string& error) {
  const std::uint8_t* v = bytes_of(option.value);
  const std::size_t n = option.value.size();
  if (option.name == "--expect-file") {
    std::string bytes;
    if (!read_whole_file(option.value, bytes, error)) {
      error = "--expect-file: " + error;
      return false;
    }
    spec = tool::expect_bytes(bytes_of(bytes), bytes.size());
    return true;
  }
  if (option.name == "--expect") return tool::parse_expect(v, n, spec, error);
  if (option.name == "--expect-prefix") return tool::parse_expect_prefix(v, n, spec, error);
  if (option.name == "--expect-regex") return tool::parse_expect_regex(v, n, spec, error);
  if (option.name == "--expect-status") return tool::parse_expect_status(v, n, spec, error);
  error = "unknown check option " + std::string(option.name);
  return false;
}

// The combinations that cannot work, before anything is compiled.
bool check_combination(const RequestOptions& o, bool stream, bool replies, std::string& error) {
  if (o.requests.empty()) {
    error = std::string(o.framing.empty() ? o.checks.front().name : o.framing.front().name) +
            " needs --request or --request-file";
    return false;
  }
  if (o.framing.size() > 1) {
    error = std::string(o.framing[0].name) + " and " + std::string(o.framing[1].name) +
            ": give one way for a reply to end";
    return false;
  }
  if (!stream && !o.framing.empty()) {
    error = std::string(o.framing[0].name) +
            " does not apply to a datagram endpoint: each datagram is one reply";
    return false;
  }
  if (stream && replies && o.framing.empty()) {
    error = "--request on a stream needs to know where a reply ends: give --reply-bytes, "
            "--reply-until, --reply-length or --reply http|resp";
    return false;
  }
  if (!replies && !o.checks.empty()) {
    error = std::string(o.checks[0].name) + " needs replies, and this mode expects none";
    return false;
  }
  return true;
}

}  // namespace

bool read_whole_file(std::string_view path, std::string& out, std::string& error) {
  const std::string name(path);
  const int fd = open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read " + name + ": " + std::strerror(errno);
    return false;
  }
  out.clear();
  char buffer[65536];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read " + name + ": " + std::strerror(errno);
      close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buffer, std::size_t(n));
  }
  close(fd);
  return true;
}

ringsock::tool::CustomConfig describe_requests(const CustomRequests& custom) {
  ringsock::tool::CustomConfig out;
  for (const auto& request : custom.requests.requests()) out.requests.push_back(request.describe());
  if (custom.framing) out.reply = custom.framing->describe();
  for (const auto& check : custom.checks) out.checks.push_back(check.describe());
  return out;
}

bool compile_requests(const RequestOptions& options, bool stream, bool replies,
                      std::size_t max_reply_bytes, CustomRequests& out, std::string& error) {
  if (!check_combination(options, stream, replies, error)) return false;
  CustomRequests result;
  for (const TypedOption& option : options.requests) {
    if (!compile_one_request(option, result.requests, error)) return false;
  }
  if (!options.framing.empty()) {
    tool::FramingSpec spec;
    if (!compile_framing(options.framing[0], max_reply_bytes, spec, error)) return false;
    result.framing = std::move(spec);
  }
  for (const TypedOption& option : options.checks) {
    tool::ReplyCheckSpec spec;
    if (!compile_check(option, spec, error)) return false;
    result.checks.push_back(std::move(spec));
  }
  const bool http = result.framing && result.framing->kind == tool::FramingKind::http;
  for (const auto& check : result.checks) {
    if (check.kind == tool::CheckKind::status && !http) {
      error = "--expect-status needs --reply http";
      return false;
    }
  }
  out = std::move(result);
  return true;
}

}  // namespace ringsock_cli
