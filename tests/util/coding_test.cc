#include "util/coding.h"

#include <gtest/gtest.h>

namespace refgate {

TEST(Coding, Varint64RoundTripsAtEveryLength) {
  std::string buf;
  std::vector<uint64_t> values;
  for (int shift = 0; shift < 64; shift += 7) values.push_back((uint64_t{1} << shift) - 1);
  values.push_back(~uint64_t{0});
  for (uint64_t v : values) PutVarint64(&buf, v);
  std::string_view in(buf);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, TruncatedVarintIsRejected) {
  std::string buf;
  PutVarint64(&buf, uint64_t{1} << 40);
  std::string_view in(buf.data(), buf.size() - 1);
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&in, &v));
}

TEST(Coding, LengthPrefixLongerThanInputIsRejected) {
  std::string buf;
  PutVarint64(&buf, 100);
  buf += "short";
  std::string_view in(buf), s;
  EXPECT_FALSE(GetLengthPrefixed(&in, &s));
}

TEST(Coding, Fixed64RoundTrips) {
  std::string buf;
  PutFixed64(&buf, 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 0x08);  // little-endian
  EXPECT_EQ(DecodeFixed64(buf.data()), 0x0102030405060708ull);
}

TEST(Coding, Base64UrlMatchesRfc4648Vectors) {
  auto enc = [](std::string_view s) {
    return Base64Url(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  EXPECT_EQ(enc("f"), "Zg");
  EXPECT_EQ(enc("fo"), "Zm8");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
  EXPECT_EQ(enc("\xfb\xff"), "-_8");
}

}  // namespace refgate
