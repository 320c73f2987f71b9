// --start-at TIME: the wall-clock instant at which every shard starts to
// measure, so that N instances launched at slightly different moments load
// the server together.
//
//   RFC 3339:     2026-12-04T18:00:00Z, 2026-12-04T19:00:00.250+01:00
//                 ('T' or 't' or one space between date and time; 'Z' or 'z'
//                 or an offset +HH:MM / -HH:MM; up to 9 fraction digits)
//   Unix seconds: 1796407200, 1796407200.25 (up to 9 fraction digits)
//
// Times are Unix nanoseconds (CLOCK_REALTIME's scale). Leap seconds (:60)
// are refused: CLOCK_REALTIME has none to wait for.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace ringsock::tool {

// The latest --start-at accepted, ahead of now: a day.
inline constexpr std::int64_t kMaxStartAheadNs = 86'400'000'000'000LL;

// Either form, into Unix nanoseconds; an error is a sentence.
std::variant<std::int64_t, std::string> parse_time(std::string_view text);

// parse_time, then: not in the past (nor now), not more than a day ahead.
std::variant<std::int64_t, std::string> parse_start_at(std::string_view text,
                                                       std::int64_t now_unix_ns);

// RFC 3339 in UTC with nanoseconds, e.g. "2026-12-04T18:00:00.000000000Z".
std::string format_rfc3339(std::int64_t unix_ns);

// The monotonic-clock instant of a wall-clock instant, from one reading of
// both clocks taken together (CLOCK_REALTIME can step while we wait;
// CLOCK_MONOTONIC cannot, so the wait is on the monotonic clock).
// 0 when the instant is already past at that reading.
std::uint64_t monotonic_at(std::int64_t unix_ns, std::int64_t now_unix_ns,
                           std::uint64_t now_monotonic_ns) noexcept;

}  // namespace ringsock::tool
