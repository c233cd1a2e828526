// Pure helpers for who a visitor is: client address behind trusted proxies,
// IP anonymisation, the visitor cookie. Addresses themselves: util/ip.h.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "util/ip.h"

namespace refgate {

// The visitor's address: `peer` unless it is a trusted proxy, in which case
// X-Forwarded-For is walked right to left to the first untrusted address.
IpAddress ClientIp(const IpAddress& peer, std::string_view forwarded_for,
                   std::span<const Cidr> trusted);

// IPv4 to its /24, IPv6 to its /48, when `anonymize`.
std::string RecordedIp(const IpAddress& ip, bool anonymize);

// The value of cookie `name` in a Cookie header, or "" if absent.
std::string_view FindCookie(std::string_view header, std::string_view name);

// A visitor id we accept back from a cookie: 16 to 64 of [A-Za-z0-9_-].
bool IsWellFormedVisitorId(std::string_view id);

struct CookieOptions {
  std::string name = "rg_vid";
  std::string domain;
  int max_age_days = 90;
  bool secure = true;
};

// The Set-Cookie header value for `visitor_id` (SPEC §2).
std::string SetCookieHeader(const CookieOptions& opt, std::string_view visitor_id);

// s cut to at most max bytes, never inside a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view s, size_t max);

}  // namespace refgate
