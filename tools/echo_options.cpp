#include "echo_options.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "echo_common.hpp"

namespace echo {

namespace {

using ringsock::Transport;

constexpr uint32_t kMaxConnections = 4096;
constexpr uint32_t kMaxInflight = 1024;
constexpr uint64_t kMaxDurationNs = 3600ull * 1'000'000'000ull;
// Client staging plus server queues grow with connections x inflight x size;
// beyond this the demo would mostly measure page faults.
constexpr uint64_t kMaxBytesInFlight = 256ull << 20;
// Largest UDP payload: 65535 minus the IP and UDP headers (IPv6 has no IP
// header inside its payload length).
constexpr uint32_t kMaxUdpPayloadV4 = 65535 - 20 - 8;
constexpr uint32_t kMaxUdpPayloadV6 = 65535 - 8;

constexpr const char* kProgram = "ringsock-echo";

bool fail(const std::string& message) {
  fprintf(stderr, "%s: %s\nTry '%s --help'.\n", kProgram, message.c_str(), kProgram);
  return false;
}

// Strict decimal: digits only, no sign, no spaces, no overflow.
bool parse_unsigned(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + uint64_t(c - '0');
  }
  out = value;
  return true;
}

bool parse_in_range(const char* flag, std::string_view text, uint64_t low, uint64_t high,
                    uint64_t& out) {
  uint64_t value = 0;
  if (!parse_unsigned(text, value) || value < low || value > high) {
    return fail(std::string(flag) + " must be a whole number in " + std::to_string(low) + ".." +
                std::to_string(high) + ", got '" + std::string(text) + "'");
  }
  out = value;
  return true;
}

// "3s", "500ms", "1.5s", "250us", "2m"; a bare number means seconds.
bool parse_duration(std::string_view text, uint64_t& out_ns) {
  std::string copy(text);
  const char* start = copy.c_str();
  if (copy.empty() || start[0] < '0' || start[0] > '9') return false;
  char* end = nullptr;
  errno = 0;
  double value = strtod(start, &end);
  if (errno != 0 || end == start) return false;
  std::string_view unit(end);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e9;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "us") scale = 1e3;
  else if (unit == "m") scale = 60e9;
  else return false;
  double ns = value * scale;
  if (!(ns >= 1e6) || ns > double(kMaxDurationNs)) return false;  // 1 ms .. 1 h
  out_ns = uint64_t(ns);
  return true;
}

bool parse_transport(std::string_view name, Transport& out) {
  if (name == "tcp") out = Transport::tcp;
  else if (name == "udp") out = Transport::udp;
  else if (name == "unix") out = Transport::unix_stream;
  else if (name == "unix-dgram") out = Transport::unix_dgram;
  else return false;
  return true;
}

bool parse_transport_list(std::string_view list, std::vector<Transport>& out) {
  out.clear();
  while (true) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    Transport transport{};
    if (!parse_transport(item, transport)) {
      return fail("--transport takes a comma list of tcp, udp, unix, unix-dgram; '" +
                  std::string(item) + "' is not one of them");
    }
    out.push_back(transport);
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// Checks that need several flags at once.
bool check_combination(const EchoOptions& options) {
  uint32_t udp_limit = options.ipv6 ? kMaxUdpPayloadV6 : kMaxUdpPayloadV4;
  for (Transport transport : options.transports) {
    if (transport == Transport::udp && options.size > udp_limit) {
      return fail("--size " + std::to_string(options.size) + " does not fit one UDP datagram (" +
                  std::to_string(udp_limit) + " bytes at most); lower --size or leave udp out of "
                  "--transport");
    }
  }
  uint64_t in_flight = uint64_t(options.connections) * options.inflight * options.size;
  if (in_flight > kMaxBytesInFlight) {
    return fail("--connections x --inflight x --size is " + std::to_string(in_flight) +
                " bytes in flight; the demo allows " + std::to_string(kMaxBytesInFlight));
  }
  return true;
}

// Applies one flag and its value; `flag` is already known to take a value.
bool apply(std::string_view flag, std::string_view value, EchoOptions& options) {
  uint64_t number = 0;
  if (flag == "--transport") return parse_transport_list(value, options.transports);
  if (flag == "--connections") {
    if (!parse_in_range("--connections", value, 1, kMaxConnections, number)) return false;
    options.connections = uint32_t(number);
  } else if (flag == "--size") {
    if (!parse_in_range("--size", value, kMinMessageSize, kMaxMessageSize, number)) return false;
    options.size = uint32_t(number);
  } else if (flag == "--inflight") {
    if (!parse_in_range("--inflight", value, 1, kMaxInflight, number)) return false;
    options.inflight = uint32_t(number);
  } else if (flag == "--count") {
    if (!parse_in_range("--count", value, 1, 1'000'000'000'000ull, number)) return false;
    options.count = number;
  } else if (flag == "--duration") {
    if (!parse_duration(value, options.duration_ns)) {
      return fail("--duration takes a time from 1ms to 1h such as 3s, 500ms or 1.5s, got '" +
                  std::string(value) + "'");
    }
  }
  return true;
}

bool takes_value(std::string_view flag) {
  return flag == "--transport" || flag == "--connections" || flag == "--size" ||
         flag == "--inflight" || flag == "--duration" || flag == "--count";
}

}  // namespace

const char* transport_name(Transport transport) {
  switch (transport) {
    case Transport::tcp: return "tcp";
    case Transport::udp: return "udp";
    case Transport::unix_stream: return "unix";
    case Transport::unix_dgram: return "unix-dgram";
  }
  return "?";
}

void print_usage(FILE* out) {
  fprintf(out,
          "Usage: %s [options]\n"
          "Runs an echo server and a client over loopback in one process, both on\n"
          "ringsock loops (server thread + main thread), and prints one row per transport.\n"
          "\n"
          "  --transport LIST   comma list of tcp, udp, unix, unix-dgram (default: all four)\n"
          "  --connections N    client connections, 1..%u (default 8)\n"
          "  --size N           message bytes, %u..%u (default 64)\n"
          "  --inflight N       messages in flight per connection, 1..%u (default 1)\n"
          "  --duration T       measuring time, e.g. 3s, 500ms, 1.5s (default 3s)\n"
          "  --count N          stop after N replies in total (whichever comes first)\n"
          "  --ipv6             tcp and udp over [::1] instead of 127.0.0.1\n"
          "  --help             this text\n"
          "\n"
          "Exit status: 0 all replies verified, 1 errors or a failed setup, 2 bad arguments.\n",
          kProgram, kMaxConnections, kMinMessageSize, kMaxMessageSize, kMaxInflight);
}

ParseOutcome parse_options(int argc, char** argv, EchoOptions& options) {
  options.transports = {Transport::tcp, Transport::udp, Transport::unix_stream,
                        Transport::unix_dgram};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (arg == "--help" || arg == "-h") return ParseOutcome::help;
    if (arg == "--ipv6") {
      options.ipv6 = true;
      continue;
    }
    size_t equals = arg.find('=');
    std::string_view flag = arg.substr(0, equals);
    if (!takes_value(flag)) {
      fail("unknown argument '" + std::string(arg) + "'");
      return ParseOutcome::error;
    }
    std::string_view value;
    if (equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      fail(std::string(flag) + " needs a value");
      return ParseOutcome::error;
    }
    if (!apply(flag, value, options)) return ParseOutcome::error;
  }
  return check_combination(options) ? ParseOutcome::run : ParseOutcome::error;
}

}  // namespace echo
