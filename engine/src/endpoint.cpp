// Endpoint URLs <-> socket addresses. Strict, allocation-free, exception-free:
// every malformed URL is -EINVAL with a static message, and the caller's
// Endpoint is only written once the whole URL has been accepted.
#include "ringsock/endpoint.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringsock {
namespace {

constexpr size_t kUrlMax = 512;
constexpr size_t kSunPathOffset = offsetof(sockaddr_un, sun_path);
// A path needs its NUL and an abstract name its leading NUL: both leave 107 bytes.
constexpr size_t kSunNameMax = sizeof(sockaddr_un::sun_path) - 1;
static_assert(kSunNameMax == 107, "messages below say 107");

constexpr std::string_view kSchemeTcp = "tcp";
constexpr std::string_view kSchemeUdp = "udp";
constexpr std::string_view kSchemeUnix = "unix";
constexpr std::string_view kSchemeUnixDgram = "unix-dgram";

// Error messages: static so that ParseResult never points at a temporary.
constexpr const char* kErrTooLong = "URL is longer than 512 bytes";
constexpr const char* kErrBadByte = "URL contains a NUL byte, whitespace or a control character";
constexpr const char* kErrNoSeparator = "missing '://' after the scheme";
constexpr const char* kErrScheme = "unknown scheme: use tcp, udp, unix or unix-dgram";
constexpr const char* kErrEmptyHost = "empty host";
constexpr const char* kErrNoPort = "missing ':PORT' after the host";
constexpr const char* kErrPort = "port is not a decimal number 0-65535";
constexpr const char* kErrHost = "host is not a dotted-quad IPv4 address, [IPv6] or localhost";
constexpr const char* kErrNeedBrackets = "IPv6 address must be in brackets";
constexpr const char* kErrIpv4InBrackets = "IPv4 address must not be in brackets";
constexpr const char* kErrNoCloseBracket = "missing ']' after the IPv6 address";
constexpr const char* kErrAfterBracket = "expected ':PORT' right after ']'";
constexpr const char* kErrIpv6 = "not a valid IPv6 address";
constexpr const char* kErrEmptyZone = "empty IPv6 zone after '%'";
constexpr const char* kErrZoneIndex =
    "IPv6 zone index must be a decimal 1-4294967295 without leading zeros";
constexpr const char* kErrZoneName = "unknown network interface in IPv6 zone";
constexpr const char* kErrEmptyPath = "empty UNIX path";
constexpr const char* kErrPathTooLong = "UNIX path too long (max 107 bytes)";
constexpr const char* kErrEmptyAbstract = "abstract UNIX name is empty";
constexpr const char* kErrAbstractTooLong = "abstract UNIX name too long (max 107 bytes)";

ParseResult fail(const char* message) noexcept { return {-EINVAL, message}; }

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// string_view::substr range-checks and would throw (abort, here); these clamp instead.
std::string_view head_of(std::string_view text, size_t end) noexcept {
  return std::string_view(text.data(), end < text.size() ? end : text.size());
}
std::string_view tail_from(std::string_view text, size_t start) noexcept {
  if (start >= text.size()) return std::string_view();
  return std::string_view(text.data() + start, text.size() - start);
}

// Bytes a URL may carry. Space, controls and NUL are refused so that an
// endpoint printed in a log line or a config file reads back unambiguously.
bool url_safe(std::string_view text) noexcept {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return false;
  }
  return true;
}

// Plain decimal: 1..max_digits digits, no sign, no leading zero unless the
// number is "0" itself (so "080" cannot be read as octal by someone else).
bool parse_decimal(std::string_view text, size_t max_digits, uint64_t max_value,
                   uint64_t& value) noexcept {
  if (text.empty() || text.size() > max_digits) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  uint64_t result = 0;
  for (char c : text) {
    if (!is_digit(c)) return false;
    result = result * 10 + static_cast<uint64_t>(c - '0');
  }
  if (result > max_value) return false;
  value = result;
  return true;
}

