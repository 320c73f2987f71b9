#include "args.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <variant>

#include "logic/shard.hpp"
#include "logic/start_at.hpp"
#include "options.hpp"
#include "resolve.hpp"

namespace ringsock_cli {

namespace {

using std::string_view;

// Collects the first error; later ones are not interesting.
struct Errors {
  char* out;
  size_t capacity;
  int fail(const char* format, string_view a, string_view b = "", string_view c = "") noexcept {
    if (capacity > 0) {
      snprintf(out, capacity, format, int(a.size()), a.data(), int(b.size()), b.data(),
               int(c.size()), c.data());
    }
    return kExitUsage;
  }
};

bool parse_u64(string_view text, uint64_t& out) noexcept {
  if (text.empty() || text.size() > 19) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + uint64_t(c - '0');
  }
  out = value;
  return true;
}

bool parse_u32(string_view text, uint32_t& out) noexcept {
  uint64_t value = 0;
  if (text.size() > 10 || !parse_u64(text, value) || value > UINT32_MAX) return false;
  out = uint32_t(value);
  return true;
}

int parse_number(string_view name, string_view text, uint32_t low, uint32_t high, uint32_t& out,
                 Errors& errors) noexcept {
  uint32_t value = 0;
  if (!parse_u32(text, value) || value < low || value > high) {
    char range[64];
    snprintf(range, sizeof range, "%u to %u", low, high);
    return errors.fail("bad value '%.*s' for %.*s: expected a whole number from %.*s", text, name,
                       range);
  }
  out = value;
  return 0;
}

int parse_mode(string_view text, ServeMode& out, Errors& errors) noexcept {
  if (text == "echo") out = ServeMode::echo;
  else if (text == "sink") out = ServeMode::sink;
  else if (text == "sockperf") out = ServeMode::sockperf;
  else return errors.fail("bad value '%.*s' for --mode: expected echo, sink or sockperf", text);
  return 0;
}

int parse_dispatch(string_view text, Dispatch& out, Errors& errors) noexcept {
  if (text == "reuseport") out = Dispatch::reuseport;
  else if (text == "handoff") out = Dispatch::handoff;
  else return errors.fail("bad value '%.*s' for --dispatch: expected reuseport or handoff", text);
  return 0;
}

int parse_backend(string_view text, ringsock::BackendChoice& out, Errors& errors) noexcept {
  if (text == "uring") out = ringsock::BackendChoice::uring;
  else if (text == "epoll") out = ringsock::BackendChoice::epoll;
  else if (text == "auto") out = ringsock::BackendChoice::automatic;
  else return errors.fail("bad value '%.*s' for --backend: expected uring, epoll or auto", text);
  return 0;
}

int add_endpoint(string_view text, ServeArgs& serve, Errors& errors) noexcept {
  if (serve.endpoint_count == kMaxEndpoints) {
    return errors.fail("too many endpoints at '%.*s' (at most 16)", text);
  }
  ringsock::ParseResult parsed = ringsock::parse_endpoint(text, serve.endpoints[serve.endpoint_count]);
  if (parsed.error != 0) {
    return errors.fail("bad endpoint '%.*s': %.*s", text, string_view(parsed.message));
  }
  ++serve.endpoint_count;
  return 0;
}

// One option with its value (from "--name=value" or the next argument).
int apply_option(string_view name, string_view value, ServeArgs& serve, Errors& errors) noexcept {
  if (name == "--mode") return parse_mode(value, serve.mode, errors);
  if (name == "--backend") return parse_backend(value, serve.backend, errors);
  if (name == "--threads") return parse_number(name, value, 1, 1024, serve.threads, errors);
  if (name == "--dispatch") return parse_dispatch(value, serve.dispatch, errors);
  if (name == "--buffer-size") {
    return parse_number(name, value, 256, 1u << 20, serve.buffer_size, errors);
  }
  if (name == "--max-connections") {
    return parse_number(name, value, 1, 1u << 20, serve.max_connections, errors);
  }
  if (name == "--max-message") {
    return parse_number(name, value, 14, 1u << 20, serve.max_message, errors);
  }
  if (name == "--max-lent") return parse_number(name, value, 1, 32768, serve.max_lent, errors);
  if (name == "--unlink-stale") return serve.unlink_stale = true, 0;
  if (name == "--direct") return serve.direct = true, 0;
  if (name == "--busy-poll") {
    return parse_number(name, value, 0, 1'000'000, serve.busy_poll_us, errors);
  }
  if (name == "--batch-wait") {
    return parse_number(name, value, 0, 1'000'000, serve.batch_wait_us, errors);
  }
  if (name == "--zero-copy") {
    return parse_number(name, value, 0, 1u << 30, serve.zero_copy_bytes, errors);
  }
  if (name == "--buffers") {
    int rc = parse_number(name, value, 1, 32768, serve.buffers, errors);
    if (rc == 0 && (serve.buffers & (serve.buffers - 1)) != 0) {
      return errors.fail("bad value '%.*s' for --buffers: must be a power of two", value);
    }
    return rc;
  }
  return errors.fail("option '%.*s' is in the table but not handled", name);
}

string_view command_name(Command command) noexcept {
  return command == Command::serve ? "serve" : command == Command::load ? "load" : "probe";
}

// argv[i] names an option of `command`: its row in the option table (which
// is what makes it accepted) and its value, from "--name=value" or the next
// argument (advancing i); a flag has none. "-h" is "--help".
int take_option(Command command, int argc, const char* const* argv, int& i, string_view& name,
                string_view& value, Errors& errors) noexcept {
  string_view arg = argv[i];
  size_t equals = arg.find('=');
  name = arg == "-h" ? string_view("--help") : arg.substr(0, equals);
  const OptionSpec* row = find_option(command, name);
  if (row == nullptr) {
    string_view which = command_name(command);
    return errors.fail("unknown option '%.*s' for %.*s (see ringsock %.*s --help)", name, which,
                       which);
  }
  value = {};
  if (row->value == nullptr) {
    if (equals != string_view::npos) return errors.fail("option '%.*s' takes no value", name);
  } else if (equals != string_view::npos) {
    value = arg.substr(equals + 1);
  } else if (i + 1 < argc) {
    value = argv[++i];
  } else {
    return errors.fail("option '%.*s' needs a value", name);
  }
  return 0;
}

bool is_option(string_view arg) noexcept {
  return arg == "-h" || (arg.size() >= 2 && arg.substr(0, 2) == "--");
}

// Sets `help` and stops at --help (the rest is not checked).
int parse_serve(int argc, const char* const* argv, ServeArgs& serve, bool& help,
                Errors& errors) noexcept {
  for (int i = 2; i < argc; ++i) {
    string_view arg = argv[i];
    if (!is_option(arg)) {
      if (int rc = add_endpoint(arg, serve, errors)) return rc;
      continue;
    }
    string_view name, value;
    if (int rc = take_option(Command::serve, argc, argv, i, name, value, errors)) return rc;
    if (name == "--help") return help = true, 0;
    if (int rc = apply_option(name, value, serve, errors)) return rc;
  }
  if (serve.endpoint_count == 0) {
    return errors.fail("serve needs at least one ENDPOINT, e.g. tcp://127.0.0.1:9000%.*s", "");
  }
  if (serve.direct && serve.dispatch == Dispatch::handoff && serve.threads > 1) {
    return errors.fail("--direct does not go with --dispatch handoff: a direct descriptor "
                       "belongs to the loop that accepted it%.*s", "");
  }
  if (serve.direct && serve.max_connections > 65536) {
    return errors.fail("--direct takes at most 65536 connection slots per thread "
                       "(--max-connections)%.*s", "");
  }
  return 0;
}

// "10s", "0.5s", "500ms", "1.5ms", "250us", "2m", "1000ns"; a bare number is
// seconds. Up to 9 decimals; the result must be whole nanoseconds.
bool parse_duration(string_view text, uint64_t& out) noexcept {
  auto digits_from = [&](size_t at) {
    size_t end = at;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    return end;
  };
  size_t whole_end = digits_from(0);
  uint64_t whole = 0;
  if (!parse_u64(text.substr(0, whole_end), whole) || whole > 1000000000ULL) return false;
  uint64_t fraction = 0, fraction_scale = 1;
  size_t unit_at = whole_end;
  if (unit_at < text.size() && text[unit_at] == '.') {
    size_t end = digits_from(unit_at + 1);
    size_t decimals = end - unit_at - 1;
    if (decimals == 0 || decimals > 9) return false;
    parse_u64(text.substr(unit_at + 1, decimals), fraction);
    for (size_t i = 0; i < decimals; ++i) fraction_scale *= 10;
    unit_at = end;
  }
  string_view unit = text.substr(unit_at);
  uint64_t scale = 0;
  if (unit.empty() || unit == "s") scale = 1000000000ULL;
  else if (unit == "ms") scale = 1000000ULL;
  else if (unit == "us") scale = 1000ULL;
  else if (unit == "ns") scale = 1;
  else if (unit == "m") scale = 60000000000ULL;
  else return false;
  // fraction / fraction_scale of one unit, in nanoseconds; both scales are
  // powers of ten (or 6 x 10^10), so one divides the other. No 128-bit
  // arithmetic: 32-bit targets have none.
  uint64_t extra;
  if (scale >= fraction_scale) {
    extra = fraction * (scale / fraction_scale);  // below scale: no overflow
  } else {
    uint64_t divisor = fraction_scale / scale;
    if (fraction % divisor != 0) return false;  // a fraction of a nanosecond
    extra = fraction / divisor;
  }
  if (whole > UINT64_MAX / scale || whole * scale > UINT64_MAX - extra) return false;
  out = whole * scale + extra;
  return true;
}

int parse_size(string_view text, LoadArgs& load, Errors& errors) noexcept {
  size_t dash = text.find('-');
  string_view low = text.substr(0, dash);
  string_view high = dash == string_view::npos ? low : text.substr(dash + 1);
  uint32_t a = 0, b = 0;
  if (!parse_u32(low, a) || !parse_u32(high, b) || a < 40 || b > (1u << 20) || a > b) {
    return errors.fail("bad value '%.*s' for --size: expected N or MIN-MAX, 40 to 1048576 bytes",
                       text);
  }
  load.size_min = a;
  load.size_max = b;
  return 0;
}

int parse_percentiles(string_view text, LoadArgs& load, Errors& errors) noexcept {
  load.percentile_count = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    string_view item = text.substr(0, comma);
    char buffer[32];
    char* end = nullptr;
    double value = -1;
    if (item.size() > 0 && item.size() < sizeof buffer) {
      memcpy(buffer, item.data(), item.size());
      buffer[item.size()] = '\0';
      value = strtod(buffer, &end);
    }
    if (end == nullptr || *end != '\0' || !(value >= 0 && value <= 100) ||
        load.percentile_count == kMaxPercentiles) {
      return errors.fail("bad value '%.*s' for --percentiles: expected up to 16 numbers from 0 "
                         "to 100, e.g. 50,99,99.9",
                         item);
    }
    load.percentiles[load.percentile_count++] = value;
    text = comma == string_view::npos ? string_view() : text.substr(comma + 1);
  }
  return 0;
}

