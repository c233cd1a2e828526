// The compaction job against scripted click logs with exact expected counts.
#include "rollup/compactor.h"

#include <gtest/gtest.h>
#include <utime.h>

#include <boost/json/serialize.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <variant>

#include "clicklog/click_log.h"
#include "rollup/stats.h"
#include "store/state_db.h"
#include "tests/clicklog/log_test_util.h"

namespace refgate::rollup {
namespace {

using clicklog::AppendRecord;
using clicklog::EncodeClick;
using clicklog::ScratchDir;
using clicklog::SegmentName;

constexpr int64_t kMidnight = 1795305600'000000;  // 2026-11-22T00:00:00Z

ClickRecord Click(std::string ref, std::string code, std::string visitor, bool is_new,
                  int64_t ts_us, bool bot = false, std::array<std::string, 5> utm = {}) {
  ClickRecord c;
  c.ts_us = ts_us;
  c.type = ClickType::kClick;
  c.referrer_id = std::move(ref);
  c.code = std::move(code);
  c.visitor_id = bot ? "" : std::move(visitor);
  c.new_visitor = is_new && !bot;
  c.bot = bot;
  c.utm = std::move(utm);
  c.click_id = "c" + std::to_string(ts_us);
  c.method = "GET";
  c.status = 302;
  return c;
}

// The scripted day: both sides of midnight, two referrers, bots, an orphan.
std::vector<ClickRecord> Script() {
  const int64_t before = kMidnight - 500000, after = kMidnight + 500000;
  ClickRecord orphan = Click("", "nosuch", "v9", false, before);
  orphan.type = ClickType::kOrphan;
  return {
      Click("A", "a1", "v1", true, before),
      Click("A", "a1", "v1", false, before),
      Click("A", "a1", "v2", true, before),
      Click("A", "a1", "", false, before, /*bot=*/true),
      Click("B", "b1", "v4", true, before, false, {"social", "post", "x"}),
      orphan,
      Click("A", "a1", "v1", false, after),
      Click("A", "a2", "v3", true, after, false, {"newsletter", "email", "spring"}),
  };
}

class CompactorTest : public testing::Test {
 protected:
  std::string clicks() const { return dir_.path() + "/clicks"; }
  std::string rollups() const { return dir_.path() + "/rollups"; }

  // Writes records as one new segment, continuing the sequence.
  void WriteSegment(const std::vector<ClickRecord>& recs) {
    std::filesystem::create_directories(clicks());
    std::string data, payload;
    std::string name = SegmentName(next_seq_);
    for (const auto& r : recs) {
      EncodeClick(r, &payload);
      AppendRecord(&data, clicklog::kClick, next_seq_++, payload);
    }
    clicklog::WriteFile(clicks() + "/" + name, data);
  }

