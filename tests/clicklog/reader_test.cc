// The reader against damage made on purpose, in the manner of LevelDB's
// log_test.cc.
#include "clicklog/reader.h"

#include "tests/clicklog/log_test_util.h"
#include "util/coding.h"

namespace refgate::clicklog {

TEST(Format, ClickRoundTripsBothTypes) {
  for (int i : {1, 5}) {  // a click and an orphan
    ClickRecord in = MakeClick(i, 512), out;
    std::string payload;
    EncodeClick(in, &payload);
    ASSERT_TRUE(DecodeClick(payload, &out).ok());
    in.seq = out.seq;
    EXPECT_EQ(in, out);
  }
}

TEST(Format, TruncatedPayloadIsCorruption) {
  std::string payload;
  EncodeClick(MakeClick(1), &payload);
  for (size_t n = 0; n < payload.size(); ++n) {
    ClickRecord out;
    EXPECT_FALSE(DecodeClick(std::string_view(payload).substr(0, n), &out).ok()) << n;
  }
}

TEST(Format, SegmentNames) {
  EXPECT_EQ(SegmentName(1), "00000000000000000001.log");
  uint64_t s;
  ASSERT_TRUE(ParseSegmentName("00000000000000000042.log", &s));
  EXPECT_EQ(s, 42u);
  EXPECT_FALSE(ParseSegmentName("0000000000000000042.log", &s));
  EXPECT_FALSE(ParseSegmentName("0000000000000000004x.log", &s));
  EXPECT_FALSE(ParseSegmentName("00000000000000000042.tmp", &s));
}

TEST(Reader, ReadsEveryRecordOfAnIntactSegment) {
  RecordingReporter r;
  EXPECT_EQ(ParseAll(SegmentBytes(10, 50), &r), Seqs(10, 59));
  EXPECT_TRUE(r.damages.empty());
}

TEST(Reader, EmptySegmentHasNoRecordsAndNoDamage) {
  RecordingReporter r;
  EXPECT_TRUE(ParseAll("", &r).empty());
  EXPECT_TRUE(r.damages.empty());
}

TEST(Reader, TruncatedTrailingRecordIsIgnoredAtEveryOffset) {
  const std::string whole = SegmentBytes(1, 3);
  const size_t last_start = SegmentBytes(1, 2).size();
  for (size_t cut = last_start + 1; cut < whole.size(); ++cut) {
    RecordingReporter r;
    EXPECT_EQ(ParseAll(whole.substr(0, cut), &r), Seqs(1, 2)) << cut;
    ASSERT_EQ(r.damages.size(), 1u) << cut;
    EXPECT_TRUE(r.damages[0].at_end);
    EXPECT_EQ(r.damages[0].offset, last_start);
    EXPECT_EQ(r.damages[0].bytes, cut - last_start);
  }
}

TEST(Reader, ChecksumMismatchMidFileIsSkippedAndReported) {
  std::string data = SegmentBytes(1, 5);
  const size_t start2 = SegmentBytes(1, 1).size(), start3 = SegmentBytes(1, 2).size();
  for (size_t at = start2; at < start3; ++at) {  // flip a bit in each byte of record 2
    std::string damaged = data;
    damaged[at] ^= 0x10;
    RecordingReporter r;
    EXPECT_EQ(ParseAll(damaged, &r), (std::vector<uint64_t>{1, 3, 4, 5})) << at;
    ASSERT_EQ(r.damages.size(), 1u);
    EXPECT_EQ(r.damages[0].offset, start2);
    EXPECT_EQ(r.damages[0].bytes, start3 - start2);
    EXPECT_FALSE(r.damages[0].at_end);
  }
}

TEST(Reader, ZeroFilledTailIsReportedNotReturned) {
  std::string data = SegmentBytes(1, 4) + std::string(4096, '\0');
  RecordingReporter r;
  EXPECT_EQ(ParseAll(data, &r), Seqs(1, 4));
  ASSERT_EQ(r.damages.size(), 1u);
  EXPECT_TRUE(r.damages[0].at_end);
  EXPECT_EQ(r.damages[0].bytes, 4096u);
}

TEST(Reader, ZeroTailIsTheEndOfTheNewestSegment) {
  std::string data = SegmentBytes(1, 4) + std::string(4096, '\0');
  RecordingReporter r;
  SegmentParser p(data, "seg", &r, /*zeros_end=*/true);
  Record rec;
  int n = 0;
  while (p.Next(&rec)) ++n;
  EXPECT_EQ(n, 4);
  EXPECT_TRUE(r.damages.empty());
  // Zeros with anything after them are damage all the same.
  std::string mid = SegmentBytes(1, 2) + std::string(64, '\0') + "x";
  RecordingReporter r2;
  SegmentParser p2(mid, "seg", &r2, true);
  while (p2.Next(&rec)) {
  }
  EXPECT_EQ(r2.damages.size(), 1u);
}

TEST(Reader, GarbageBetweenRecordsIsSkipped) {
  std::string data = SegmentBytes(1, 2) + "garbage!" + SegmentBytes(3, 2);
  RecordingReporter r;
  EXPECT_EQ(ParseAll(data, &r), Seqs(1, 4));
  ASSERT_EQ(r.damages.size(), 1u);
  EXPECT_EQ(r.damages[0].bytes, 8u);
}

TEST(Reader, HugeLengthFieldDoesNotReadPastTheEnd) {
  std::string data = SegmentBytes(1, 2);
  EncodeFixed32(data.data() + 8, 0xffffffffu);  // first record claims 4 GiB
  RecordingReporter r;
  EXPECT_EQ(ParseAll(data, &r), Seqs(2, 2));
  EXPECT_EQ(r.damages.size(), 1u);
}

TEST(Reader, RecordOfMaximumSizeRoundTrips) {
  std::string data, payload(kMaxPayload, 'x');
  AppendRecord(&data, kClick, 7, payload);
  SegmentParser p(data, "seg", nullptr);
  Record rec;
  ASSERT_TRUE(p.Next(&rec));
  EXPECT_EQ(rec.payload.size(), kMaxPayload);
  EXPECT_FALSE(p.Next(&rec));
  std::string too_big;
  AppendRecord(&too_big, kClick, 8, std::string(kMaxPayload + 1, 'x'));
  RecordingReporter r;
  EXPECT_TRUE(ParseAll(too_big, &r).empty());
  EXPECT_EQ(r.damages.size(), 1u);
}

TEST(Reader, UnknownIgnorableTypeIsReturnedForTheCallerToSkip) {
  std::string data = SegmentBytes(1, 1);
  AppendRecord(&data, static_cast<RecordType>(kIgnorableBit | 5), 2, "future");
  data += SegmentBytes(3, 1);
  SegmentParser p(data, "seg", nullptr);
  Record rec;
  std::vector<int> types;
  while (p.Next(&rec)) types.push_back(rec.type);
  EXPECT_EQ(types, (std::vector<int>{kClick, kIgnorableBit | 5, kClick}));
}

TEST(Reader, LogReaderCrossesSegmentsAndHonoursFromSeq) {
  ScratchDir dir;
  WriteFile(dir.path() + "/" + SegmentName(1), SegmentBytes(1, 10));
  WriteFile(dir.path() + "/" + SegmentName(11), SegmentBytes(11, 10));
  WriteFile(dir.path() + "/" + SegmentName(21), SegmentBytes(21, 5));
  WriteFile(dir.path() + "/not-a-segment.txt", "x");
  for (uint64_t from : {0u, 1u, 10u, 11u, 17u, 25u, 26u}) {
    LogReader reader(dir.path(), nullptr);
    ASSERT_TRUE(reader.Open(from).ok());
    std::vector<uint64_t> got;
    Record rec;
    while (reader.Next(&rec)) got.push_back(rec.seq);
    EXPECT_TRUE(reader.status().ok());
    EXPECT_EQ(got, from > 25 ? std::vector<uint64_t>{} : Seqs(std::max<uint64_t>(from, 1), 25))
        << from;
  }
}

}  // namespace refgate::clicklog
