#include "logic/start_at.hpp"

#include <cstdio>

namespace ringsock::tool {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000LL;

// Days since 1970-01-01 of a proleptic Gregorian date (the well-known
// era-based civil calendar formula).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Exactly `width` digits at text[at].
bool digits(std::string_view text, std::size_t at, std::size_t width, unsigned& out) {
  if (at + width > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return true;
}

// ".123" at text[at] (optional): nanoseconds, advancing at. False on an
// empty or too long fraction.
bool fraction(std::string_view text, std::size_t& at, std::int64_t& ns) {
  ns = 0;
  if (at >= text.size() || text[at] != '.') return true;
  std::size_t end = ++at;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  const std::size_t n = end - at;
  if (n == 0 || n > 9) return false;
  for (std::size_t i = 0; i < 9; ++i) ns = ns * 10 + (i < n ? text[at + i] - '0' : 0);
  at = end;
  return true;
}

std::string bad(std::string_view text, const char* why) {
  return "bad time '" + std::string(text) + "': " + why +
         " (expected RFC 3339 such as 2026-12-04T18:00:00Z, or Unix seconds such as "
         "1796407200.5)";
}

std::variant<std::int64_t, std::string> parse_unix(std::string_view text) {
  std::size_t at = 0;
  std::int64_t seconds = 0;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    if (at >= 11) return bad(text, "too far in the future");
    seconds = seconds * 10 + (text[at++] - '0');
  }
  std::int64_t ns = 0;
  if (at == 0 || !fraction(text, at, ns) || at != text.size())
    return bad(text, "not a number of seconds");
  if (seconds >= INT64_MAX / kNsPerSecond) return bad(text, "too far in the future");
  return seconds * kNsPerSecond + ns;
}

std::variant<std::int64_t, std::string> parse_rfc3339(std::string_view text) {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, hour) ||
      text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second))
    return bad(text, "not a date and time");
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
    return bad(text, "no such date");
  if (hour > 23 || minute > 59 || second > 59)
    return bad(text, second == 60 ? "a leap second cannot be waited for" : "no such time");
  std::size_t at = 19;
  std::int64_t ns = 0;
  if (!fraction(text, at, ns)) return bad(text, "a fraction needs 1 to 9 digits");
  std::int64_t offset_s = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    unsigned oh = 0, om = 0;
    if (!digits(text, at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, om) || oh > 23 || om > 59)
      return bad(text, "bad offset (expected +HH:MM or -HH:MM)");
    offset_s = (text[at] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
    at += 6;
  } else {
    return bad(text, "the time needs 'Z' or an offset such as +01:00");
  }
  if (at != text.size()) return bad(text, "unexpected text after the offset");
  const std::int64_t days = days_from_civil(year, month, day);
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  if (seconds < 0) return bad(text, "before 1970");
  // Nanoseconds since 1970 in 64 bits end in April 2262.
  if (seconds >= INT64_MAX / kNsPerSecond) return bad(text, "after 2262");
  return seconds * kNsPerSecond + ns;
}

std::string duration_text(std::int64_t ns) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
  return buf;
}

}  // namespace

std::variant<std::int64_t, std::string> parse_time(std::string_view text) {
  if (text.size() > 64) return bad(text.substr(0, 64), "too long");
  if (text.find('-') != std::string_view::npos || text.find(':') != std::string_view::npos)
    return parse_rfc3339(text);
  return parse_unix(text);
}

std::variant<std::int64_t, std::string> parse_start_at(std::string_view text,
                                                       std::int64_t now_unix_ns) {
  auto parsed = parse_time(text);
  if (auto* e = std::get_if<std::string>(&parsed)) return "bad value for --start-at: " + *e;
  const std::int64_t at = std::get<std::int64_t>(parsed);
  if (at <= now_unix_ns)
    return "--start-at " + std::string(text) + " (" + format_rfc3339(at) + ") is " +
           duration_text(now_unix_ns - at) + " in the past (now " + format_rfc3339(now_unix_ns) +
           "): pick a time every instance reaches after its launch";
  if (at - now_unix_ns > kMaxStartAheadNs)
    return "--start-at " + std::string(text) + " (" + format_rfc3339(at) + ") is " +
           duration_text(at - now_unix_ns) + " ahead, more than a day (now " +
           format_rfc3339(now_unix_ns) + ")";
  return at;
}

std::string format_rfc3339(std::int64_t unix_ns) {
  std::int64_t seconds = unix_ns / kNsPerSecond, ns = unix_ns % kNsPerSecond;
  if (ns < 0) ns += kNsPerSecond, --seconds;
  std::int64_t days = seconds / 86400, rest = seconds % 86400;
  if (rest < 0) rest += 86400, --days;
  // The inverse of days_from_civil.
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[64];
  snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ",
           static_cast<long long>(y), m, d, static_cast<long long>(rest / 3600),
           static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60),
           static_cast<long long>(ns));
  return buf;
}

std::uint64_t monotonic_at(std::int64_t unix_ns, std::int64_t now_unix_ns,
                           std::uint64_t now_monotonic_ns) noexcept {
  if (unix_ns <= now_unix_ns) return 0;
  return now_monotonic_ns + static_cast<std::uint64_t>(unix_ns - now_unix_ns);
}

}  // namespace ringsock::tool
