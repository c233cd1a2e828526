// `refgate log verify` and `refgate log dump` in process (RunLogVerify,
// RunLogDump), on scripted logs: exit statuses and what they print.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "app/app.h"
#include "tests/clicklog/log_test_util.h"

namespace refgate {
namespace {

using clicklog::AppendRecord;
using clicklog::SegmentBytes;
using clicklog::SegmentName;

class LogCmdTest : public testing::Test {
 protected:
  std::string clicks() const { return dir_.path() + "/clicks"; }
  void Segment(uint64_t first, const std::string& data) {
    std::filesystem::create_directories(clicks());
    clicklog::WriteFile(clicks() + "/" + SegmentName(first), data);
  }
  int Verify(std::string* out) {
    testing::internal::CaptureStdout();
    int rc = RunLogVerify(dir_.path());
    *out = testing::internal::GetCapturedStdout();
    return rc;
  }
  int Dump(uint64_t from, std::string* out, std::string* err = nullptr) {
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int rc = RunLogDump(dir_.path(), from);
    *out = testing::internal::GetCapturedStdout();
    std::string e = testing::internal::GetCapturedStderr();
    if (err) *err = e;
    return rc;
  }
  static bool Has(const std::string& out, std::string_view what) {
    return out.find(what) != std::string::npos;
  }

