#include "options.hpp"

namespace ringsock_cli {

namespace {

// Help lines stay within 50 characters: with the name column they fit 80.
constexpr OptionSpec kServeOptions[] = {
    {"--mode", "echo|sink|sockperf", "echo (default), discard, or answer sockperf"},
    {"--threads", "N", "loops, one per thread (default 1)"},
    {"--dispatch", "reuseport|handoff", "who accepts: each thread, or thread 0"},
    {"--backend", "uring|epoll|auto", "I/O backend (default auto)"},
    {"--buffer-size", "N", "bytes per pool buffer (default 4096)"},
    {"--buffers", "N", "pool buffers per loop, power of two (default 1024)"},
    {"--max-connections", "N", "connection slots per thread (default 16384)"},
    {"--max-message", "N", "sockperf on streams: largest message (65536)"},
    {"--max-lent", "N", "unsent buffers per connection (default 32)"},
    {"--unlink-stale", nullptr, "replace a UNIX socket file nobody listens on"},
    {"--busy-poll", "US", "poll US microseconds before sleeping (default 0)"},
    {"--batch-wait", "US", "sleep up to US for a batch of completions (0)"},
    {"--zero-copy", "BYTES", "send replies of BYTES or more without copying (0)"},
    {"--direct", nullptr, "accept into io_uring direct descriptors"},
    {"--help", nullptr, "print this help and exit"},
};

constexpr OptionSpec kLoadOptions[] = {
    {"--mode", "MODE", "pingpong|throughput|rate|churn|idle (pingpong)"},
    {"--connections", "N", "connections; churn: concurrent slots (default 1)"},
    {"--inflight", "N", "messages in flight per connection (default 1)"},
    {"--size", "N|MIN-MAX", "bytes per message, 40 header bytes incl. (64)"},
    {"--rate", "N", "rate: messages/s in total; churn: connections/s"},
    {"--duration", "TIME", "how long to measure: 10s, 1.5s, 500ms (5s)"},
    {"--count", "N", "stop after N messages instead"},
    {"--warmup", "TIME", "run first, left out of the results (default 0)"},
    {"--arrival", "constant|poisson", "spacing of paced sends (default constant)"},
    {"--threads", "N", "loops, one per thread, sharing --connections (1)"},
    {"--backend", "uring|epoll|auto", "I/O backend (default auto)"},
    {"--source", "A[-B]", "local address(es): connection i uses A + i%count"},
    {"--source-ports", "LOW-HIGH", "fixed local ports instead of the kernel's choice"},
    {"--sndbuf", "N", "SO_SNDBUF bytes (default: the kernel's)"},
    {"--rcvbuf", "N", "SO_RCVBUF bytes (default: the kernel's)"},
    {"--nodelay", nullptr, "set TCP_NODELAY"},
    {"--batch-wait", "US", "sleep up to US for all replies in flight (0)"},
    {"--busy-poll", "US", "poll US microseconds before sleeping (default 0)"},
    {"--zero-copy", "BYTES", "send messages of BYTES or more without copying (0)"},
    {"--sockperf", nullptr, "speak sockperf 3.x framing (--size 54 or more)"},
    {"--seed", "N", "seed of payloads and arrivals (default 1)"},
    {"--json", "FILE", "write the results as JSON to FILE"},
    {"--report", "FILE", "write the run's HTML report to FILE"},
    {"--hlog", "FILE", "HdrHistogram log, one interval per second"},
    {"--shard", "K/N|auto", "run instance K (0-based) of N; auto: from env"},
    {"--start-at", "TIME", "connect, then measure at TIME (RFC 3339/Unix s)"},
    {"--assert", "CHECKS", "exit 5 unless all hold: 'p99<200us,errors=0'"},
    {"--percentiles", "LIST", "more percentiles in table and JSON: 50,99.9"},
    {"--ipv4", nullptr, "resolve the ENDPOINT's host name to IPv4 only"},
    {"--ipv6", nullptr, "resolve the ENDPOINT's host name to IPv6 only"},
    {"--timeout", "TIME", "a reply later than this is a timeout (none)"},
    {"--request", "TEXT", "send TEXT (\\r \\n \\xHH, {seq} {conn} {rand:N})"},
    {"--request-file", "FILE", "send FILE's bytes; repeat requests to cycle"},
    {"--reply-bytes", "N", "a reply is N bytes"},
    {"--reply-until", "DELIM", "a reply ends with DELIM, e.g. '\\r\\n'"},
    {"--reply-length", "SPEC", "a length field: 4be, 2le@2+4, ..."},
    {"--reply", "http|resp", "a reply is an HTTP response / a RESP value"},
    {"--expect", "TEXT", "a reply must be TEXT exactly"},
    {"--expect-file", "FILE", "a reply must be FILE's bytes exactly"},
    {"--expect-prefix", "TEXT", "a reply must begin with TEXT"},
    {"--expect-regex", "RE", "a reply must match RE (POSIX extended)"},
    {"--expect-status", "CODE", "with --reply http: 200, or a class 2xx"},
    {"--help", nullptr, "print this help and exit"},
};

// merge.cpp parses these (its arguments are files, then options).
constexpr OptionSpec kMergeOptions[] = {
    {"--json", "OUT", "the merged result, as load --json writes one"},
    {"--hlog", "OUT", "HdrHistogram log: the given logs added, or totals"},
    {"--assert", "CHECKS", "judged on the whole run: 'p99<200us,errors=0'"},
    {"--help", nullptr, "print this help and exit"},
};

// report.cpp parses these (its arguments are result files, then options).
constexpr OptionSpec kReportOptions[] = {
    {"--output", "FILE", "the page to write (also -o FILE); required"},
    {"--bars", "BARS.json", "draw a grouped bar chart (SVG) instead"},
    {"--help", nullptr, "print this help and exit"},
};

}  // namespace

std::span<const OptionSpec> options_of(Command command) noexcept {
  switch (command) {
    case Command::serve: return kServeOptions;
    case Command::load: return kLoadOptions;
    case Command::merge: return kMergeOptions;
    case Command::report: return kReportOptions;
    case Command::help:
    case Command::version:
    case Command::probe: break;
  }
  return {};
}

const OptionSpec* find_option(Command command, std::string_view name) noexcept {
  for (const OptionSpec& option : options_of(command)) {
    if (name == option.name) return &option;
  }
  return nullptr;
}

}  // namespace ringsock_cli