int parse_load_mode(string_view text, LoadMode& out, Errors& errors) noexcept {
  if (text == "pingpong" || text == "ping-pong") out = LoadMode::pingpong;
  else if (text == "throughput") out = LoadMode::throughput;
  else if (text == "rate") out = LoadMode::rate;
  else if (text == "churn") out = LoadMode::churn;
  else if (text == "idle") out = LoadMode::idle;
  else {
    return errors.fail("bad value '%.*s' for --mode: expected pingpong, throughput, rate, churn "
                       "or idle", text);
  }
  return 0;
}

int parse_arrival(string_view text, Arrival& out, Errors& errors) noexcept {
  if (text == "constant") out = Arrival::constant;
  else if (text == "poisson") out = Arrival::poisson;
  else return errors.fail("bad value '%.*s' for --arrival: expected constant or poisson", text);
  return 0;
}

// One IPv4 or IPv6 address (no brackets, no port) into `out` as port 0.
bool parse_address(string_view text, ringsock::Endpoint& out) noexcept {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return false;
  memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  out = ringsock::Endpoint{};
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
      inet_pton(AF_INET, buffer, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    out.length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, buffer, &v6->sin6_addr) != 1) return false;
  v6->sin6_family = AF_INET6;
  out.length = sizeof(sockaddr_in6);
  return true;
}

