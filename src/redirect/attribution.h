// Pure helpers for who a visitor is: client address behind trusted proxies,
// IP anonymisation, the visitor cookie.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace refgate {

// An IPv4 or IPv6 address, IPv4 held as ::ffff:a.b.c.d.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
};

bool ParseIp(std::string_view s, IpAddress* out);
std::string FormatIp(const IpAddress& ip);

struct Cidr {
  IpAddress net;
  int prefix_bits = 0;  // over the 128-bit form
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128).
bool ParseCidr(std::string_view s, Cidr* out);
bool CidrContains(const Cidr& cidr, const IpAddress& ip);

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
