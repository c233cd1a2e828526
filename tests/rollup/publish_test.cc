// Publish: the CSV files and manifest it writes from rollup rows, and what
// it leaves behind when a write, sync or row fails.
#include "rollup/publish.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rollup/rows.h"
#include "tests/clicklog/faulty_io.h"
#include "tests/rollup/visitors.h"
#include "tests/util/scratch_dir.h"

namespace refgate::rollup {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr int64_t kMidnightUs = 1795305600'000000;  // 2026-11-22T00:00:00Z

constexpr std::string_view kCodesHeader =
    "date,referrer_id,code,clicks,unique_visitors,new_visitors,bot_clicks,conversions,"
    "revenue_minor\r\n";
constexpr std::string_view kChannelsHeader =
    "date,referrer_id,code,utm_source,utm_medium,utm_campaign,clicks,unique_visitors\r\n";
constexpr std::string_view kReferrersHeader =
    "referrer_id,codes,clicks,unique_visitors,bot_clicks,conversions,revenue_minor,"
    "first_click_at,last_click_at\r\n";

// FaultyIo, and a directory sync that can fail too.
struct PublishIo : clicklog::FaultyIo {
  std::atomic<int> fail_dir_syncs{0};
  int SyncDir(const std::string& dir) override {
    if (fail_dir_syncs > 0) {
      --fail_dir_syncs;
      return EIO;
    }
    return FileIo::SyncDir(dir);
  }
};

class PublishTest : public testing::Test {
 protected:
  ScratchDir dir_;  // declared first: removed only after the database is closed
  void SetUp() override {
    ASSERT_TRUE(StateDb::Open(dir_.path() + "/state", false, &db_).ok());
    fs::create_directories(out());  // as the compactor does before it publishes
  }
  std::string out() const { return dir_.path() + "/rollups"; }

  void PutDay(const std::string& date, const std::string& ref, const std::string& code,
              DayCodeRow r) {
    std::string v;
    Encode(r, &v);
    ASSERT_TRUE(db_->Commit({{DayCodeKey(date, ref, code), v}}).ok());
  }
  void PutChannel(const std::string& date, const std::string& ref, const std::string& code,
                  const std::string& src, const std::string& med, const std::string& camp,
                  ChannelRow r) {
    std::string v;
    Encode(r, &v);
    ASSERT_TRUE(db_->Commit({{ChannelKey(date, ref, code, src, med, camp), v}}).ok());
  }
  void PutReferrer(const std::string& ref, ReferrerRow r) {
    std::string v;
    Encode(r, &v);
    ASSERT_TRUE(db_->Commit({{ReferrerKey(ref), v}}).ok());
  }
  // A day with one code row and one channel row for referrer A.
  void PutSimpleDay(const std::string& date, uint64_t clicks) {
    DayCodeRow d;
    d.clicks = clicks;
    d.visitors = Visitors({"v1"});
    PutDay(date, "A", "a1", d);
    ChannelRow c;
    c.clicks = clicks;
    c.visitors = Visitors({"v1"});
    PutChannel(date, "A", "a1", "", "", "", c);
  }

  Status Run(const std::set<std::string>& dates, uint64_t through = 7, FileIo* io = nullptr) {
    return Publish(*db_, out(), dates, through, io ? io : DefaultFileIo());
  }