// "A" or "A-B": IPv4 addresses, or IPv6 addresses that differ in the last 16 bits only.
int parse_source(string_view text, SourceRange& out, Errors& errors) noexcept {
  size_t dash = text.find('-');
  ringsock::Endpoint low, high;
  bool ok = parse_address(text.substr(0, dash), low) &&
            parse_address(dash == string_view::npos ? text : text.substr(dash + 1), high) &&
            low.family() == high.family();
  uint64_t count = 0;
  if (ok && low.family() == AF_INET) {
    uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(&low.storage)->sin_addr.s_addr);
    uint32_t b = ntohl(reinterpret_cast<const sockaddr_in*>(&high.storage)->sin_addr.s_addr);
    ok = a <= b;
    count = uint64_t(b) - a + 1;
  } else if (ok) {
    const uint8_t* a = reinterpret_cast<const sockaddr_in6*>(&low.storage)->sin6_addr.s6_addr;
    const uint8_t* b = reinterpret_cast<const sockaddr_in6*>(&high.storage)->sin6_addr.s6_addr;
    unsigned tail_a = unsigned(a[14]) << 8 | a[15], tail_b = unsigned(b[14]) << 8 | b[15];
    ok = memcmp(a, b, 14) == 0 && tail_a <= tail_b;
    count = uint64_t(tail_b) - tail_a + 1;
  }
  if (!ok || count > (1u << 24)) {
    return errors.fail("bad value '%.*s' for --source: expected an address or a range A-B "
                       "(IPv4, or IPv6 differing in the last 16 bits; at most 16777216)", text);
  }
  out.first = low;
  out.count = uint32_t(count);
  return 0;
}

