#include "redirect/attribution.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "refgate/code_record.h"

namespace refgate {

bool ParseIp(std::string_view s, IpAddress* out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  *out = IpAddress{};
  uint8_t v4[4];
  if (inet_pton(AF_INET, buf, v4) == 1) {
    out->bytes[10] = out->bytes[11] = 0xff;
    std::memcpy(out->bytes.data() + 12, v4, 4);
    out->v4 = true;
    return true;
  }
  return inet_pton(AF_INET6, buf, out->bytes.data()) == 1;
}

std::string FormatIp(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (ip.v4) {
    // glibc's inet_ntop formats IPv4 with sprintf: 4% of a redirect's
    // instructions. std::to_chars does the same job for a twentieth.
    std::string out;
    out.reserve(15);
    for (int i = 12; i < 16; ++i) {
      char octet[3];
      auto r = std::to_chars(octet, octet + sizeof octet, ip.bytes[i]);  // cannot fail
      if (i > 12) out.push_back('.');
      out.append(octet, r.ptr);
    }
    return out;
  }
  const char* s = inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof buf);
  return s ? s : "";
}

bool ParseCidr(std::string_view s, Cidr* out) {
  size_t slash = s.find('/');
  if (!ParseIp(s.substr(0, slash), &out->net)) return false;
  int max = out->net.v4 ? 32 : 128;
  int bits = max;
  if (slash != std::string_view::npos) {
    std::string_view p = s.substr(slash + 1);
    if (p.empty() || p.size() > 3) return false;
    bits = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      bits = bits * 10 + (c - '0');
    }
    if (bits > max) return false;
  }
  out->prefix_bits = out->net.v4 ? bits + 96 : bits;
  return true;
}

bool CidrContains(const Cidr& cidr, const IpAddress& ip) {
  if (cidr.net.v4 != ip.v4) return false;
  int bits = cidr.prefix_bits;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((cidr.net.bytes[i] & mask) != (ip.bytes[i] & mask)) return false;
  }
  return true;
}

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
