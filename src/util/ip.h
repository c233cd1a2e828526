// IP addresses and CIDR ranges: parsing, formatting, matching. Plain values,
// shared by the listeners (the peer's address) and the redirect logic.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace refgate {

// An IPv4 or IPv6 address, IPv4 held as ::ffff:a.b.c.d.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
};

[[nodiscard]] bool ParseIp(std::string_view s, IpAddress* out);
std::string FormatIp(const IpAddress& ip);

struct Cidr {
  IpAddress net;
  int prefix_bits = 0;  // over the 128-bit form
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128).
[[nodiscard]] bool ParseCidr(std::string_view s, Cidr* out);
bool CidrContains(const Cidr& cidr, const IpAddress& ip);

}  // namespace refgate