int parse_port_range(string_view text, SourceRange& out, Errors& errors) noexcept {
  size_t dash = text.find('-');
  uint32_t low = 0, high = 0;
  if (dash == string_view::npos || !parse_u32(text.substr(0, dash), low) ||
      !parse_u32(text.substr(dash + 1), high) || low == 0 || low > high || high > 65535) {
    return errors.fail("bad value '%.*s' for --source-ports: expected LOW-HIGH within 1-65535",
                       text);
  }
  out.port_low = uint16_t(low);
  out.port_high = uint16_t(high);
  return 0;
}

int parse_buffer_size(string_view name, string_view text, int& out, Errors& errors) noexcept {
  uint32_t value = 0;
  if (int rc = parse_number(name, text, 1024, 1u << 30, value, errors)) return rc;
  out = int(value);
  return 0;
}

// --shard K/N|auto (auto: from the launcher's environment, logic/shard.hpp).
int parse_shard_option(string_view value, LoadArgs& load, Errors& errors) noexcept {
  auto env = [](const char* name) -> const char* { return getenv(name); };
  auto parsed = ringsock::tool::parse_shard(value, env);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    return errors.fail("%.*s", *error);
  }
  const auto& shard = std::get<ringsock::tool::ShardSpec>(parsed);
  load.shard_index = shard.index;
  load.shard_count = shard.count;
  return 0;
}

// --start-at TIME: not past, at most a day ahead (logic/start_at.hpp).
int parse_start_at_option(string_view value, LoadArgs& load, Errors& errors) noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t now_ns = int64_t(now.tv_sec) * 1'000'000'000LL + now.tv_nsec;
  auto parsed = ringsock::tool::parse_start_at(value, now_ns);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    return errors.fail("%.*s", *error);
  }
  load.start_at_unix_ns = std::get<int64_t>(parsed);
  return 0;
}