  ScratchDir dir_;
};

TEST_F(LogCmdTest, VerifyOfAnIntactLogIsOk) {
  Segment(1, SegmentBytes(1, 10));
  Segment(11, SegmentBytes(11, 5));
  std::string out;
  EXPECT_EQ(Verify(&out), kExitOk) << out;
  EXPECT_TRUE(Has(out,
                  "2 segments, 15 records, seq 1 to 15 (15 clicks, 0 events, 0 code changes, 0 "
                  "rule changes, 0 payouts, 0 of unknown ignorable types), "
                  "0 damaged ranges, 0 gaps, 0 unreadable records: OK\n"))
      << out;
}

TEST_F(LogCmdTest, VerifyOfNoLogIsAnEmptyOk) {
  std::string out;
  EXPECT_EQ(Verify(&out), kExitOk) << out;
  EXPECT_TRUE(Has(out, "0 segments, 0 records (")) << out;
  EXPECT_TRUE(Has(out, ": OK\n")) << out;
}

TEST_F(LogCmdTest, VerifyReportsAGap) {
  Segment(1, SegmentBytes(1, 5));
  Segment(8, SegmentBytes(8, 3));
  std::string out;
  EXPECT_EQ(Verify(&out), kExitFailure);
  EXPECT_TRUE(Has(out, "GAP: sequence numbers 6 to 7 are missing")) << out;
  EXPECT_TRUE(Has(out, "1 gaps")) << out;
  EXPECT_TRUE(Has(out, ": DAMAGED\n")) << out;
}

TEST_F(LogCmdTest, VerifyReportsDamageInsideASegment) {
  std::string data = SegmentBytes(1, 5);
  const size_t start2 = SegmentBytes(1, 1).size(), start3 = SegmentBytes(1, 2).size();
  data[start2 + 3] ^= 0x10;  // record 2 no longer checks out
  Segment(1, data);
  Segment(6, SegmentBytes(6, 2));
  std::string out;
  EXPECT_EQ(Verify(&out), kExitFailure);
  std::ostringstream damaged;
  damaged << "DAMAGED: segment " << SegmentName(1) << " offset " << start2 << " bytes "
          << start3 - start2;
  EXPECT_TRUE(Has(out, damaged.str())) << out;
  EXPECT_TRUE(Has(out, "GAP: sequence numbers 2 to 2 are missing")) << out;
  EXPECT_TRUE(Has(out, "1 damaged ranges, 1 gaps")) << out;
}

TEST_F(LogCmdTest, ATornTailOfTheNewestSegmentIsNotDamage) {
  Segment(1, SegmentBytes(1, 5));
  std::string newest = SegmentBytes(6, 3);
  Segment(6, newest.substr(0, newest.size() - 7));  // record 8 half written
  std::string out;
  EXPECT_EQ(Verify(&out), kExitOk) << out;
  EXPECT_TRUE(Has(out, "INCOMPLETE TAIL: segment " + SegmentName(6))) << out;
  EXPECT_FALSE(Has(out, "DAMAGED")) << out;
  EXPECT_TRUE(Has(out, "7 records, seq 1 to 7")) << out;
}

TEST_F(LogCmdTest, ATornTailOfAnOlderSegmentIsDamage) {
  std::string older = SegmentBytes(1, 5);
  Segment(1, older.substr(0, older.size() - 7));  // record 5 cut short
  Segment(5, SegmentBytes(5, 3));                 // and written again after a restart
  std::string out;
  EXPECT_EQ(Verify(&out), kExitFailure);
  EXPECT_TRUE(Has(out, "DAMAGED: segment " + SegmentName(1))) << out;
  EXPECT_FALSE(Has(out, "INCOMPLETE TAIL")) << out;
  EXPECT_TRUE(Has(out, "1 damaged ranges, 0 gaps")) << out;
}

TEST_F(LogCmdTest, AnUnknownTypeThatMustNotBeSkippedIsUnreadable) {
  std::string data = SegmentBytes(1, 1);
  AppendRecord(&data, static_cast<clicklog::RecordType>(0x05), 2, "future");
  data += SegmentBytes(3, 1);
  Segment(1, data);
  std::string out;
  EXPECT_EQ(Verify(&out), kExitFailure);
  EXPECT_TRUE(Has(out, "UNREADABLE: segment " + SegmentName(1))) << out;
  EXPECT_TRUE(Has(out, "seq 2, type 0x05")) << out;
  EXPECT_TRUE(Has(out, "1 unreadable records")) << out;
}

TEST_F(LogCmdTest, AnUnknownIgnorableTypeIsCountedNotDamage) {
  std::string data = SegmentBytes(1, 1);
  AppendRecord(&data, static_cast<clicklog::RecordType>(clicklog::kIgnorableBit | 5), 2, "x");
  data += SegmentBytes(3, 1);
  Segment(1, data);
  std::string out;
  EXPECT_EQ(Verify(&out), kExitOk) << out;
  EXPECT_TRUE(Has(out,
                  "(2 clicks, 0 events, 0 code changes, 0 rule changes, 0 payouts, 1 of unknown "
                  "ignorable types)"))
      << out;
}

TEST_F(LogCmdTest, DumpPrintsEachClickFromTheGivenSeqAsOneJsonLine) {
  Segment(1, SegmentBytes(1, 6));
  Segment(7, SegmentBytes(7, 4));
  std::string out;
  ASSERT_EQ(Dump(4, &out), kExitOk);
  std::istringstream lines(out);
  std::string line;
  uint64_t seq = 4;
  for (; std::getline(lines, line); ++seq) {
    boost::json::value v = boost::json::parse(line);
    const ClickRecord want = clicklog::MakeClick(static_cast<int>(seq));
    EXPECT_EQ(v.at("seq").to_number<uint64_t>(), seq);
    EXPECT_EQ(v.at("code").as_string(), want.code);
    EXPECT_EQ(v.at("referrer_id").as_string(), want.referrer_id);
    EXPECT_EQ(v.at("click_id").as_string(), want.click_id);
    EXPECT_EQ(v.at("type").as_string(), want.type == ClickType::kOrphan ? "orphan" : "click");
    EXPECT_EQ(v.at("bot").as_bool(), want.bot);
    EXPECT_EQ(v.at("utm_source").as_string(), want.utm[0]);
    EXPECT_EQ(v.at("status").to_number<int>(), 302);
    char ts[64];
    std::snprintf(ts, sizeof ts, "2026-11-22T10:00:00.%06dZ", static_cast<int>(seq));
    EXPECT_EQ(v.at("ts").as_string(), ts);
  }
  EXPECT_EQ(seq, 11u);  // 4 to 10
}

TEST_F(LogCmdTest, DumpWritesValidJsonForBytesThatAreNotUtf8) {
  ClickRecord c = clicklog::MakeClick(1);
  c.user_agent = "bad \xff\xfe bytes";
  c.utm[2] = "\xc3";  // a cut sequence
  std::string payload, data;
  clicklog::EncodeClick(c, &payload);
  AppendRecord(&data, clicklog::kClick, 1, payload);
  Segment(1, data);
  std::string out;
  ASSERT_EQ(Dump(0, &out), kExitOk);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(out, ec);
  ASSERT_FALSE(ec) << ec.message() << ": " << out;
  EXPECT_TRUE(v.at("user_agent").as_string().starts_with("bad ")) << out;
}

TEST_F(LogCmdTest, DumpSkipsDamageAndSaysSoOnStderr) {
  std::string data = SegmentBytes(1, 3);
  data[SegmentBytes(1, 1).size() + 3] ^= 0x10;  // record 2
  Segment(1, data);
  std::string out, err;
  ASSERT_EQ(Dump(0, &out, &err), kExitOk);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_FALSE(Has(out, "\"seq\":2,")) << out;
  EXPECT_TRUE(Has(err, "damaged bytes")) << err;
}

}  // namespace
}  // namespace refgate
