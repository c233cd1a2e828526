// The record framing and the click payload, checked against the layout that
// format.h documents rather than against each other alone.
#include "clicklog/format.h"

#include <xxhash.h>

#include <cstdint>
#include <limits>

#include "tests/clicklog/log_test_util.h"
#include "util/coding.h"

namespace refgate::clicklog {
namespace {

// Every field set, each to a value no other field has; strings hold a NUL
// and one is long enough for a two-byte length prefix.
ClickRecord FullClick() {
  ClickRecord c;
  c.ts_us = 1795341600'123456;
  c.type = ClickType::kOrphan;
  c.code = "Ab3xY9k";
  c.referrer_id = "cust_123";
  c.click_id = "clk-0001";
  c.visitor_id = std::string("vis\0tor", 7);
  c.new_visitor = true;
  c.bot = false;
  c.method = "HEAD";
  c.utm = {"newsletter", "email", "spring", "shoes", "banner"};
  c.referer = "https://mail.example.org/inbox";
  c.user_agent = std::string(300, 'u');
  c.ip = "2001:db8::1";
  c.status = 308;
  return c;
}

TEST(RecordFormat, HeaderFieldsSitAtTheirDocumentedOffsets) {
  std::string dst = "abc";  // appended after what is there
  AppendRecord(&dst, kClick, 0x0102030405060708, "hello");
  ASSERT_EQ(dst.size(), 3 + kHeaderSize + 5);
  EXPECT_EQ(dst.substr(0, 3), "abc");
  const char* r = dst.data() + 3;
  EXPECT_EQ(DecodeFixed32(r + 8), 5u);
  EXPECT_EQ(static_cast<uint8_t>(r[12]), 1);
  EXPECT_EQ(DecodeFixed64(r + 13), 0x0102030405060708u);
  EXPECT_EQ(std::string_view(r + 21, 5), "hello");
  EXPECT_EQ(DecodeFixed64(r), XXH3_64bits(r + 8, kHeaderSize - 8 + 5));
}

TEST(RecordFormat, UnsealedClickSealsToTheBytesOfAppendRecord) {
  for (ClickRecord c : {FullClick(), MakeClick(1), MakeClick(5, 0), ClickRecord{}}) {
    std::string payload, sealed, unsealed = "prefix";
    EncodeClick(c, &payload);
    AppendRecord(&sealed, kClick, 77, payload);
    const size_t size = AppendUnsealedClick(&unsealed, c);
    ASSERT_EQ(size, kHeaderSize + payload.size());
    ASSERT_EQ(unsealed.size(), 6 + size);
    char* rec = unsealed.data() + 6;
    EXPECT_EQ(DecodeFixed64(rec), 0u);  // checksum and seq wait for the writer
    EXPECT_EQ(DecodeFixed64(rec + 13), 0u);
    SealRecord(rec, 77);
    EXPECT_EQ(unsealed.substr(6), sealed);
  }
}

TEST(RecordFormat, UnsealedRecordsInOneBufferSealToAppendRecordsBytes) {
  const auto ignorable = static_cast<RecordType>(kIgnorableBit | 2);
  const std::string second("\0\xff payload", 10);
  std::string expected, buf;
  AppendRecord(&expected, kClick, 9, "");
  AppendRecord(&expected, ignorable, 10, second);
  EXPECT_EQ(AppendUnsealedRecord(&buf, kClick, ""), kHeaderSize);
  EXPECT_EQ(AppendUnsealedRecord(&buf, ignorable, second), kHeaderSize + second.size());
  SealRecord(buf.data() + kHeaderSize, 10);  // in either order: each seals only itself
  SealRecord(buf.data(), 9);
  EXPECT_EQ(buf, expected);
}

TEST(ClickPayload, FollowsTheDocumentedLayout) {
  ClickRecord c = FullClick();
  c.bot = true;  // flags 3: both bits
  std::string expected;
  PutVarint64(&expected, static_cast<uint64_t>(c.ts_us));
  expected += '\x02';
  expected += '\x03';
  PutVarint64(&expected, 308);
  for (const std::string* s :
       {&c.code, &c.referrer_id, &c.click_id, &c.visitor_id, &c.method, &c.utm[0], &c.utm[1],
        &c.utm[2], &c.utm[3], &c.utm[4], &c.referer, &c.user_agent, &c.ip}) {
    PutLengthPrefixed(&expected, *s);
  }
  std::string payload;
  EncodeClick(c, &payload);
  EXPECT_EQ(payload, expected);
}

TEST(ClickPayload, EveryFieldRoundTripsInEveryFlagCombination) {
  for (int flags = 0; flags < 4; ++flags) {
    ClickRecord in = FullClick(), out = MakeClick(3);  // decoding overwrites every field
    in.new_visitor = flags & 1;
    in.bot = flags & 2;
    std::string payload;
    EncodeClick(in, &payload);
    ASSERT_TRUE(DecodeClick(payload, &out).ok()) << flags;
    EXPECT_EQ(out, in) << flags;
  }
}

TEST(ClickPayload, TruncatedPayloadIsCorruptionAtEveryLength) {
  std::string payload;
  EncodeClick(FullClick(), &payload);
  for (size_t n = 0; n < payload.size(); ++n) {
    ClickRecord out;
    EXPECT_TRUE(DecodeClick(std::string_view(payload).substr(0, n), &out).IsCorruption()) << n;
  }
}

TEST(ClickPayload, BytesAfterTheLastKnownFieldAreIgnored) {
  ClickRecord qr = FullClick();
  qr.via = Via::kQr;
  std::string payload;
  EncodeClick(qr, &payload);
  payload += std::string("\x05later\x00\xff", 8);
  ClickRecord out;
  ASSERT_TRUE(DecodeClick(payload, &out).ok());
  EXPECT_EQ(out, qr);
}

// via (SPEC §7) came after the first records were written: a link's
// record is byte for byte what it was, and one without via reads as link.
TEST(ClickPayload, ViaIsAppendedOnlyForQrVisits) {
  std::string link, qr;
  ClickRecord c = FullClick();
  EncodeClick(c, &link);
  c.via = Via::kQr;
  EncodeClick(c, &qr);
  ASSERT_EQ(qr.size(), link.size() + 1);
  EXPECT_EQ(qr.substr(0, link.size()), link);
  EXPECT_EQ(qr.back(), '\x01');
  ClickRecord out;
  out.via = Via::kQr;  // reused storage: the decoder sets it anew
  ASSERT_TRUE(DecodeClick(link, &out).ok());
  EXPECT_EQ(out.via, Via::kLink);
  ASSERT_TRUE(DecodeClick(qr, &out).ok());
  EXPECT_EQ(out, c);
  qr.back() = '\x02';  // a newer writer's way of coming: read as a link, not refused
  ASSERT_TRUE(DecodeClick(qr, &out).ok());
  EXPECT_EQ(out.via, Via::kLink);
  // The unsealed form the writer appends carries it too.
  std::string unsealed;
  AppendUnsealedClick(&unsealed, c);
  EXPECT_EQ(unsealed.substr(kHeaderSize), qr.substr(0, qr.size() - 1) + "\x01");
}

TEST(ClickPayload, UnknownClickTypeIsCorruption) {
  std::string payload;
  EncodeClick(FullClick(), &payload);
  const size_t at = VarintLength(static_cast<uint64_t>(FullClick().ts_us));
  for (char type : {'\x00', '\x03', '\x81'}) {
    payload[at] = type;
    ClickRecord out;
    EXPECT_TRUE(DecodeClick(payload, &out).IsCorruption()) << int(type);
  }
}

TEST(SegmentFileName, IsTheFirstSeqZeroPaddedToTwentyDigits) {
  EXPECT_EQ(SegmentName(0), "00000000000000000000.log");
  EXPECT_EQ(SegmentName(12345), "00000000000000012345.log");
  EXPECT_EQ(SegmentName(std::numeric_limits<uint64_t>::max()), "18446744073709551615.log");
}

TEST(SegmentFileName, RoundTripsThroughParse) {
  for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{9}, uint64_t{10}, uint64_t{1} << 40,
                       std::numeric_limits<uint64_t>::max()}) {
    uint64_t parsed = 12345;
    ASSERT_TRUE(ParseSegmentName(SegmentName(seq), &parsed)) << seq;
    EXPECT_EQ(parsed, seq);
  }
}