bool parse_port(std::string_view text, uint16_t& port) noexcept {
  uint64_t value = 0;
  if (!parse_decimal(text, 5, 65535, value)) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

// Exactly four decimal octets; inet_pton/inet_aton accept too many spellings.
bool parse_ipv4(std::string_view text, in_addr& out) noexcept {
  uint32_t address = 0;
  for (int octet_index = 0; octet_index < 4; ++octet_index) {
    size_t dot = octet_index < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return false;
    uint64_t octet = 0;
    if (!parse_decimal(head_of(text, dot), 3, 255, octet)) return false;
    address = (address << 8) | static_cast<uint32_t>(octet);
    text.remove_prefix(octet_index < 3 ? dot + 1 : dot);
  }
  out.s_addr = htonl(address);
  return true;
}

// "%N" (decimal interface index) or "%name" (resolved now, so a typo fails here).
const char* parse_zone(std::string_view zone, uint32_t& scope_id) noexcept {
  if (zone.empty()) return kErrEmptyZone;
  if (is_digit(zone[0])) {
    uint64_t index = 0;
    if (!parse_decimal(zone, 10, UINT32_MAX, index) || index == 0) return kErrZoneIndex;
    scope_id = static_cast<uint32_t>(index);
    return nullptr;
  }
  char name[IF_NAMESIZE];
  if (zone.size() >= sizeof name) return kErrZoneName;
  std::memcpy(name, zone.data(), zone.size());
  name[zone.size()] = '\0';
  unsigned index = if_nametoindex(name);
  if (index == 0) return kErrZoneName;
  scope_id = index;
  return nullptr;
}

// The text between the brackets: an IPv6 address with an optional %zone.
const char* parse_ipv6(std::string_view inside, sockaddr_in6& out) noexcept {
  size_t percent = inside.find('%');
  std::string_view address = head_of(inside, percent);
  in_addr ignored{};
  if (parse_ipv4(address, ignored)) return kErrIpv4InBrackets;
  char text[INET6_ADDRSTRLEN];
  if (address.empty() || address.size() >= sizeof text) return kErrIpv6;
  std::memcpy(text, address.data(), address.size());
  text[address.size()] = '\0';
  if (inet_pton(AF_INET6, text, &out.sin6_addr) != 1) return kErrIpv6;
  if (percent == std::string_view::npos) return nullptr;
  return parse_zone(tail_from(inside, percent + 1), out.sin6_scope_id);
}

// "[IPv6%zone]:PORT" (the text starts with '[').
ParseResult parse_bracketed(std::string_view authority, Endpoint& out) noexcept {
  size_t close = authority.find(']');
  if (close == std::string_view::npos) return fail(kErrNoCloseBracket);
  auto& address = *reinterpret_cast<sockaddr_in6*>(&out.storage);
  address.sin6_family = AF_INET6;
  std::string_view inside = head_of(tail_from(authority, 1), close - 1);
  if (const char* error = parse_ipv6(inside, address)) return fail(error);
  std::string_view after = tail_from(authority, close + 1);
  if (after.empty()) return fail(kErrNoPort);
  if (after[0] != ':') return fail(kErrAfterBracket);
  uint16_t port = 0;
  if (!parse_port(tail_from(after, 1), port)) return fail(kErrPort);
  address.sin6_port = htons(port);
  out.length = sizeof(sockaddr_in6);
  return {};
}

// "A.B.C.D:PORT" or "localhost:PORT".
ParseResult parse_unbracketed(std::string_view authority, Endpoint& out) noexcept {
  size_t colon = authority.find(':');
  if (colon == std::string_view::npos) return fail(kErrNoPort);
  std::string_view host = head_of(authority, colon);
  std::string_view port_text = tail_from(authority, colon + 1);
  auto& address = *reinterpret_cast<sockaddr_in*>(&out.storage);
  address.sin_family = AF_INET;
  if (host == "localhost") {
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (!parse_ipv4(host, address.sin_addr)) {
    // A second ':' means someone wrote a bare IPv6 address: say so.
    if (port_text.find(':') != std::string_view::npos) return fail(kErrNeedBrackets);
    return fail(host.empty() ? kErrEmptyHost : kErrHost);
  }
  uint16_t port = 0;
  if (!parse_port(port_text, port)) return fail(kErrPort);
  address.sin_port = htons(port);
  out.length = sizeof(sockaddr_in);
  return {};
}

ParseResult parse_inet(std::string_view authority, Endpoint& out) noexcept {
  if (authority.empty()) return fail(kErrEmptyHost);
  if (authority[0] == '[') return parse_bracketed(authority, out);
  return parse_unbracketed(authority, out);
}

// "PATH" or "@name" (Linux abstract namespace: a leading NUL, no terminator).
ParseResult parse_unix(std::string_view path, Endpoint& out) noexcept {
  auto& address = *reinterpret_cast<sockaddr_un*>(&out.storage);
  address.sun_family = AF_UNIX;
  if (path.empty()) return fail(kErrEmptyPath);
  if (path[0] == '@') {
    std::string_view name = tail_from(path, 1);
    if (name.empty()) return fail(kErrEmptyAbstract);
    if (name.size() > kSunNameMax) return fail(kErrAbstractTooLong);
    address.sun_path[0] = '\0';
    std::memcpy(address.sun_path + 1, name.data(), name.size());
    out.length = static_cast<socklen_t>(kSunPathOffset + 1 + name.size());
    return {};
  }
  if (path.size() > kSunNameMax) return fail(kErrPathTooLong);
  std::memcpy(address.sun_path, path.data(), path.size());  // NUL: storage is zeroed
  out.length = static_cast<socklen_t>(kSunPathOffset + path.size() + 1);
  return {};
}

bool transport_from_scheme(std::string_view scheme, Transport& transport) noexcept {
  if (scheme == kSchemeTcp) {
    transport = Transport::tcp;
  } else if (scheme == kSchemeUdp) {
    transport = Transport::udp;
  } else if (scheme == kSchemeUnix) {
    transport = Transport::unix_stream;
  } else if (scheme == kSchemeUnixDgram) {
    transport = Transport::unix_dgram;
  } else {
    return false;
  }
  return true;
}

bool is_inet(Transport transport) noexcept {
  return transport == Transport::tcp || transport == Transport::udp;
}

// Whether `family` is an address family `transport` runs over (false for an invalid transport).
bool family_fits(Transport transport, int family) noexcept {
  switch (transport) {
    case Transport::tcp:
    case Transport::udp:
      return family == AF_INET || family == AF_INET6;
    case Transport::unix_stream:
    case Transport::unix_dgram:
      return family == AF_UNIX;
  }
  return false;
}

// Accumulates a URL; callers stay far below the capacity, the guard is belt and braces.
struct UrlWriter {
  char text[kEndpointUrlMax];
  size_t size = 0;
  bool overflow = false;

  void put(std::string_view part) noexcept {
    if (size + part.size() >= sizeof text) {
      overflow = true;
      return;
    }
    std::memcpy(text + size, part.data(), part.size());
    size += part.size();
  }
  void put_decimal(uint32_t value) noexcept {
    char digits[10];
    auto result = std::to_chars(digits, digits + sizeof digits, value);
    put(std::string_view(digits, static_cast<size_t>(result.ptr - digits)));
  }
};

std::string_view scheme_of(Transport transport) noexcept {
  switch (transport) {
    case Transport::tcp: return kSchemeTcp;
    case Transport::udp: return kSchemeUdp;
    case Transport::unix_stream: return kSchemeUnix;
    case Transport::unix_dgram: return kSchemeUnixDgram;
  }
  return {};
}

bool write_inet(const Endpoint& endpoint, UrlWriter& writer) noexcept {
  char text[INET6_ADDRSTRLEN];
  if (endpoint.family() == AF_INET) {
    if (endpoint.length < sizeof(sockaddr_in)) return false;
    const auto& address = *reinterpret_cast<const sockaddr_in*>(&endpoint.storage);
    if (inet_ntop(AF_INET, &address.sin_addr, text, sizeof text) == nullptr) return false;
    writer.put(text);
    writer.put(":");
    writer.put_decimal(ntohs(address.sin_port));
    return true;
  }
  if (endpoint.length < sizeof(sockaddr_in6)) return false;
  const auto& address = *reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
  if (inet_ntop(AF_INET6, &address.sin6_addr, text, sizeof text) == nullptr) return false;
  writer.put("[");
  writer.put(text);
  if (address.sin6_scope_id != 0) {
    writer.put("%");  // always the index: a name may not exist where the URL is read back
    writer.put_decimal(address.sin6_scope_id);
  }
  writer.put("]:");
  writer.put_decimal(ntohs(address.sin6_port));
  return true;
}

// Only names parse_endpoint would accept back are written: an unnamed socket,
// an empty abstract name or one holding NUL/space bytes has no URL.
bool write_unix(const Endpoint& endpoint, UrlWriter& writer) noexcept {
  if (endpoint.length <= kSunPathOffset || endpoint.length > sizeof(sockaddr_un)) return false;
  const auto& address = *reinterpret_cast<const sockaddr_un*>(&endpoint.storage);
  size_t room = endpoint.length - kSunPathOffset;
  std::string_view name;
  if (address.sun_path[0] == '\0') {
    name = std::string_view(address.sun_path + 1, room - 1);
    writer.put("@");
  } else {
    name = std::string_view(address.sun_path, strnlen(address.sun_path, room));
  }
  if (name.empty() || name.size() > kSunNameMax || !url_safe(name)) return false;
  writer.put(name);
  return true;
}

}  // namespace

int Endpoint::socket_type() const noexcept {
  switch (transport) {
    case Transport::tcp:
    case Transport::unix_stream:
      return SOCK_STREAM;
    case Transport::udp:
    case Transport::unix_dgram:
      return SOCK_DGRAM;
  }
  return 0;  // not a Transport value: no socket type, socket(2) will refuse it
}

ParseResult parse_endpoint(std::string_view url, Endpoint& out) noexcept {
  if (url.size() > kUrlMax) return fail(kErrTooLong);
  if (!url_safe(url)) return fail(kErrBadByte);
  size_t separator = url.find("://");
  if (separator == std::string_view::npos) return fail(kErrNoSeparator);
  Endpoint parsed;  // zero-filled storage: unused sockaddr bytes stay 0
  if (!transport_from_scheme(head_of(url, separator), parsed.transport)) return fail(kErrScheme);
  std::string_view rest = tail_from(url, separator + 3);
  ParseResult result = is_inet(parsed.transport) ? parse_inet(rest, parsed)
                                                 : parse_unix(rest, parsed);
  if (result.error == 0) out = parsed;
  return result;
}

int format_endpoint(const Endpoint& endpoint, char* out, size_t capacity) noexcept {
  if (endpoint.length == 0 || endpoint.length > sizeof(endpoint.storage)) return -EINVAL;
  if (!family_fits(endpoint.transport, endpoint.family())) return -EINVAL;
  UrlWriter writer;
  writer.put(scheme_of(endpoint.transport));
  writer.put("://");
  bool written = is_inet(endpoint.transport) ? write_inet(endpoint, writer)
                                             : write_unix(endpoint, writer);
  if (!written || writer.overflow) return -EINVAL;
  if (out == nullptr || capacity < writer.size + 1) {
    if (out != nullptr && capacity > 0) out[0] = '\0';
    return -ENOSPC;
  }
  std::memcpy(out, writer.text, writer.size);
  out[writer.size] = '\0';
  return static_cast<int>(writer.size);
}

namespace {

// AF_UNIX from the kernel: unnamed (just the family), abstract (leading NUL,
// length counts the name exactly) or a path (normalised to path + NUL).
int unix_from_sockaddr(const sockaddr* address, socklen_t length, Endpoint& out) noexcept {
  if (length > sizeof(sockaddr_un)) return -EINVAL;
  std::memcpy(&out.storage, address, length);
  out.length = length;
  if (length <= kSunPathOffset) return 0;  // unnamed
  auto& local = *reinterpret_cast<sockaddr_un*>(&out.storage);
  if (local.sun_path[0] == '\0') return 0;  // abstract: every byte of the name counts
  size_t path_size = strnlen(local.sun_path, length - kSunPathOffset);
  // A 108-byte path has no room for its NUL; such names cannot be formatted or re-bound.
  if (path_size > kSunNameMax) return -EINVAL;
  std::memset(local.sun_path + path_size, 0, sizeof local.sun_path - path_size);
  out.length = static_cast<socklen_t>(kSunPathOffset + path_size + 1);
  return 0;
}

}  // namespace

int endpoint_from_sockaddr(const sockaddr* address, socklen_t length, Transport transport,
                           Endpoint& out) noexcept {
  if (address == nullptr || length < sizeof(sa_family_t)) return -EINVAL;
  if (!family_fits(transport, address->sa_family)) return -EINVAL;
  Endpoint parsed;
  parsed.transport = transport;
  if (address->sa_family == AF_UNIX) {
    if (int error = unix_from_sockaddr(address, length, parsed)) return error;
  } else {
    socklen_t needed = address->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (length < needed) return -EINVAL;
    std::memcpy(&parsed.storage, address, needed);  // longer buffers: the rest is not address
    parsed.length = needed;
  }
  out = parsed;
  return 0;
}

}  // namespace ringsock
