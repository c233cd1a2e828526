// Wall-clock time and RFC 3339 text, always UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace refgate {

inline constexpr int64_t kSecondsPerDay = 86400;
inline constexpr int64_t kMicrosPerDay = kSecondsPerDay * 1000000;

int64_t NowMicros();

// The monotonic clock in nanoseconds, for intervals and deadlines.
inline int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "2026-11-22T10:00:00Z"
std::string FormatRfc3339(int64_t unix_seconds);
// "2026-11-22T10:00:00.123456Z"
std::string FormatRfc3339Micros(int64_t unix_micros);
// "2026-11-22"
std::string FormatDate(int64_t unix_seconds);

// Accepts RFC 3339 date-times ("2026-11-22T10:00:00Z", "...T10:00:00.5+02:00",
// lower-case t and z too). Fractions of a second are dropped.
std::optional<int64_t> ParseRfc3339(std::string_view s);

// t (Unix microseconds, UTC) plus `months` calendar months, the day
// clamped to the month's end (Jan 31 + 1 month: Feb 28 or 29).
int64_t AddMonths(int64_t t_us, int months);

// "YYYY-MM-DD" to Unix seconds at 00:00 UTC.
std::optional<int64_t> ParseDate(std::string_view s);

// An IMF-fixdate for the HTTP Date header, cached per thread per second.
std::string_view HttpDate();

}  // namespace refgate
