#include "redirect/attribution.h"

#include "refgate/code_record.h"

namespace refgate {

namespace {
bool Trusted(const IpAddress& ip, std::span<const Cidr> trusted) {
  for (const Cidr& c : trusted) {
    if (CidrContains(c, ip)) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

IpAddress ClientIp(const IpAddress& peer, std::string_view forwarded_for,
                   std::span<const Cidr> trusted) {
  if (trusted.empty() || !Trusted(peer, trusted)) return peer;
  IpAddress client = peer;
  while (!forwarded_for.empty()) {
    size_t comma = forwarded_for.rfind(',');
    std::string_view hop =
        Trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? "" : forwarded_for.substr(0, comma);
    IpAddress ip;
    if (!ParseIp(hop, &ip)) break;  // garbage from an untrusted hop: stop believing
    client = ip;
    if (!Trusted(ip, trusted)) break;
  }
  return client;
}

std::string RecordedIp(const IpAddress& ip, bool anonymize) {
  if (!anonymize) return FormatIp(ip);
  IpAddress masked = ip;
  size_t keep = ip.v4 ? 15 : 6;  // /24 of the v4 tail, or /48
  for (size_t i = keep; i < 16; ++i) masked.bytes[i] = 0;
  return FormatIp(masked);
}

std::string_view FindCookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? "" : header.substr(semi + 1);
    if (pair.size() > name.size() && pair[name.size()] == '=' &&
        pair.substr(0, name.size()) == name) {
      std::string_view v = pair.substr(name.size() + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return {};
}

bool IsWellFormedVisitorId(std::string_view id) { return IsUrlSafeToken(id, 16, 64); }

std::string SetCookieHeader(const CookieOptions& opt, std::string_view visitor_id) {
  std::string s;
  s.reserve(128);
  s.append(opt.name).append("=").append(visitor_id);
  s.append("; Max-Age=").append(std::to_string(int64_t{opt.max_age_days} * 86400));
  s.append("; Path=/; HttpOnly; SameSite=Lax");
  if (opt.secure) s.append("; Secure");
  if (!opt.domain.empty()) s.append("; Domain=").append(opt.domain);
  return s;
}

std::string_view TruncateUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  // Back off continuation bytes (10xxxxxx) so a sequence is never split.
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace refgate
