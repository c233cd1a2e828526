// The webhook's signature (checked against Python's hmac, which the e2e
// receiver uses too), its target and its secrets.
#include "webhooks/sender.h"

#include <gtest/gtest.h>

namespace refgate::webhooks {
namespace {

TEST(Signature, IsHmacSha256OfTimeDotBodyOneV1PerSecret) {
  const std::string body = R"({"id":"wh_1"})";
  // python3: hmac.new(secret, b"1700000000." + body, hashlib.sha256).hexdigest()
  EXPECT_EQ(Signature(1700000000, body, {"whsec_a", "whsec_b"}),
            "t=1700000000,"
            "v1=24e0f751dbb9de06e77707f4c2f719cd5a232caec211f8c1a706c157247addad,"
            "v1=73f55fa42c1459921284546cd8ff04c506c2074408fd1adb22802586883fb05e");
  EXPECT_EQ(Signature(1700000000, body, {"whsec_b"}),
            "t=1700000000,v1=73f55fa42c1459921284546cd8ff04c506c2074408fd1adb22802586883fb05e");
  EXPECT_NE(Signature(1700000001, body, {"whsec_b"}), Signature(1700000000, body, {"whsec_b"}));
}

TEST(SplitSecrets, TrimsAndDropsEmptyOnes) {
  EXPECT_EQ(SplitSecrets("a"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(SplitSecrets(" new , old "), (std::vector<std::string>{"new", "old"}));
  EXPECT_EQ(SplitSecrets(",,"), std::vector<std::string>{});
  EXPECT_EQ(SplitSecrets(""), std::vector<std::string>{});
}

TEST(ParseTarget, HttpsAnywhereHttpOnlyToLoopback) {
  Target t;
  ASSERT_TRUE(ParseTarget("https://hooks.example.com/in?k=v", &t).ok());
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.host, "hooks.example.com");
  EXPECT_EQ(t.port, "443");
  EXPECT_EQ(t.path, "/in?k=v");
  ASSERT_TRUE(ParseTarget("http://127.0.0.1:9000", &t).ok());
  EXPECT_FALSE(t.tls);
  EXPECT_EQ(t.port, "9000");
  EXPECT_EQ(t.path, "/");
  ASSERT_TRUE(ParseTarget("http://[::1]:9000/h", &t).ok());
  EXPECT_EQ(t.host, "::1");
  ASSERT_TRUE(ParseTarget("http://localhost/h", &t).ok());
  EXPECT_EQ(t.port, "80");
  for (const char* bad : {"http://example.com/h", "http://10.0.0.1/h", "ftp://127.0.0.1/",
                          "https://user:pw@example.com/", "/relative", "https://", "nonsense"}) {
    EXPECT_TRUE(ParseTarget(bad, &t).IsInvalidArgument()) << bad;
  }
}

}  // namespace
}  // namespace refgate::webhooks