int load_value_error(string_view name, string_view value, Errors& errors) noexcept {
  return errors.fail("bad value '%.*s' for %.*s", value, name);
}

int apply_load_option(string_view name, string_view value, LoadArgs& load, Errors& errors) noexcept {
  if (name == "--mode") return parse_load_mode(value, load.mode, errors);
  if (name == "--backend") return parse_backend(value, load.backend, errors);
  if (name == "--connections") return parse_number(name, value, 1, 1u << 20, load.connections, errors);
  if (name == "--inflight") return parse_number(name, value, 1, 4096, load.inflight, errors);
  if (name == "--threads") return parse_number(name, value, 1, 256, load.threads, errors);
  if (name == "--arrival") return parse_arrival(value, load.arrival, errors);
  if (name == "--source") return parse_source(value, load.source, errors);
  if (name == "--source-ports") return parse_port_range(value, load.source, errors);
  if (name == "--sndbuf") return parse_buffer_size(name, value, load.send_buffer, errors);
  if (name == "--rcvbuf") return parse_buffer_size(name, value, load.receive_buffer, errors);
  if (name == "--rate") return parse_number(name, value, 1, 100000000, load.rate, errors);
  if (name == "--batch-wait") {
    return parse_number(name, value, 0, 1'000'000, load.batch_wait_us, errors);
  }
  if (name == "--busy-poll") {
    return parse_number(name, value, 0, 1'000'000, load.busy_poll_us, errors);
  }
  if (name == "--zero-copy") {
    return parse_number(name, value, 0, 1u << 30, load.zero_copy_bytes, errors);
  }
  if (name == "--size") return parse_size(value, load, errors);
  if (name == "--percentiles") return parse_percentiles(value, load, errors);
  if (name == "--shard") return parse_shard_option(value, load, errors);
  if (name == "--start-at") return parse_start_at_option(value, load, errors);
  if (name == "--json") load.json_file = value.data();
  else if (name == "--report") load.report_file = value.data();
  else if (name == "--hlog") load.hlog_file = value.data();
  else if (name == "--assert") load.assertions = value.data();
  else if (name == "--seed") {
    if (!parse_u64(value, load.seed)) return load_value_error(name, value, errors);
  } else if (name == "--count") {
    if (!parse_u64(value, load.count) || load.count == 0) return load_value_error(name, value, errors);
  } else if (name == "--duration") {
    if (!parse_duration(value, load.duration_ns) || load.duration_ns == 0) {
      return errors.fail("bad value '%.*s' for --duration: expected e.g. 10s, 1.5s, 500ms", value);
    }
    load.duration_given = true;
  } else if (name == "--warmup") {
    if (!parse_duration(value, load.warmup_ns)) {
      return errors.fail("bad value '%.*s' for --warmup: expected e.g. 1s, 0.5s, 200ms", value);
    }
  } else if (name == "--nodelay") {
    load.nodelay = true;
  } else if (name == "--sockperf") {
    load.sockperf = true;
  } else if (name == "--ipv4" || name == "--ipv6") {
    IpFamily family = name == "--ipv4" ? IpFamily::ipv4 : IpFamily::ipv6;
    if (load.family != IpFamily::any && load.family != family) {
      return errors.fail("--ipv4 and --ipv6 exclude each other%.*s", "");
    }
    load.family = family;
  } else if (name == "--timeout") {
    if (!parse_duration(value, load.timeout_ns) || load.timeout_ns == 0) {
      return errors.fail("bad value '%.*s' for --timeout: expected e.g. 1s, 200ms", value);
    }
  } else if (name.starts_with("--request") || name.starts_with("--reply") ||
             name.starts_with("--expect")) {
    // Compiled by run_load before the load: kept as typed, in order.
    if (load.request_option_count == kMaxRequestOptions) {
      return errors.fail("too many request, reply and expect options at '%.*s' (at most 64)", name);
    }
    load.request_options[load.request_option_count++] = {name, value};
  } else {
    return errors.fail("option '%.*s' is in the table but not handled", name);
  }
  return 0;
}

