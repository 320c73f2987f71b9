#include "args.hpp"

#include <cstdio>
#include <cstring>
#include <string_view>

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

bool parse_u32(string_view text, uint32_t& out) noexcept {
  if (text.empty() || text.size() > 10) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + uint64_t(c - '0');
  }
  if (value > UINT32_MAX) return false;
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
  if (name == "--buffer-size") {
    return parse_number(name, value, 256, 1u << 20, serve.buffer_size, errors);
  }
  if (name == "--max-connections") {
    return parse_number(name, value, 1, 1u << 20, serve.max_connections, errors);
  }
  if (name == "--max-message") {
    return parse_number(name, value, 14, 1u << 20, serve.max_message, errors);
  }
  if (name == "--buffers") {
    int rc = parse_number(name, value, 1, 32768, serve.buffers, errors);
    if (rc == 0 && (serve.buffers & (serve.buffers - 1)) != 0) {
      return errors.fail("bad value '%.*s' for --buffers: must be a power of two", value);
    }
    return rc;
  }
  return errors.fail("unknown option '%.*s' for serve (see ringsock --help)", name);
}

int parse_serve(int argc, const char* const* argv, ServeArgs& serve, Errors& errors) noexcept {
  for (int i = 2; i < argc; ++i) {
    string_view arg = argv[i];
    if (arg.size() < 2 || arg.substr(0, 2) != "--") {
      if (int rc = add_endpoint(arg, serve, errors)) return rc;
      continue;
    }
    size_t equals = arg.find('=');
    string_view name = arg.substr(0, equals);
    string_view value;
    if (equals != string_view::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return errors.fail("option '%.*s' needs a value", name);
    }
    if (int rc = apply_option(name, value, serve, errors)) return rc;
  }
  if (serve.endpoint_count == 0) {
    return errors.fail("serve needs at least one ENDPOINT, e.g. tcp://127.0.0.1:9000%.*s", "");
  }
  return 0;
}

}  // namespace

int parse_args(int argc, const char* const* argv, Args& out, char* error, size_t capacity) noexcept {
  Errors errors{error, capacity};
  if (capacity > 0) error[0] = '\0';
  if (argc < 2) return errors.fail("no command given (try ringsock --help)%.*s", "");
  string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    out.command = Command::help;
    return 0;
  }
  if (command == "--version") {
    out.command = Command::version;
    return 0;
  }
  if (command == "probe") {
    out.command = Command::probe;
    if (argc > 2) return errors.fail("probe takes no arguments, got '%.*s'", argv[2]);
    return 0;
  }
  if (command == "serve") {
    out.command = Command::serve;
    out.serve = ServeArgs{};
    return parse_serve(argc, argv, out.serve, errors);
  }
  return errors.fail("unknown command '%.*s' (commands: serve, probe; see ringsock --help)",
                     command);
}

const char* usage_text() noexcept {
  return "usage:\n"
         "  ringsock serve ENDPOINT... [options]   serve echo, sink or sockperf\n"
         "  ringsock probe                         which backend a loop gets here, and why\n"
         "  ringsock --help | --version\n"
         "\n"
         "ENDPOINT: tcp://127.0.0.1:9000  tcp://[::1]:9000  udp://0.0.0.0:9001\n"
         "          unix:///tmp/r.sock  unix://@abstract  unix-dgram:///tmp/d.sock\n"
         "\n"
         "serve options:\n"
         "  --mode echo|sink|sockperf  echo every byte (default), discard, or answer\n"
         "                             sockperf 3.x clients (reply when PONG is set)\n"
         "  --threads N                loops, one per thread (default 1); TCP/UDP use\n"
         "                             SO_REUSEPORT, UNIX endpoints are served by thread 0\n"
         "  --backend uring|epoll|auto backend (default auto; RINGSOCK_BACKEND overrides)\n"
         "  --buffer-size N            bytes per pool buffer (default 4096; a datagram\n"
         "                             must fit in N - 144)\n"
         "  --buffers N                pool buffers per loop, a power of two (default 512)\n"
         "  --max-connections N        connection slots per thread (default 16384)\n"
         "  --max-message N            sockperf mode, streams: largest message (default 65536)\n"
         "\n"
         "exit codes: 0 ok, 1 runtime failure (cannot bind, no backend), 2 bad arguments\n";
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
