// An address from its text, for tests: a failure to parse is a test failure.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "util/ip.h"

namespace refgate {

inline IpAddress Ip(std::string_view s) {
  IpAddress ip;
  EXPECT_TRUE(ParseIp(s, &ip)) << s;
  return ip;
}

}  // namespace refgate