// The source range against the endpoint: TCP/UDP of the same family, room
// for every connection when the ports are fixed.
int check_source(const LoadArgs& load, Errors& errors) noexcept {
  const SourceRange& source = load.source;
  if (source.count == 0 && source.port_low == 0) return 0;
  if (source.count == 0) {
    return errors.fail("--source-ports needs --source ADDRESS[-ADDRESS]%.*s", "");
  }
  auto t = load.endpoint.transport;
  if (t != ringsock::Transport::tcp && t != ringsock::Transport::udp) {
    return errors.fail("--source is for tcp:// and udp:// endpoints%.*s", "");
  }
  const bool ipv4 = source.first.family() == AF_INET;
  if (load.family != IpFamily::any && ipv4 != (load.family == IpFamily::ipv4)) {
    return errors.fail("--source is IPv%.*s, but %.*s was given", ipv4 ? "4" : "6",
                       ipv4 ? "--ipv6" : "--ipv4");
  }
  // A host name is resolved to the source's family (load.cpp).
  if (!load.resolve && source.first.family() != load.endpoint.family()) {
    return errors.fail("--source and the ENDPOINT must both be IPv4 or both IPv6%.*s", "");
  }
  if (source.ports() != 0 && uint64_t(source.count) * source.ports() < load.connections) {
    return errors.fail("--connections is more than --source addresses x --source-ports%.*s", "");
  }
  return 0;
}

// One message is one datagram: it must fit in one. UDP's limit is 65,535
// bytes less its headers; unix-dgram gets IPv4's figure, which every
// datagram transport carries (a kernel's own limit there is its socket buffer).
int check_datagram_size(const LoadArgs& load, Errors& errors) noexcept {
  if (load.endpoint.is_stream()) return 0;
  const bool ipv6 = load.endpoint.family() == AF_INET6;
  const uint32_t limit = ipv6 ? kMaxDatagramIpv6 : kMaxDatagram;
  if (load.size_max <= limit) return 0;
  char why[160];
  snprintf(why, sizeof why, "%u bytes (%s)", limit,
           load.endpoint.transport == ringsock::Transport::unix_dgram ? "unix-dgram, as UDP over IPv4"
           : ipv6                                                     ? "UDP over IPv6"
                                                                      : "UDP over IPv4");
  return errors.fail("--size is too large for a datagram endpoint: one message is one datagram, "
                     "which holds at most %.*s%.*s", why, "");
}

// --ipv4 / --ipv6 on an ENDPOINT that names no host: resolve.hpp's rule
// (`localhost` is ::1 under --ipv6; an address of the other family is
// refused), applied before the checks that read the endpoint's family.
int apply_family(LoadArgs& load, Errors& errors) noexcept {
  if (load.family == IpFamily::any || load.resolve) return 0;
  const ringsock::Transport t = load.endpoint.transport;
  if (t != ringsock::Transport::tcp && t != ringsock::Transport::udp) {
    return errors.fail("--ipv4 and --ipv6 are for tcp:// and udp:// endpoints%.*s", "");
  }
  const AddressFamily family = load.family == IpFamily::ipv4 ? AddressFamily::ipv4 : AddressFamily::ipv6;
  const Resolved r = resolve_endpoints(load.endpoint_url, family);
  if (r.status != ResolveStatus::ok) return errors.fail("%.*s", r.error);
  load.endpoint = r.endpoints.front();
  return 0;
}

// Port 0 lets serve's kernel choose; a load has to be told the server's.
int check_port(const LoadArgs& load, Errors& errors) noexcept {
  const int family = load.endpoint.family();
  if (family != AF_INET && family != AF_INET6) return 0;
  const in_port_t port = family == AF_INET
                             ? reinterpret_cast<const sockaddr_in*>(&load.endpoint.storage)->sin_port
                             : reinterpret_cast<const sockaddr_in6*>(&load.endpoint.storage)->sin6_port;
  if (port != 0) return 0;
  return errors.fail("load needs the server's port in '%.*s': 0 is not one (serve takes 0 to "
                     "let the kernel choose)", load.endpoint_url);
}

