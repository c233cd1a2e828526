// Addresses and ranges (util/ip.h).
#include "util/ip.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "tests/util/parse_ip.h"

namespace refgate {
namespace {

TEST(Ip, CidrMatching) {
  Cidr c;
  ASSERT_TRUE(ParseCidr("10.0.0.0/8", &c));
  EXPECT_TRUE(CidrContains(c, Ip("10.200.1.1")));
  EXPECT_FALSE(CidrContains(c, Ip("11.0.0.1")));
  EXPECT_FALSE(CidrContains(c, Ip("::ffff:0:0")));  // v6 never matches a v4 range
  ASSERT_TRUE(ParseCidr("2001:db8::/32", &c));
  EXPECT_TRUE(CidrContains(c, Ip("2001:db8:ffff::1")));
  ASSERT_TRUE(ParseCidr("192.0.2.7", &c));
  EXPECT_TRUE(CidrContains(c, Ip("192.0.2.7")));
  EXPECT_FALSE(CidrContains(c, Ip("192.0.2.8")));
  EXPECT_FALSE(ParseCidr("10.0.0.0/", &c));
  EXPECT_FALSE(ParseCidr("10.0.0.0/33", &c));
  EXPECT_FALSE(ParseCidr("nonsense", &c));
}

TEST(Ip, FormatIpV4AgreesWithInetNtop) {
  for (uint32_t v : {0u, 1u, 9u, 10u, 99u, 100u, 255u, 256u, 0x0a000005u, 0x7f000001u, 0xc0a80101u,
                     0xfffffffeu, 0xffffffffu, 0x01020304u, 0xdeadbeefu}) {
    IpAddress ip;
    ip.v4 = true;
    ip.bytes[10] = ip.bytes[11] = 0xff;
    for (int i = 0; i < 4; ++i) ip.bytes[12 + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
    char want[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, ip.bytes.data() + 12, want, sizeof want), nullptr);
    EXPECT_EQ(FormatIp(ip), want);
  }
}

TEST(Ip, ParsesBothFamiliesAndRefusesTheRest) {
  EXPECT_TRUE(Ip("127.0.0.1").v4);
  EXPECT_FALSE(Ip("::1").v4);
  EXPECT_EQ(FormatIp(Ip("2001:DB8:0::1")), "2001:db8::1");
  IpAddress ip;
  for (std::string_view bad : std::initializer_list<std::string_view>{
           "", "1.2.3", "1.2.3.256", "[::1]", "::1::2", "localhost", "1.2.3.4 ",
           std::string_view("1.2.3.4\0", 8)}) {
    EXPECT_FALSE(ParseIp(bad, &ip)) << bad;
  }
}

}  // namespace
}  // namespace refgate
