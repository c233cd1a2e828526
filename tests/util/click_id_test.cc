// Click ids: what one minted says verifies; anything else does not.
#include "util/click_id.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <cstdlib>
#include <set>

#include "tests/util/scratch_dir.h"
#include "util/coding.h"

namespace refgate {
namespace {

const std::string kKey(32, 'k');

TEST(ClickId, WhatWasMintedVerifiesWithItsClaims) {
  ClickIdKey key(kKey);
  char buf[kClickIdChars];
  std::string id(key.Mint(1'795'341'840'123'456, "Ab3xY9k", false, buf));
  EXPECT_EQ(id.size(), 48u);
  EXPECT_EQ(
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  ClickIdKey::Claims c;
  ASSERT_TRUE(key.Verify(id, &c));
  EXPECT_EQ(c.ts_us, 1'795'341'840'123'456);
  EXPECT_EQ(c.code_hash, ClickIdKey::CodeHash("Ab3xY9k"));
  EXPECT_NE(c.code_hash, ClickIdKey::CodeHash("Ab3xY9K"));
  EXPECT_FALSE(c.bot);
  ASSERT_TRUE(key.Verify(key.Mint(5, "abc", true, buf), &c));
  EXPECT_TRUE(c.bot);
}

TEST(ClickId, TwoClicksOfOneCodeInOneMicrosecondGetTwoIds) {
  ClickIdKey key(kKey);
  std::set<std::string> ids;
  char buf[kClickIdChars];
  for (int i = 0; i < 10000; ++i) ids.emplace(key.Mint(7, "abc", false, buf));
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(ClickId, EveryOneCharacterAlterationFails) {
  ClickIdKey key(kKey);
  char buf[kClickIdChars];
  const std::string id(key.Mint(1'795'341'840'000'000, "Ab3xY9k", false, buf));
  ClickIdKey::Claims c;
  for (size_t i = 0; i < id.size(); ++i) {
    for (char to : {'A', 'z', '0', '-', '_'}) {
      if (id[i] == to) continue;
      std::string forged = id;
      forged[i] = to;
      EXPECT_FALSE(key.Verify(forged, &c)) << i << " " << forged;
    }
  }
}

TEST(ClickId, AnotherKeysIdsAndMalformedOnesFail) {
  ClickIdKey key(kKey), other(std::string(32, 'o'));
  char buf[kClickIdChars];
  const std::string id(other.Mint(1, "abc", false, buf));
  ClickIdKey::Claims c;
  EXPECT_FALSE(key.Verify(id, &c));
  EXPECT_TRUE(other.Verify(id, &c));
  EXPECT_FALSE(key.Verify("", &c));
  EXPECT_FALSE(key.Verify(id.substr(0, 44), &c));
  EXPECT_FALSE(key.Verify(id + "AAAA", &c));
  EXPECT_FALSE(key.Verify(std::string(48, '.'), &c));
  EXPECT_FALSE(key.Verify("9enKg2hqrsZL1zLGCQc77g", &c));  // an old random click id
}

// The MAC is HMAC-SHA256 as OpenSSL's own HMAC() computes it, cut to 12
// bytes: an independent implementation of RFC 2104 checks ours.
TEST(ClickId, TheMacIsHmacSha256) {
  const std::string key_bytes = "0123456789abcdef0123456789abcdef";
  ClickIdKey key(key_bytes);
  char buf[kClickIdChars];
  const std::string id(key.Mint(1'795'341'840'123'456, "Ab3xY9k", true, buf));
  uint8_t raw[kClickIdBytes];
  ASSERT_TRUE(DecodeBase64UrlGroups(id, raw, sizeof raw));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  ASSERT_NE(
      HMAC(EVP_sha256(), key_bytes.data(), static_cast<int>(key_bytes.size()), raw, 24, mac, &len),
      nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(raw + 24), 12),
            std::string(reinterpret_cast<char*>(mac), 12));
}

TEST(ClickIdKeyLoad, MakesAPrivateKeyFileOnceAndReadsItBack) {
  ScratchDir dir;
  unsetenv("REFGATE_CLICK_KEY");
  std::unique_ptr<ClickIdKey> none, made, again;
  ASSERT_TRUE(ClickIdKey::Load(dir.path(), false, &none).ok());
  EXPECT_EQ(none, nullptr);  // compaction before any serve: nothing verifies
  ASSERT_TRUE(ClickIdKey::Load(dir.path(), true, &made).ok());
  ASSERT_NE(made, nullptr);
  struct stat st;
  ASSERT_EQ(stat((dir.path() + "/click.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(ClickIdKey::Load(dir.path(), false, &again).ok());
  char buf[kClickIdChars];
  ClickIdKey::Claims c;
  EXPECT_TRUE(again->Verify(made->Mint(1, "abc", false, buf), &c));
}

TEST(ClickIdKeyLoad, TheEnvironmentKeyWinsAndMustBeHex) {
  ScratchDir dir;
  setenv("REFGATE_CLICK_KEY", std::string(64, 'a').c_str(), 1);
  std::unique_ptr<ClickIdKey> a;
  ASSERT_TRUE(ClickIdKey::Load(dir.path(), true, &a).ok());
  ClickIdKey same(std::string(32, '\xaa'));
  char buf[kClickIdChars];
  ClickIdKey::Claims c;
  EXPECT_TRUE(same.Verify(a->Mint(1, "abc", false, buf), &c));
  setenv("REFGATE_CLICK_KEY", "not hex", 1);
  EXPECT_TRUE(ClickIdKey::Load(dir.path(), true, &a).IsInvalidArgument());
  unsetenv("REFGATE_CLICK_KEY");
}

}  // namespace
}  // namespace refgate