  std::string File(const std::string& rel) const {
    std::ifstream in(out() + "/" + rel, std::ios::binary);
    EXPECT_TRUE(in.good()) << rel;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool Exists(const std::string& rel) const { return fs::exists(out() + "/" + rel); }
  // Every *.tmp under the output directory.
  std::vector<std::string> TmpFiles() const {
    std::vector<std::string> tmp;
    if (!fs::exists(out())) return tmp;
    for (const auto& e : fs::recursive_directory_iterator(out())) {
      if (e.path().extension() == ".tmp") tmp.push_back(e.path().string());
    }
    return tmp;
  }
  std::vector<std::string> ManifestFiles() const {
    json::value m = json::parse(File("manifest.json"));
    std::vector<std::string> files;
    for (const auto& f : m.at("files").as_array()) files.emplace_back(f.as_string());
    return files;
  }

  std::unique_ptr<StateDb> db_;
};

TEST_F(PublishTest, WritesEachCsvFromItsRows) {
  DayCodeRow d;
  d.clicks = 3;
  d.new_visitors = 2;
  d.bot_clicks = 1;
  d.conversions = 1;
  d.revenue_minor = 500;
  d.visitors = Visitors({"v1", "v2"});
  PutDay("2026-11-22", "A", "a1", d);
  DayCodeRow e;
  e.clicks = 1;
  e.visitors = Visitors({"v3"});
  PutDay("2026-11-22", "B", "b1", e);
  ChannelRow c;
  c.clicks = 2;
  c.visitors = Visitors({"v1"});
  PutChannel("2026-11-22", "A", "a1", "news", "email", "spring", c);
  ReferrerRow r;
  r.codes = 2;
  r.clicks = 5;
  r.bot_clicks = 1;
  r.conversions = 4;
  r.revenue_minor = 900;
  r.visitors = Visitors({"v1", "v2", "v3"});
  r.first_click_us = kMidnightUs;
  r.last_click_us = kMidnightUs + 3600'500000;  // fractions of a second are cut
  PutReferrer("A", r);

  ASSERT_TRUE(Run({"2026-11-22"}, 42).ok());
  EXPECT_EQ(File("daily/date=2026-11-22/codes.csv"), std::string(kCodesHeader) +
                                                         "2026-11-22,A,a1,3,2,2,1,1,500\r\n"
                                                         "2026-11-22,B,b1,1,1,0,0,0,0\r\n");
  EXPECT_EQ(File("daily/date=2026-11-22/channels.csv"),
            std::string(kChannelsHeader) + "2026-11-22,A,a1,news,email,spring,2,1\r\n");
  EXPECT_EQ(File("referrers.csv"),
            std::string(kReferrersHeader) +
                "A,2,5,3,1,4,900,2026-11-22T00:00:00Z,2026-11-22T01:00:00Z\r\n");
  json::value m = json::parse(File("manifest.json"));
  EXPECT_EQ(m.at("schema_version").to_number<int>(), 2);
  EXPECT_EQ(m.at("through_seq").to_number<uint64_t>(), 42u);
  EXPECT_FALSE(m.at("generated_at").as_string().empty());
  EXPECT_EQ(ManifestFiles(), (std::vector<std::string>{"referrers.csv", "rewards.csv",
                                                       "daily/date=2026-11-22/channels.csv",
                                                       "daily/date=2026-11-22/codes.csv"}));
  EXPECT_TRUE(TmpFiles().empty());
}

TEST_F(PublishTest, AReferrerWithoutClicksHasEmptyTimestamps) {
  ReferrerRow r;
  r.codes = 1;
  r.bot_clicks = 3;
  PutReferrer("A", r);
  ASSERT_TRUE(Run({}).ok());
  EXPECT_EQ(File("referrers.csv"), std::string(kReferrersHeader) + "A,1,0,0,3,0,0,,\r\n");
}

TEST_F(PublishTest, ACodeThatLooksLikeAFormulaIsDefused) {
  DayCodeRow d;
  d.clicks = 1;
  PutDay("2026-11-22", "A", "-cmd", d);
  ASSERT_TRUE(Run({"2026-11-22"}).ok());
  EXPECT_EQ(File("daily/date=2026-11-22/codes.csv"),
            std::string(kCodesHeader) + "2026-11-22,A,'-cmd,1,0,0,0,0,0\r\n");
}

TEST_F(PublishTest, AnEmptyStateWritesHeadersOnly) {
  ASSERT_TRUE(Run({"2026-11-22"}).ok());
  EXPECT_EQ(File("daily/date=2026-11-22/codes.csv"), kCodesHeader);
  EXPECT_EQ(File("daily/date=2026-11-22/channels.csv"), kChannelsHeader);
  EXPECT_EQ(File("referrers.csv"), kReferrersHeader);
}

TEST_F(PublishTest, NoDatesWritesReferrersAndManifestOnly) {
  ASSERT_TRUE(Run({}, 0).ok());
  EXPECT_EQ(File("referrers.csv"), kReferrersHeader);
  EXPECT_EQ(ManifestFiles(), (std::vector<std::string>{"referrers.csv", "rewards.csv"}));
  EXPECT_FALSE(Exists("daily"));
}

TEST_F(PublishTest, ADaysFilesHoldOnlyThatDaysRows) {
  PutSimpleDay("2026-11-21", 1);
  PutSimpleDay("2026-11-22", 2);
  PutSimpleDay("2026-11-23", 3);
  ASSERT_TRUE(Run({"2026-11-22"}).ok());
  EXPECT_EQ(File("daily/date=2026-11-22/codes.csv"),
            std::string(kCodesHeader) + "2026-11-22,A,a1,2,1,0,0,0,0\r\n");
  EXPECT_EQ(File("daily/date=2026-11-22/channels.csv"),
            std::string(kChannelsHeader) + "2026-11-22,A,a1,,,,2,1\r\n");
  EXPECT_FALSE(Exists("daily/date=2026-11-21"));
  EXPECT_FALSE(Exists("daily/date=2026-11-23"));
}

TEST_F(PublishTest, TheManifestListsDaysPublishedByEarlierRuns) {
  PutSimpleDay("2026-11-21", 1);
  PutSimpleDay("2026-11-22", 2);
  ASSERT_TRUE(Run({"2026-11-21"}, 5).ok());
  ASSERT_TRUE(Run({"2026-11-22"}, 9).ok());
  EXPECT_EQ(ManifestFiles(),
            (std::vector<std::string>{
                "referrers.csv", "rewards.csv", "daily/date=2026-11-21/channels.csv",
                "daily/date=2026-11-21/codes.csv", "daily/date=2026-11-22/channels.csv",
                "daily/date=2026-11-22/codes.csv"}));
  EXPECT_EQ(json::parse(File("manifest.json")).at("through_seq").to_number<uint64_t>(), 9u);
  // Strays in daily/ are not listed.
  fs::create_directories(out() + "/daily/junk");
  fs::create_directories(out() + "/daily/date=2026-11-20");
  std::ofstream(out() + "/daily/date=2026-11-20/notes.txt") << "not a rollup";
  ASSERT_TRUE(Run({}, 9).ok());
  EXPECT_EQ(ManifestFiles().size(), 6u);
}

TEST_F(PublishTest, RepublishingADayReplacesItsFiles) {
  PutSimpleDay("2026-11-22", 1);
  ASSERT_TRUE(Run({"2026-11-22"}).ok());
  PutSimpleDay("2026-11-22", 4);
  ASSERT_TRUE(Run({"2026-11-22"}).ok());
  EXPECT_EQ(File("daily/date=2026-11-22/codes.csv"),
            std::string(kCodesHeader) + "2026-11-22,A,a1,4,1,0,0,0,0\r\n");
}

TEST_F(PublishTest, ATemporaryFileLeftByAKilledRunIsOverwritten) {
  PutSimpleDay("2026-11-22", 2);
  fs::create_directories(out() + "/daily/date=2026-11-22");
  std::ofstream(out() + "/daily/date=2026-11-22/codes.csv.tmp")
      << "half a file from a run that died, much longer than the real one will be......";
  std::ofstream(out() + "/manifest.json.tmp") << "{\"broken";
  ASSERT_TRUE(Run({"2026-11-22"}).ok());
  EXPECT_TRUE(TmpFiles().empty());
  EXPECT_EQ(File("daily/date=2026-11-22/codes.csv"),
            std::string(kCodesHeader) + "2026-11-22,A,a1,2,1,0,0,0,0\r\n");
  EXPECT_EQ(ManifestFiles().size(), 4u);
}

TEST_F(PublishTest, AFailedWriteKeepsTheOldFilesWholeAndStops) {
  PutSimpleDay("2026-11-22", 1);
  ASSERT_TRUE(Run({"2026-11-22"}, 5).ok());
  const std::string codes = File("daily/date=2026-11-22/codes.csv");
  const std::string manifest = File("manifest.json");
  PutSimpleDay("2026-11-22", 9);
  PublishIo io;
  io.fail_writes = 1;  // codes.csv
  Status s = Run({"2026-11-22"}, 6, &io);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(io.writes.load(), 1);  // nothing after the failure
  EXPECT_EQ(File("daily/date=2026-11-22/codes.csv"), codes);
  EXPECT_EQ(File("manifest.json"), manifest);
  EXPECT_TRUE(TmpFiles().empty());
}

TEST_F(PublishTest, AFailedSyncWritesNoManifest) {
  PutSimpleDay("2026-11-22", 1);
  PublishIo io;
  io.fail_syncs = 1;  // codes.csv
  EXPECT_TRUE(Run({"2026-11-22"}, 5, &io).IsIOError());
  EXPECT_FALSE(Exists("daily/date=2026-11-22/codes.csv"));
  EXPECT_FALSE(Exists("manifest.json"));
  EXPECT_TRUE(TmpFiles().empty());
  // The next run publishes everything.
  ASSERT_TRUE(Run({"2026-11-22"}, 5, &io).ok());
  EXPECT_EQ(ManifestFiles().size(), 4u);
}

TEST_F(PublishTest, AFailedSyncOfTheReferrersWritesNoManifest) {
  PutSimpleDay("2026-11-22", 1);
  PublishIo io;
  ASSERT_TRUE(Run({"2026-11-22"}, 5, &io).ok());
  const std::string manifest = File("manifest.json");
  const int syncs_per_run = io.syncs.load();
  ASSERT_EQ(syncs_per_run, 5);  // codes, channels, referrers, rewards, manifest
  // Let the day's two files through and fail referrers.csv.
  struct FailThird : PublishIo {
    int Sync(int fd) override {
      if (++n == 3) return EIO;
      return PublishIo::Sync(fd);
    }
    int n = 0;
  } third;
  EXPECT_TRUE(Run({"2026-11-22"}, 6, &third).IsIOError());
  EXPECT_EQ(File("manifest.json"), manifest);
  EXPECT_TRUE(TmpFiles().empty());
}

TEST_F(PublishTest, AFailedDirectorySyncIsAnError) {
  PutSimpleDay("2026-11-22", 1);
  PublishIo io;
  io.fail_dir_syncs = 1;
  EXPECT_TRUE(Run({"2026-11-22"}, 5, &io).IsIOError());
  EXPECT_FALSE(Exists("manifest.json"));
}

TEST_F(PublishTest, ADamagedDayRowFailsThePublish) {
  ASSERT_TRUE(db_->Commit({{DayCodeKey("2026-11-22", "A", "a1"), "\xff"}}).ok());
  Status s = Run({"2026-11-22"});
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_FALSE(Exists("daily/date=2026-11-22/codes.csv"));
  EXPECT_FALSE(Exists("manifest.json"));
}

TEST_F(PublishTest, ADamagedChannelRowFailsThePublish) {
  ASSERT_TRUE(db_->Commit({{ChannelKey("2026-11-22", "A", "a1", "", "", ""), "\xff"}}).ok());
  EXPECT_TRUE(Run({"2026-11-22"}).IsCorruption());
  EXPECT_FALSE(Exists("daily/date=2026-11-22/channels.csv"));
  EXPECT_FALSE(Exists("manifest.json"));
}

TEST_F(PublishTest, ADamagedReferrerRowFailsThePublish) {
  ASSERT_TRUE(db_->Commit({{ReferrerKey("A"), "\xff"}}).ok());
  EXPECT_TRUE(Run({}).IsCorruption());
  EXPECT_FALSE(Exists("referrers.csv"));
  EXPECT_FALSE(Exists("manifest.json"));
}

TEST_F(PublishTest, ADayDirectoryThatCannotBeMadeIsAnError) {
  std::ofstream(out() + "/daily") << "a file where the directory should be";
  EXPECT_TRUE(Run({"2026-11-22"}).IsIOError());
  EXPECT_FALSE(Exists("manifest.json"));
}

}  // namespace
}  // namespace refgate::rollup
