#include "util/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace refgate {

bool ParseIp(std::string_view s, IpAddress* out) {
  char buf[INET6_ADDRSTRLEN + 1];
  // inet_pton stops at a NUL: "1.2.3.4\0junk" must not pass as 1.2.3.4.
  if (s.empty() || s.size() >= sizeof buf || s.find('\0') != std::string_view::npos) return false;
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

}  // namespace refgate