int check_load(LoadArgs& load, bool have_endpoint, Errors& errors) noexcept {
  if (!have_endpoint) {
    return errors.fail("load needs an ENDPOINT, e.g. tcp://127.0.0.1:9000%.*s", "");
  }
  if (int rc = apply_family(load, errors)) return rc;
  if (int rc = check_port(load, errors)) return rc;
  const bool paced = load.mode == LoadMode::rate || load.mode == LoadMode::churn;
  if (load.mode == LoadMode::rate && load.rate == 0) {
    return errors.fail("--mode rate needs --rate N (messages/s in total)%.*s", "");
  }
  if (!paced && load.rate != 0) {
    return errors.fail("--rate is only for --mode rate and --mode churn%.*s", "");
  }
  if (load.rate != 0 && load.rate < load.connections) {
    return errors.fail("--rate must be at least --connections%.*s", "");
  }
  if (load.arrival == Arrival::poisson && load.rate == 0) {
    return errors.fail("--arrival poisson needs --rate N%.*s", "");
  }
  if ((load.mode == LoadMode::churn || load.mode == LoadMode::idle) && load.inflight != 1) {
    return errors.fail("--inflight is not for --mode churn or idle (one exchange at a time)%.*s", "");
  }
  if (load.mode == LoadMode::idle && load.count != 0) {
    return errors.fail("--mode idle holds its connections for --duration, not --count%.*s", "");
  }
  if (load.threads > load.connections) {
    return errors.fail("--threads must not exceed --connections%.*s", "");
  }
  if (load.sockperf && load.size_min < 54) {
    return errors.fail("--sockperf needs --size of at least 54 (14 sockperf + 40 ringsock "
                       "header bytes)%.*s", "");
  }
  if (int rc = check_datagram_size(load, errors)) return rc;
  return check_source(load, errors);
}

enum class HostName : uint8_t { none, bad_port, ok };

// tcp://NAME:PORT or udp://NAME:PORT whose NAME is not an address: resolved
// later (resolve.hpp), so only the transport and port are set now.
HostName names_a_host(string_view url, ringsock::Endpoint& out) noexcept {
  ringsock::Transport transport;
  if (url.starts_with("tcp://")) transport = ringsock::Transport::tcp;
  else if (url.starts_with("udp://")) transport = ringsock::Transport::udp;
  else return HostName::none;
  string_view rest = url.substr(6);
  size_t colon = rest.rfind(':');
  if (colon == 0 || colon == string_view::npos || rest.front() == '[') return HostName::none;
  for (char c : rest.substr(0, colon)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return HostName::none;
  }
  uint32_t port = 0;
  if (!parse_u32(rest.substr(colon + 1), port) || port > 65535) return HostName::bad_port;
  out = ringsock::Endpoint{};
  out.transport = transport;
  // A placeholder until resolved: the port is the name's, the family any.
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(uint16_t(port));
  return HostName::ok;
}

// Sets `help` and stops at --help (the rest is not checked).
int parse_load(int argc, const char* const* argv, LoadArgs& load, bool& help,
               Errors& errors) noexcept {
  bool have_endpoint = false;
  for (int i = 2; i < argc; ++i) {
    string_view arg = argv[i];
    if (!is_option(arg)) {
      if (have_endpoint) return errors.fail("load takes one ENDPOINT, got also '%.*s'", arg);
      load.endpoint_url = argv[i];
      ringsock::ParseResult parsed = ringsock::parse_endpoint(arg, load.endpoint);
      const HostName name = parsed.error != 0 ? names_a_host(arg, load.endpoint) : HostName::none;
      if (name == HostName::bad_port) {
        return errors.fail("bad endpoint '%.*s': port is not a decimal number 0-65535", arg);
      }
      if (parsed.error != 0 && name != HostName::ok) {
        return errors.fail("bad endpoint '%.*s': %.*s", arg, string_view(parsed.message));
      }
      load.resolve = parsed.error != 0;
      have_endpoint = true;
      continue;
    }
    string_view name, value;
    if (int rc = take_option(Command::load, argc, argv, i, name, value, errors)) return rc;
    if (name == "--help") return help = true, 0;
    if (int rc = apply_load_option(name, value, load, errors)) return rc;
  }
  return check_load(load, have_endpoint, errors);
}

