#include "util/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace refgate {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m, d, hh, mm, ss;
};

Civil ToCivil(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t secs = t - days * 86400;
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2),
          m,
          d,
          static_cast<unsigned>(secs / 3600),
          static_cast<unsigned>(secs / 60 % 60),
          static_cast<unsigned>(secs % 60)};
}

bool Digits(std::string_view s, size_t pos, size_t n, unsigned* out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  *out = v;
  return true;
}

bool ValidDate(unsigned y, unsigned m, unsigned d) {
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

}  // namespace

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatRfc3339(int64_t t) {
  Civil c = ToCivil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02uZ", static_cast<long long>(c.y),
                c.m, c.d, c.hh, c.mm, c.ss);
  return buf;
}

std::string FormatRfc3339Micros(int64_t us) {
  int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  Civil c = ToCivil(secs);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%06lldZ",
                static_cast<long long>(c.y), c.m, c.d, c.hh, c.mm, c.ss,
                static_cast<long long>(us - secs * 1000000));
  return buf;
}

std::string FormatDate(int64_t t) { return FormatRfc3339(t).substr(0, 10); }

std::optional<int64_t> ParseDate(std::string_view s) {
  unsigned y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d) || !ValidDate(y, m, d)) {
    return std::nullopt;
  }
  return DaysFromCivil(y, m, d) * 86400;
}

std::optional<int64_t> ParseRfc3339(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  auto day = ParseDate(s.substr(0, 10));
  unsigned hh, mm, ss;
  if (!day || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &hh) || s[13] != ':' ||
      !Digits(s, 14, 2, &mm) || s[16] != ':' || !Digits(s, 17, 2, &ss) || hh > 23 || mm > 59 ||
      ss > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  int64_t offset = 0;
  std::string_view zone = s.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else {
    unsigned oh, om;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !Digits(zone, 1, 2, &oh) ||
        zone[3] != ':' || !Digits(zone, 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = static_cast<int64_t>(oh * 3600 + om * 60) * (zone[0] == '+' ? 1 : -1);
  }
  if (ss == 60) ss = 59;  // a leap second counts as the second before it
  return *day + hh * 3600 + mm * 60 + ss - offset;
}

std::string_view HttpDate() {
  thread_local time_t last = -1;
  thread_local char buf[32];
  time_t now = std::time(nullptr);
  if (now != last) {
    struct tm tm;
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  return buf;
}

int64_t AddMonths(int64_t t_us, int months) {
  const int64_t secs = t_us >= 0 ? t_us / 1000000 : (t_us - 999999) / 1000000;
  const int64_t rest_us = t_us - secs * 1000000;
  const Civil c = ToCivil(secs);
  const int64_t total = c.y * 12 + (c.m - 1) + months;
  const int64_t y = total >= 0 ? total / 12 : (total - 11) / 12;
  const unsigned m = static_cast<unsigned>(total - y * 12) + 1;
  static constexpr unsigned kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const unsigned len = m == 2 && leap ? 29 : kLen[m - 1];
  const int64_t day = DaysFromCivil(y, m, c.d < len ? c.d : len);
  return (day * 86400 + c.hh * 3600 + c.mm * 60 + c.ss) * 1000000 + rest_us;
}

}  // namespace refgate