  CompactResult Run(CompactOptions opt = {}) {
    opt.data_dir = dir_.path();
    CompactResult r;
    Status s = Compact(opt, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r;
  }

  std::string File(const std::string& rel) const {
    std::ifstream in(rollups() + "/" + rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  ScratchDir dir_;
  uint64_t next_seq_ = 1;
};

const char* kDay1Codes =
    "date,referrer_id,code,clicks,unique_visitors,new_visitors,bot_clicks,conversions,"
    "revenue_minor\r\n"
    "2026-11-21,A,a1,3,2,2,1,0,0\r\n"
    "2026-11-21,B,b1,1,1,1,0,0,0\r\n";
const char* kDay2Codes =
    "date,referrer_id,code,clicks,unique_visitors,new_visitors,bot_clicks,conversions,"
    "revenue_minor\r\n"
    "2026-11-22,A,a1,1,1,0,0,0,0\r\n"
    "2026-11-22,A,a2,1,1,1,0,0,0\r\n";
const char* kDay2Channels =
    "date,referrer_id,code,utm_source,utm_medium,utm_campaign,clicks,unique_visitors\r\n"
    "2026-11-22,A,a1,,,,1,1\r\n"
    "2026-11-22,A,a2,newsletter,email,spring,1,1\r\n";

void ExpectScriptRollup(const CompactorTest& t, std::function<std::string(std::string)> file) {
  EXPECT_EQ(file("daily/date=2026-11-21/codes.csv"), kDay1Codes);
  EXPECT_EQ(file("daily/date=2026-11-22/codes.csv"), kDay2Codes);
  EXPECT_EQ(file("daily/date=2026-11-22/channels.csv"), kDay2Channels);
  std::string refs = file("referrers.csv");
  EXPECT_NE(refs.find("\r\nA,2,5,3,1,0,0,2026-11-21T23:59:59Z,2026-11-22T00:00:00Z\r\n"),
            std::string::npos)
      << refs;
  EXPECT_NE(refs.find("\r\nB,1,1,1,0,0,0,2026-11-21T23:59:59Z,2026-11-21T23:59:59Z\r\n"),
            std::string::npos)
      << refs;
  (void)t;
}

TEST_F(CompactorTest, ExactCountsForAScriptedLog) {
  WriteSegment(Script());
  CompactResult r = Run();
  EXPECT_EQ(r.records, 8u);
  EXPECT_EQ(r.through_seq, 8u);
  EXPECT_EQ(r.dates_published, 2u);
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
  std::string manifest = File("manifest.json");
  EXPECT_NE(manifest.find("\"through_seq\":8"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("daily/date=2026-11-21/codes.csv"), std::string::npos);
  EXPECT_NE(manifest.find("\"schema_version\":2"), std::string::npos);
}

TEST_F(CompactorTest, RerunChangesNothing) {
  WriteSegment(Script());
  Run();
  std::string before = File("daily/date=2026-11-21/codes.csv") + File("referrers.csv");
  CompactResult again = Run();
  EXPECT_EQ(again.records, 0u);
  EXPECT_EQ(again.through_seq, 8u);
  EXPECT_EQ(again.dates_published, 0u);
  EXPECT_EQ(File("daily/date=2026-11-21/codes.csv") + File("referrers.csv"), before);
}

TEST_F(CompactorTest, IncrementalRunsAddUpToOneRun) {
  auto script = Script();
  WriteSegment({script.begin(), script.begin() + 3});
  EXPECT_EQ(Run().records, 3u);
  WriteSegment({script.begin() + 3, script.begin() + 6});
  EXPECT_EQ(Run().records, 3u);
  WriteSegment({script.begin() + 6, script.end()});
  EXPECT_EQ(Run().records, 2u);
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
}

TEST_F(CompactorTest, RunsStoppedPartWayCountEachRecordOnce) {
  WriteSegment(Script());
  for (uint64_t n : {1u, 2u, 4u}) Run({.max_records = n});
  CompactResult last = Run();
  EXPECT_EQ(last.records, 1u);  // 8 - (1 + 2 + 4)
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
}

// A run past [rollup] max_memory_mb commits at a segment's end and goes on
// in a new part: here every segment is a part. The files are the one-run
// files, every record counted once, published once.
TEST_F(CompactorTest, ARunPastItsMemoryBoundCommitsInPartsAndCountsTheSame) {
  auto script = Script();
  WriteSegment({script.begin(), script.begin() + 3});
  WriteSegment({script.begin() + 3, script.begin() + 6});
  WriteSegment({script.begin() + 6, script.end()});
  int commits = 0;
  CompactResult r = Run({.max_memory_bytes = 1, .after_commit = [&] { ++commits; }});
  EXPECT_EQ(r.records, 8u);
  EXPECT_EQ(r.through_seq, 8u);
  EXPECT_EQ(r.dates_published, 2u);
  EXPECT_EQ(commits, 1);  // called once, after the last part
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
  EXPECT_EQ(Run({.max_memory_bytes = 1}).records, 0u);
}

// Attribution across parts decides what one run decides: E1 waits for its
// visitor's click (later in the log), and E2, a later sale of the same
// customer through a code, must not see a binding E1 would only make at
// the end of a part. One run: E1 by the visitor to R1, E2 by the code to R2.
TEST_F(CompactorTest, AttributionInPartsDecidesWhatOneRunDecides) {
  const int64_t t = kMidnight + 3600'000000LL;
  auto sale = [&](std::string id, int64_t at, std::string visitor, std::string code) {
    EventRecord e;
    e.type = EventType::kSale;
    e.event_id = id;
    e.order_id = "o" + id;
    e.customer_id = "cus";
    e.visitor_id = std::move(visitor);
    e.code = std::move(code);
    e.amount_minor = 1000;
    e.currency = "EUR";
    e.occurred_us = e.received_us = at;
    return e;
  };
  std::filesystem::create_directories(clicks());
  auto segment = [&](const std::vector<std::variant<ClickRecord, EventRecord>>& recs) {
    std::string data, payload, name = SegmentName(next_seq_);
    for (const auto& r : recs) {
      if (const auto* c = std::get_if<ClickRecord>(&r)) {
        EncodeClick(*c, &payload);
        AppendRecord(&data, clicklog::kClick, next_seq_++, payload);
      } else {
        clicklog::EncodeEvent(std::get<EventRecord>(r), &payload);
        AppendRecord(&data, clicklog::kEvent, next_seq_++, payload);
      }
    }
    clicklog::WriteFile(clicks() + "/" + name, data);
  };
  segment({Click("R2", "r2code", "v9", true, t), sale("e1", t + 3600'000000LL, "v1", ""),
           Click("R1", "r1code", "v1", true, t + 1800'000000LL)});
  segment({sale("e2", t + 7200'000000LL, "", "r2code")});
  Run({.max_memory_bytes = 1});
  const std::string parts = File("daily/date=2026-11-22/events.csv");
  EXPECT_NE(parts.find(",e1,sale,"), std::string::npos) << parts;
  EXPECT_NE(parts.find("oe1,R1,r1code,visitor,"), std::string::npos) << parts;
  EXPECT_NE(parts.find("oe2,R2,r2code,code,"), std::string::npos) << parts;
  std::filesystem::remove_all(rollups());
  Run();
  EXPECT_EQ(File("daily/date=2026-11-22/events.csv"), parts);
}

// A part that starts in a date the part before it ended in looks up only
// the rows that part wrote (Aggregate::KnownRows): the rows it wrote are
// found and added to, a full day row still folds new channels into
// "(other)", a row of the first part untouched by the second is found by
// the third, and the files are those of one part.
TEST_F(CompactorTest, APartFindsTheRowsOfTheDateThePartBeforeItEndedIn) {
  auto at = [](std::string code, std::string visitor, int i, std::string src) {
    return Click("A", code, visitor, true, kMidnight + i, false, {src, "m", "c"});
  };
  std::vector<ClickRecord> first;
  for (int i = 0; i < 1000; ++i)
    first.push_back(at("a1", "v" + std::to_string(i), i, "s" + std::to_string(i)));
  WriteSegment(first);  // a1's day row full
  WriteSegment(
      {at("a1", "w1", 2000, "s0"), at("a1", "w2", 2001, "late"), at("a2", "w3", 2002, "y")});
  WriteSegment({at("a1", "v0", 3000, "s0"), at("a2", "w4", 3001, "y"),
                at("a1", "w5", 3002, "late2"), at("a1", "w6", 3003, "s5")});
  EXPECT_EQ(Run({.max_memory_bytes = 1}).records, 1007u);
  const std::string codes = File("daily/date=2026-11-22/codes.csv");
  const std::string channels = File("daily/date=2026-11-22/channels.csv");
  EXPECT_NE(codes.find("\r\n2026-11-22,A,a1,1005,1004,1005,0,0,0\r\n"), std::string::npos) << codes;
  EXPECT_NE(codes.find("\r\n2026-11-22,A,a2,2,2,2,0,0,0\r\n"), std::string::npos) << codes;
  EXPECT_NE(channels.find("\r\n2026-11-22,A,a1,s0,m,c,3,2\r\n"), std::string::npos);
  EXPECT_NE(channels.find("\r\n2026-11-22,A,a1,s5,m,c,2,2\r\n"), std::string::npos);
  EXPECT_NE(channels.find("\r\n2026-11-22,A,a1,(other),,,2,2\r\n"), std::string::npos);
  EXPECT_NE(channels.find("\r\n2026-11-22,A,a2,y,m,c,2,2\r\n"), std::string::npos);
  std::filesystem::remove_all(rollups());
  Run();  // one part
  EXPECT_EQ(File("daily/date=2026-11-22/codes.csv"), codes);
  EXPECT_EQ(File("daily/date=2026-11-22/channels.csv"), channels);
}

// max_records counts across the parts.
TEST_F(CompactorTest, PartsShareOneRecordLimit) {
  auto script = Script();
  WriteSegment({script.begin(), script.begin() + 3});
  WriteSegment({script.begin() + 3, script.end()});
  EXPECT_EQ(Run({.max_memory_bytes = 1, .max_records = 5}).records, 5u);
  EXPECT_EQ(Run({.max_memory_bytes = 1}).records, 3u);
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
}

TEST_F(CompactorTest, CrashBetweenCommitAndPublishIsFinishedByTheNextRun) {
  WriteSegment(Script());
  struct Crash {};
  EXPECT_THROW(Run({.after_commit = [] { throw Crash{}; }}), Crash);
  EXPECT_FALSE(std::filesystem::exists(rollups() + "/manifest.json"));
  CompactResult r = Run();
  EXPECT_EQ(r.records, 0u);          // already counted...
  EXPECT_EQ(r.dates_published, 2u);  // ...but not yet published
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
}

TEST_F(CompactorTest, ConcurrentRunsNeverDoubleCount) {
  WriteSegment(Script());
  std::vector<std::thread> runs;
  std::atomic<uint64_t> counted{0};
  for (int i = 0; i < 4; ++i) {
    runs.emplace_back([&] {
      CompactOptions opt;
      opt.data_dir = dir_.path();
      CompactResult r;
      EXPECT_TRUE(Compact(opt, &r).ok());
      counted += r.records;
    });
  }
  for (auto& t : runs) t.join();
  EXPECT_EQ(counted.load(), 8u);
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
}

// RFC 4180, enough for the tests: quoted fields with doubled quotes.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.emplace_back(1);  // a row ends with CRLF (RFC 4180); a bare LF is text
      ++i;
    } else {
      rows.back().back() += c;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

TEST_F(CompactorTest, HostileChannelsAreQuotedAndFoldAfterAThousand) {
  std::vector<ClickRecord> recs;
  for (int i = 0; i < 5000; ++i) {
    std::string src = i % 4 == 0   ? "=cmd|' /C calc'!A" + std::to_string(i)
                      : i % 4 == 1 ? "a,b\"c\"" + std::to_string(i)
                      : i % 4 == 2 ? "line\nbreak" + std::to_string(i)
                                   : std::string("nul\0x", 5) + std::to_string(i);
    recs.push_back(
        Click("A", "a1", "v" + std::to_string(i), true, kMidnight + i, false, {src, "m", "c"}));
  }
  WriteSegment(recs);
  Run();
  auto rows = ParseCsv(File("daily/date=2026-11-22/channels.csv"));
  ASSERT_EQ(rows.size(), 1u + 1000u + 1u);  // header, kept rows, "(other)"
  uint64_t clicks = 0;
  size_t other = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 8u) << i;
    clicks += std::stoull(rows[i][6]);
    const std::string& src = rows[i][3];
    if (src == "(other)") {
      ++other;
      EXPECT_EQ(rows[i][6], "4000");
    }
    EXPECT_NE(src.front(), '=') << src;  // neutralised: '=... became ''=...
  }
  EXPECT_EQ(other, 1u);
  EXPECT_EQ(clicks, 5000u);
  bool found = false;
  for (auto& r : rows) found |= r[3] == "a,b\"c\"1";
  EXPECT_TRUE(found);  // a quoted field round-trips exactly
  // More clicks later for a channel already kept still count as that channel.
  WriteSegment({Click("A", "a1", "vx", false, kMidnight + 9000, false, recs[0].utm)});
  Run();
  auto again = ParseCsv(File("daily/date=2026-11-22/channels.csv"));
  EXPECT_EQ(again.size(), rows.size());
}

TEST_F(CompactorTest, RetentionDeletesOnlyOldRolledUpSealedSegments) {
  auto script = Script();
  WriteSegment({script.begin(), script.begin() + 4});  // seq 1-4
  WriteSegment({script.begin() + 4, script.end()});    // seq 5-8: the newest
  struct utimbuf old {
    0, 1000
  };  // 1970
  for (auto& e : std::filesystem::directory_iterator(clicks())) {
    ASSERT_EQ(utime(e.path().c_str(), &old), 0);
  }
  CompactResult r = Run({.retention_days = 30});
  EXPECT_EQ(r.segments_deleted, 1u);
  EXPECT_FALSE(std::filesystem::exists(clicks() + "/" + SegmentName(1)));
  EXPECT_TRUE(std::filesystem::exists(clicks() + "/" + SegmentName(5)));
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
}

TEST_F(CompactorTest, StatsAgreeWithTheFiles) {
  WriteSegment(Script());
  Run();
  std::unique_ptr<StateDb> db;
  ASSERT_TRUE(StateDb::Open(rollups() + "/state", true, &db).ok());
  boost::json::object o;
  ASSERT_TRUE(
      ReferrerStats(db.get(), "A", (kMidnight / 1000000) - 86400, kMidnight / 1000000, &o).ok());
  EXPECT_EQ(o["clicks"].as_uint64(), 5u);
  EXPECT_EQ(o["unique_visitors"].as_uint64(), 3u);
  EXPECT_EQ(o["bot_clicks"].as_uint64(), 1u);
  EXPECT_EQ(o["by_day"].as_array().size(), 2u);
  EXPECT_EQ(o["by_code"].as_array().size(), 2u);
  EXPECT_EQ(boost::json::serialize(o["by_code"].as_array()[0]),
            R"({"code":"a1","clicks":4,"unique_visitors":2,"new_visitors":2,"bot_clicks":1,)"
            R"("conversions":0,"revenue_minor":0})");
  boost::json::object one_day;
  ASSERT_TRUE(
      ReferrerStats(db.get(), "A", kMidnight / 1000000, kMidnight / 1000000, &one_day).ok());
  EXPECT_EQ(one_day["clicks"].as_uint64(), 2u);
  boost::json::object none;
  ASSERT_TRUE(ReferrerStats(nullptr, "A", 0, 86400, &none).ok());
  EXPECT_EQ(none["clicks"].as_uint64(), 0u);
}

// The writer seals segments (cutting their zero tails) while compaction reads
// them: no crash, and in the end every click counted exactly once.
TEST_F(CompactorTest, CompactionBesideAWriterThatRollsSegments) {
  clicklog::Options lo;
  lo.dir = clicks();
  lo.durability = clicklog::Durability::kNone;
  lo.segment_bytes = 8192;
  std::unique_ptr<clicklog::ClickLog> log;
  std::vector<std::string> notes;
  ASSERT_TRUE(clicklog::ClickLog::Open(lo, &log, &notes).ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 3000; ++i) {
      log->Append(
          Click("W", "w" + std::to_string(i % 7), "v" + std::to_string(i), true, kMidnight + i),
          nullptr);
      if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    done = true;
  });
  uint64_t counted = 0;
  while (!done) counted += Run().records;
  writer.join();
  log->Close();
  counted += Run().records;
  EXPECT_EQ(counted, 3000u);
  std::string refs = File("referrers.csv");
  EXPECT_NE(refs.find("\nW,7,3000,3000,0,0,0,"), std::string::npos) << refs;
}

// --- Records that are not clicks -------------------------------------------

// A log whose clicks are followed by a record of an unknown type with the
// ignorable bit, a click whose payload does not decode (checksummed all the
// same), and a damaged range: compaction counts the clicks, passes over the
// rest, reports it, and its checkpoint is the last record it read, so
// nothing is held back behind records it cannot use.
TEST_F(CompactorTest, CheckpointAdvancesPastIgnorableUndecodableAndDamagedRecords) {
  std::filesystem::create_directories(clicks());
  std::string data, payload;
  EncodeClick(Click("A", "a1", "v1", true, kMidnight), &payload);
  AppendRecord(&data, clicklog::kClick, 1, payload);
  const size_t damaged_at = data.size();
  AppendRecord(&data, clicklog::kClick, 2, payload);
  data[damaged_at + 30] ^= 0x40;  // record 2 no longer checks out
  AppendRecord(&data, static_cast<clicklog::RecordType>(0x80 | 0x11), 3, "a future record");
  AppendRecord(&data, clicklog::kClick, 4, std::string_view("\xff\xff", 2));
  AppendRecord(&data, static_cast<clicklog::RecordType>(0x80 | 0x12), 5, "");
  clicklog::WriteFile(clicks() + "/" + SegmentName(1), data);
  // A newer segment, so that the first is sealed and its damage is no torn tail.
  EncodeClick(Click("A", "a1", "v2", true, kMidnight + 1), &payload);
  std::string next;
  AppendRecord(&next, clicklog::kClick, 6, payload);
  AppendRecord(&next, static_cast<clicklog::RecordType>(0x80 | 0x11), 7, "the last record");
  clicklog::WriteFile(clicks() + "/" + SegmentName(6), next);

  CompactResult r = Run();
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.skipped, 3u);
  EXPECT_EQ(r.undecodable, 1u);
  EXPECT_EQ(r.damaged_ranges, 1u);
  EXPECT_GT(r.damaged_bytes, 0u);
  EXPECT_EQ(r.through_seq, 7u);  // not 6, the last click
  EXPECT_NE(File("referrers.csv").find("\r\nA,1,2,2,0,0,0,"), std::string::npos);
  // The next run finds nothing new, and reports nothing again.
  CompactResult again = Run();
  EXPECT_EQ(again.records + again.skipped + again.damaged_ranges, 0u);
  EXPECT_EQ(again.through_seq, 7u);
}

// A record of an unknown type without the ignorable bit is one a newer
// writer needs counted: the run stops before it, keeps what came first, and
// says which record it is.
TEST_F(CompactorTest, AnUnknownRecordThatIsNotIgnorableStopsTheRunAfterCommittingWhatCameFirst) {
  std::filesystem::create_directories(clicks());
  std::string data, payload;
  EncodeClick(Click("A", "a1", "v1", true, kMidnight), &payload);
  AppendRecord(&data, clicklog::kClick, 1, payload);
  AppendRecord(&data, static_cast<clicklog::RecordType>(0x21), 2, "must not be dropped");
  AppendRecord(&data, clicklog::kClick, 3, payload);
  clicklog::WriteFile(clicks() + "/" + SegmentName(1), data);
  CompactOptions opt;
  opt.data_dir = dir_.path();
  CompactResult r;
  Status s = Compact(opt, &r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("record 2"), std::string::npos) << s.ToString();
  EXPECT_EQ(r.records, 1u);
  EXPECT_EQ(r.through_seq, 1u);
  EXPECT_NE(File("referrers.csv").find("\r\nA,1,1,1,0,0,0,"), std::string::npos);
}

// --- Faults while publishing ------------------------------------------------

// Fails the n-th write or sync of a publish with `err`, or "kills" the run
// there by throwing (what a kill leaves on disk: a temporary file written,
// never renamed). Counts the calls made after the fault: there must be none.
class FaultyIo : public FileIo {
 public:
  enum class At { kWrite, kSync };
  struct Killed {};
  FaultyIo(At at, int nth, int err) : at_(at), nth_(nth), err_(err) {}

  int Write(int fd, const char* data, size_t n, uint64_t offset) override {
    after_fault_ += fired_;
    if (at_ == At::kWrite && ++count_ == nth_) return Fire();
    return FileIo::Write(fd, data, n, offset);
  }
  int Sync(int fd) override {
    after_fault_ += fired_;
    if (at_ == At::kSync && ++count_ == nth_) return Fire();
    return FileIo::Sync(fd);
  }
  int SyncDir(const std::string& dir) override {
    after_fault_ += fired_;
    return FileIo::SyncDir(dir);
  }

  bool fired() const { return fired_; }
  int after_fault() const { return after_fault_; }

 private:
  int Fire() {
    fired_ = true;
    if (err_ == 0) throw Killed{};
    return err_;
  }
  At at_;
  int nth_, err_, count_ = 0, after_fault_ = 0;
  bool fired_ = false;
};

using Files = std::map<std::string, std::string>;

// The published files (not the job's RocksDB state, not its lock).
Files Snapshot(const std::string& dir) {
  Files files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    std::string name = std::filesystem::relative(e.path(), dir).string();
    if (!e.is_regular_file() || name == ".lock" || name.starts_with("state/")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    files[name] = ss.str();
  }
  return files;
}

uint64_t ManifestThrough(const std::string& manifest) {
  size_t at = manifest.find("\"through_seq\":");
  return at == std::string::npos ? 0 : std::stoull(manifest.substr(at + 14));
}

class PublishFaults : public CompactorTest,
                      public testing::WithParamInterface<std::pair<FaultyIo::At, int>> {};

// Every write and every sync of a publish fails in turn. Each failed run
// reports the error, stops at once, and leaves only whole files: each one
// as the last good publish left it, or as the final one. The next good run
// publishes everything.
TEST_P(PublishFaults, LeaveOnlyWholeFilesAndTheNextRunFinishes) {
  auto [at, err] = GetParam();
  WriteSegment(Script());
  Run({.max_records = 3});  // publishes the first three records
  const Files old = Snapshot(rollups());
  std::vector<Files> seen;
  int faults = 0;
  for (int n = 1;; ++n) {
    FaultyIo io(at, n, err);
    CompactOptions opt{.data_dir = dir_.path(), .io = &io};
    CompactResult r;
    Status s;
    bool killed = false;
    try {
      s = Compact(opt, &r);
    } catch (const FaultyIo::Killed&) {
      killed = true;
    }
    EXPECT_EQ(killed, err == 0 && io.fired());
    if (!io.fired()) {
      ASSERT_TRUE(s.ok()) << s.ToString();
      break;  // n is past the publish's last call: it ran to the end
    }
    ++faults;
    EXPECT_EQ(io.after_fault(), 0) << "a call after the fault at " << n;
    if (err != 0) {
      EXPECT_TRUE(s.IsIOError()) << s.ToString();
      EXPECT_NE(s.ToString().find(std::strerror(err)), std::string::npos) << s.ToString();
    }
    seen.push_back(Snapshot(rollups()));
  }
  EXPECT_GE(faults, 4);  // at least codes, channels, referrers and the manifest
  const Files final_files = Snapshot(rollups());
  ExpectScriptRollup(*this, [&](std::string f) { return File(f); });
  for (const Files& files : seen) {
    for (const auto& [name, content] : files) {
      SCOPED_TRACE(name);
      if (name.ends_with(".tmp")) {
        EXPECT_EQ(err, 0) << "a failed run left its temporary file";
        EXPECT_EQ(final_files.count(name), 0u) << "the next run left it there";
        continue;
      }
      if (name == "manifest.json") {
        uint64_t through = ManifestThrough(content);
        EXPECT_TRUE(through == ManifestThrough(old.at(name)) ||
                    through == ManifestThrough(final_files.at(name)));
        continue;
      }
      bool is_old = old.count(name) && old.at(name) == content;
      bool is_final = final_files.count(name) && final_files.at(name) == content;
      EXPECT_TRUE(is_old || is_final) << content;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, PublishFaults,
    testing::Values(std::pair{FaultyIo::At::kWrite, ENOSPC}, std::pair{FaultyIo::At::kWrite, EIO},
                    std::pair{FaultyIo::At::kSync, ENOSPC}, std::pair{FaultyIo::At::kSync, EIO},
                    std::pair{FaultyIo::At::kSync, 0} /* killed between write and rename */),
    [](const auto& info) {
      std::string at = info.param.first == FaultyIo::At::kWrite ? "Write" : "Sync";
      int err = info.param.second;
      return at + (err == ENOSPC ? "Enospc" : err == EIO ? "Eio" : "Killed");
    });

}  // namespace
}  // namespace refgate::rollup