TEST(SegmentFileName, MalformedNamesAreRefused) {
  for (std::string_view name :
       {"", ".log", "1.log", "0000000000000000001.log", "000000000000000000001.log",
        "0000000000000000000x.log", "-0000000000000000001.log", " 0000000000000000001.log",
        "+0000000000000000001.log", "00000000000000000001.LOG", "00000000000000000001.tmp",
        "00000000000000000001.log.tmp", "00000000000000000001log", "00000000000000000001"}) {
    uint64_t seq;
    EXPECT_FALSE(ParseSegmentName(name, &seq)) << name;
  }
}

TEST(SegmentFileName, NamesBeyondTheLargestSeqAreRefused) {
  for (std::string_view name : {"18446744073709551616.log", "20000000000000000000.log",
                                "30000000000000000000.log", "99999999999999999999.log"}) {
    uint64_t seq = 0;
    EXPECT_FALSE(ParseSegmentName(name, &seq)) << name << " parsed as " << seq;
  }
}

TEST(EventFormat, AnEventRoundTripsAndATruncatedOneIsCorruption) {
  EventRecord e;
  e.type = EventType::kRefund;
  e.event_id = "r1";
  e.received_us = 1;
  e.occurred_us = -5;  // before 1970: a merchant's import
  e.occurred_given = true;
  e.order_id = "o1";
  e.amount_minor = 250;
  e.currency = "EUR";
  e.metadata = {{"k", "v"}, {"z", ""}};
  std::string payload;
  EncodeEvent(e, &payload);
  EventRecord back;
  ASSERT_TRUE(DecodeEvent(payload, &back).ok());
  EXPECT_EQ(back, e);
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_TRUE(DecodeEvent(payload.substr(0, n), &back).IsCorruption()) << n;
  }
}

TEST(EventFormat, TheDigestIgnoresOnlyWhatRefgateAdded) {
  EventRecord a;
  a.event_id = "l1";
  a.received_us = a.occurred_us = 100;
  EventRecord b = a;
  b.received_us = b.occurred_us = 200;  // the same post, taken later
  EXPECT_EQ(EventDigest(a), EventDigest(b));
  b.occurred_given = true;
  EXPECT_NE(EventDigest(a), EventDigest(b));
  b = a;
  b.customer_id = "c";
  EXPECT_NE(EventDigest(a), EventDigest(b));
  EXPECT_EQ(EventDigest(a).size(), 16u);
}

}  // namespace
}  // namespace refgate::clicklog