// "serve", "load", "merge", "probe": the subcommand of that name, or help when unknown.
Command subcommand_named(string_view name) noexcept {
  if (name == "serve") return Command::serve;
  if (name == "load") return Command::load;
  if (name == "merge") return Command::merge;
  if (name == "report") return Command::report;
  if (name == "probe") return Command::probe;
  return Command::help;
}

// `ringsock help [SUBCOMMAND]` (also --help, -h): the overview or one subcommand.
int parse_help(int argc, const char* const* argv, Args& out, Errors& errors) noexcept {
  out.command = Command::help;
  out.help_topic = Command::help;
  if (argc < 3) return 0;
  if (argc > 3) return errors.fail("help takes one SUBCOMMAND, got also '%.*s'", argv[3]);
  out.help_topic = subcommand_named(argv[2]);
  if (out.help_topic == Command::help) {
    return errors.fail("no help for '%.*s' (subcommands: serve, load, merge, report, probe)", argv[2]);
  }
  return 0;
}

int parse_probe(int argc, const char* const* argv, Args& out, Errors& errors) noexcept {
  out.command = Command::probe;
  if (argc < 3) return 0;
  string_view arg = argv[2];
  if (argc == 3 && (arg == "--help" || arg == "-h")) {
    out.command = Command::help;
    out.help_topic = Command::probe;
    return 0;
  }
  return errors.fail("probe takes no arguments, got '%.*s'", arg);
}

}  // namespace

int parse_args(int argc, const char* const* argv, Args& out, char* error, size_t capacity) noexcept {
  Errors errors{error, capacity};
  if (capacity > 0) error[0] = '\0';
  out.help_topic = Command::help;
  if (argc < 2) return errors.fail("no command given (try ringsock --help)%.*s", "");
  string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    return parse_help(argc, argv, out, errors);
  }
  if (command == "--version") {
    out.command = Command::version;
    return 0;
  }
  if (command == "probe") return parse_probe(argc, argv, out, errors);
  bool help = false;
  int rc = 0;
  if (command == "serve") {
    out.command = Command::serve;
    out.serve = ServeArgs{};
    rc = parse_serve(argc, argv, out.serve, help, errors);
  } else if (command == "merge") {
    out.command = Command::merge;  // merge.cpp parses its own arguments
    return 0;
  } else if (command == "report") {
    out.command = Command::report;  // report.cpp parses its own arguments
    return 0;
  } else if (command == "load") {
    out.command = Command::load;
    out.load = LoadArgs{};
    rc = parse_load(argc, argv, out.load, help, errors);
  } else {
    return errors.fail("unknown command '%.*s' (commands: serve, load, merge, report, probe; see ringsock "
                       "--help)", command);
  }
  if (rc == 0 && help) {
    out.help_topic = out.command;
    out.command = Command::help;
  }
  return rc;
}

const char* mode_name(LoadMode mode) noexcept {
  switch (mode) {
    case LoadMode::pingpong: return "pingpong";
    case LoadMode::throughput: return "throughput";
    case LoadMode::rate: return "rate";
    case LoadMode::churn: return "churn";
    case LoadMode::idle: return "idle";
  }
  return "?";
}

const char* mode_name(ServeMode mode) noexcept {
  switch (mode) {
    case ServeMode::echo: return "echo";
    case ServeMode::sink: return "sink";
    case ServeMode::sockperf: return "sockperf";
  }
  return "?";
}

}  // namespace ringsock_cli
