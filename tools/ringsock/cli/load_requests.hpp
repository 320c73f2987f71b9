// The user's requests for `ringsock load`, from the options as typed to what
// the load runs with: --request / --request-file (in order, repeated),
// --reply-bytes / --reply-until / --reply-length / --reply, and --expect /
// --expect-file / --expect-prefix / --expect-regex / --expect-status.
//
// args.cpp keeps argv's pointers in order (it allocates nothing); this
// compiles them once before the load, reads the files, and judges the
// combinations: every error is a sentence for exit 2.
// Rules: framing and checks need a request; on a stream a request needs a
// framing (where else would a reply end?), unless no reply is expected
// (a sink); on datagrams one datagram is one reply, so no framing option
// applies; --expect-status needs --reply http; one framing option at most.
// Files are read whole and taken byte for byte (no escapes, no placeholders).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logic/reply_check.hpp"
#include "logic/result_file.hpp"
#include "logic/reply_framing.hpp"
#include "logic/request_template.hpp"

namespace ringsock_cli {

/// One option as typed: its name ("--request", "--expect-file", ...) and value.
struct TypedOption {
  std::string_view name;
  std::string_view value;
};

struct RequestOptions {
  std::vector<TypedOption> requests;  ///< --request, --request-file, in order
  std::vector<TypedOption> framing;   ///< --reply-bytes, --reply-until, --reply-length, --reply
  std::vector<TypedOption> checks;    ///< --expect, --expect-file, --expect-prefix, --expect-regex, --expect-status
  bool any() const noexcept { return !requests.empty() || !framing.empty() || !checks.empty(); }
};

struct CustomRequests {
  ringsock::tool::RequestCycle requests;
  std::optional<ringsock::tool::FramingSpec> framing;  ///< nullopt on datagrams
  std::vector<ringsock::tool::ReplyCheckSpec> checks;  ///< for a ReplyChecker per thread
};

/// The requests, reply framing and checks as the options that give them are
/// written: what the table, the JSON and the run record show.
ringsock::tool::CustomConfig describe_requests(const CustomRequests& custom);

/// Compiles the options for an endpoint that is a stream or not; replies:
/// whether the mode waits for replies. max_reply_bytes bounds a reply.
/// False with `error` set to a sentence (exit 2).
bool compile_requests(const RequestOptions& options, bool stream, bool replies,
                      std::size_t max_reply_bytes, CustomRequests& out, std::string& error);

/// Reads a whole file; false with `error` naming the file and the reason.
bool read_whole_file(std::string_view path, std::string& out, std::string& error);

}  // namespace ringsock_cli
