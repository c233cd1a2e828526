// The RocksDB value of a CodeRecord: every field survives a round trip, and
// truncated or garbled bytes are Corruption, never a half-read record.
// (tests/store/code_store_test.cc holds the first round trip.)
#include "store/code_codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace refgate {
namespace {

CodeRecord Full(CodeStatus status) {
  CodeRecord r;
  r.code = "Ab3xY9k";
  r.referrer_id = std::string("cust\0_1", 7);                     // NUL survives
  r.target_url = "https://example.com/" + std::string(300, 'p');  // two-byte length
  r.campaign = "spring \xE2\x82\xAC";
  r.utm = {"referral", "", "camp", "t", std::string(200, 'c')};
  r.redirect_status = 308;
  r.status = status;
  r.created_at = std::numeric_limits<int64_t>::min();
  r.expires_at = -1;
  return r;
}

std::string Encoded(const CodeRecord& r) {
  std::string s;
  EncodeCodeRecord(r, &s);
  return s;
}

TEST(CodeRecordCodec, EveryFieldOfEveryStatusRoundTrips) {
  for (CodeStatus st : {CodeStatus::kActive, CodeStatus::kDisabled, CodeStatus::kDeleted}) {
    CodeRecord r = Full(st);
    CodeRecord back;
    ASSERT_TRUE(DecodeCodeRecord(Encoded(r), &back).ok());
    EXPECT_EQ(back, r);
    r.expires_at.reset();
    r.created_at = std::numeric_limits<int64_t>::max();
    r.redirect_status = 0;
    ASSERT_TRUE(DecodeCodeRecord(Encoded(r), &back).ok());
    EXPECT_EQ(back, r);
  }
}

TEST(CodeRecordCodec, DecodingOverwritesEveryFieldOfAReusedRecord) {
  CodeRecord empty;
  CodeRecord target = Full(CodeStatus::kDisabled);  // expires_at set, strings full
  ASSERT_TRUE(DecodeCodeRecord(Encoded(empty), &target).ok());
  EXPECT_EQ(target, empty);
}

TEST(CodeRecordCodec, EveryTruncationIsCorruption) {
  for (bool expires : {true, false}) {
    CodeRecord r = Full(CodeStatus::kActive);
    if (!expires) r.expires_at.reset();
    std::string enc = Encoded(r);
    for (size_t n = 0; n < enc.size(); ++n) {
      CodeRecord back;
      ASSERT_TRUE(DecodeCodeRecord(std::string_view(enc).substr(0, n), &back).IsCorruption())
          << n << " of " << enc.size() << (expires ? " with expiry" : "");
    }
  }
}

TEST(CodeRecordCodec, UnknownVersionIsCorruption) {
  std::string enc = Encoded(Full(CodeStatus::kActive));
  for (char v : {'\0', '\2', '\xFF'}) {
    enc[0] = v;
    CodeRecord back;
    EXPECT_TRUE(DecodeCodeRecord(enc, &back).IsCorruption()) << int(v);
  }
}

TEST(CodeRecordCodec, UnknownStatusByteIsCorruption) {
  CodeRecord r = Full(CodeStatus::kActive);
  r.expires_at.reset();
  std::string enc = Encoded(r);
  // The tail without expiry: status (1), created_at (8), has_expires (1).
  for (char st : {'\3', '\x7F', '\xFF'}) {
    enc[enc.size() - 10] = st;
    CodeRecord back;
    EXPECT_TRUE(DecodeCodeRecord(enc, &back).IsCorruption()) << int(st);
  }
}

TEST(CodeRecordCodec, ExpiryFlagOtherThanZeroOrOneIsCorruption) {
  // The format says 0 or 1; anything else must not silently mean "never
  // expires", which would bring an expired code back to life.
  std::string enc = Encoded(Full(CodeStatus::kActive));  // has_expires at size - 9
  for (char flag : {'\2', '\x81', '\xFF'}) {
    enc[enc.size() - 9] = flag;
    CodeRecord back;
    EXPECT_TRUE(DecodeCodeRecord(enc, &back).IsCorruption()) << int(flag);
  }
}

TEST(CodeRecordCodec, LengthsPastTheEndAndOverlongVarintsAreCorruption) {
  CodeRecord back;
  EXPECT_TRUE(DecodeCodeRecord(std::string("\x01\xE8\x07"
                                           "abc"),
                               &back)
                  .IsCorruption());
  EXPECT_TRUE(
      DecodeCodeRecord(std::string("\x01") + std::string(11, '\xFF'), &back).IsCorruption());
}

TEST(CodeRecordCodec, BytesAppendedByALaterWriterAreIgnored) {
  CodeRecord r = Full(CodeStatus::kDeleted);
  CodeRecord back;
  ASSERT_TRUE(DecodeCodeRecord(Encoded(r) + std::string("\x05newer", 6), &back).ok());
  EXPECT_EQ(back, r);
}

TEST(CodeRecordCodec, StatusNamesAreThoseOfTheApi) {
  EXPECT_EQ(CodeStatusName(CodeStatus::kActive), "active");
  EXPECT_EQ(CodeStatusName(CodeStatus::kDisabled), "disabled");
  EXPECT_EQ(CodeStatusName(CodeStatus::kDeleted), "deleted");
}

}  // namespace
}  // namespace refgate
