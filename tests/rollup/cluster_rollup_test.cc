// The compaction job on a cluster's rollup node (SPEC §8): over its copy of
// the stream (kShipped records, cluster/log_merger.h) it counts each
// node's records once and writes the files one node writes from the same
// records in the same order.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <map>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "rollup/compactor.h"
#include "tests/clicklog/log_test_util.h"

namespace refgate::rollup {
namespace {

struct NodeRecord {
  std::string node;
  clicklog::RecordType type;
  std::string payload;
};

// Runs of 3 to 7 records from n1, then n2, then n1...: clicks of MakeClick,
// and after every 40th click (from the first) a sale, on the other node, by its visitor.
std::vector<NodeRecord> Records(int clicks) {
  std::vector<NodeRecord> out;
  std::string payload;
  int run = 0, left = 3;
  for (int i = 1; i <= clicks; ++i) {
    if (left-- == 0) left = 3 + ++run % 5 - 1;
    const std::string node = run % 2 ? "n2" : "n1", other = run % 2 ? "n1" : "n2";
    const ClickRecord c = clicklog::MakeClick(i);
    clicklog::EncodeClick(c, &payload);
    out.push_back({node, clicklog::kClick, payload});
    if (i % 40 != 1 || c.bot || c.type != ClickType::kClick) continue;
    EventRecord e;
    e.type = EventType::kSale;
    e.event_id = "sale" + std::to_string(i);
    e.received_us = e.occurred_us = c.ts_us + 1000000;
    e.visitor_id = c.visitor_id;
    e.order_id = "order" + std::to_string(i);
    e.currency = "EUR";
    e.amount_minor = 1000 + i;
    clicklog::EncodeEvent(e, &payload);
    out.push_back({other, clicklog::kEvent, payload});
  }
  return out;
}

// One node's log holding every record, in order, as one segment.
void WriteOneLog(const std::string& data_dir, const std::vector<NodeRecord>& recs) {
  std::filesystem::create_directories(data_dir + "/clicks");
  std::string data;
  uint64_t seq = 0;
  for (const NodeRecord& r : recs) clicklog::AppendRecord(&data, r.type, ++seq, r.payload);
  clicklog::WriteFile(data_dir + "/clicks/" + clicklog::SegmentName(1), data);
}

// The rollup node's copy: each run of one node's records (at most `per`)
// one kShipped message, numbered by its node's log; a segment every
// `per_segment` messages. Returns each node's last seq.
std::map<std::string, uint64_t> WriteCopy(const std::string& data_dir,
                                          const std::vector<NodeRecord>& recs, size_t per,
                                          size_t per_segment = 1000) {
  const std::string dir = data_dir + "/cluster/log";
  std::filesystem::create_directories(dir);
  std::map<std::string, uint64_t> seqs;
  std::string segment, frames, payload;
  uint64_t outer = 0, segment_first = 1;
  auto flush_message = [&](const std::string& node) {
    if (frames.empty()) return;
    clicklog::EncodeShipped(node, frames, &payload);
    clicklog::AppendRecord(&segment, clicklog::kShipped, ++outer, payload);
    frames.clear();
    if (outer % per_segment != 0) return;
    clicklog::WriteFile(dir + "/" + clicklog::SegmentName(segment_first), segment);
    segment.clear();
    segment_first = outer + 1;
  };
  size_t in_message = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    clicklog::AppendRecord(&frames, recs[i].type, ++seqs[recs[i].node], recs[i].payload);
    const bool last = i + 1 == recs.size() || recs[i + 1].node != recs[i].node;
    if (++in_message == per || last) {
      flush_message(recs[i].node);
      in_message = 0;
    }
  }
  if (!segment.empty()) {
    clicklog::WriteFile(dir + "/" + clicklog::SegmentName(segment_first), segment);
  }
  return seqs;
}

Status CompactDir(const std::string& data_dir, bool cluster, CompactResult* r,
                  uint64_t max_records = UINT64_MAX) {
  CompactOptions o;
  o.data_dir = data_dir;
  o.cluster = cluster;
  o.max_records = max_records;
  return Compact(o, r);
}

// Every published file but the manifest, by path under rollups/.
std::map<std::string, std::string> Files(const std::string& data_dir) {
  std::map<std::string, std::string> out;
  const std::filesystem::path root = data_dir + "/rollups";
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    const std::string rel = std::filesystem::relative(e.path(), root).string();
    if (!e.is_regular_file() || rel.starts_with("state") || rel == "manifest.json" ||
        rel == ".lock") {
      continue;
    }
    EXPECT_TRUE(clicklog::ReadFile(e.path().string(), &out[rel]).ok());
  }
  return out;
}

std::map<std::string, uint64_t> ManifestNodes(const std::string& data_dir) {
  std::string text;
  EXPECT_TRUE(clicklog::ReadFile(data_dir + "/rollups/manifest.json", &text).ok());
  std::map<std::string, uint64_t> out;
  const boost::json::value v = boost::json::parse(text);
  if (const boost::json::value* nodes = v.as_object().if_contains("nodes")) {
    for (const auto& [k, seq] : nodes->as_object()) out[std::string(k)] = seq.to_number<uint64_t>();
  }
  return out;
}

TEST(ClusterRollupTest, TheCopyRollsUpAsOneLogWithTheSameRecords) {
  const std::vector<NodeRecord> recs = Records(2000);
  clicklog::ScratchDir one, copy;
  WriteOneLog(one.path(), recs);
  const std::map<std::string, uint64_t> last = WriteCopy(copy.path(), recs, 4, 50);
  CompactResult r1, r2;
  ASSERT_TRUE(CompactDir(one.path(), false, &r1).ok());
  ASSERT_TRUE(CompactDir(copy.path(), true, &r2).ok());
  EXPECT_EQ(r1.records, 2000u);
  EXPECT_EQ(r2.records, 2000u);
  EXPECT_EQ(r1.events, r2.events);
  EXPECT_GT(r2.events, 10u);
  EXPECT_GT(r2.decided, 0u);
  EXPECT_EQ(r2.nodes, last);
  EXPECT_EQ(ManifestNodes(copy.path()), last);
  EXPECT_TRUE(ManifestNodes(one.path()).empty());
  const auto files = Files(copy.path());
  EXPECT_EQ(files, Files(one.path()));
  std::string events;  // the sales, attributed across nodes
  for (const auto& [path, text] : files) {
    if (path.ends_with("events.csv")) events += text;
  }
  EXPECT_NE(events.find("sale41"), std::string::npos);
  EXPECT_NE(events.find("sale1961"), std::string::npos);
}

TEST(ClusterRollupTest, RunsStoppedPartWayCountEveryNodesRecordsOnce) {
  const std::vector<NodeRecord> recs = Records(1500);
  clicklog::ScratchDir one, copy;
  WriteOneLog(one.path(), recs);
  const std::map<std::string, uint64_t> last = WriteCopy(copy.path(), recs, 5, 30);
  CompactResult r;
  ASSERT_TRUE(CompactDir(one.path(), false, &r).ok());
  uint64_t records = 0;
  for (int part = 0; part < 100; ++part) {
    ASSERT_TRUE(CompactDir(copy.path(), true, &r, 37).ok());  // 37 messages a run
    records += r.records;
    if (r.records == 0) break;
  }
  EXPECT_EQ(records, 1500u);
  EXPECT_EQ(r.nodes, last);
  EXPECT_EQ(Files(copy.path()), Files(one.path()));
}

TEST(ClusterRollupTest, AMessageTheCopyHoldsTwiceFailsTheRunAndCommitsNothing) {
  std::vector<NodeRecord> recs = Records(100);
  clicklog::ScratchDir copy;
  WriteCopy(copy.path(), recs, 10);
  // The copy's first message again, as a new record at its end.
  std::vector<std::pair<uint64_t, std::string>> segs;
  ASSERT_TRUE(clicklog::ListSegments(copy.path() + "/cluster/log", &segs).ok());
  const std::string path = copy.path() + "/cluster/log/" + segs.back().second;
  std::string data;
  ASSERT_TRUE(clicklog::ReadFile(path, &data).ok());
  clicklog::SegmentParser parser(data, "", nullptr);
  clicklog::Record first, rec;
  ASSERT_TRUE(parser.Next(&first));
  uint64_t last_seq = first.seq;
  while (parser.Next(&rec)) last_seq = rec.seq;
  clicklog::AppendRecord(&data, clicklog::kShipped, last_seq + 1, std::string(first.payload));
  clicklog::WriteFile(path, data);
  CompactResult r;
  const Status s = CompactDir(copy.path(), true, &r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("whose records so far end at"), std::string::npos) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(copy.path() + "/rollups/manifest.json"));
}

TEST(ClusterRollupTest, AnUnknownRecordInAMessageStopsTheRunBeforeTheWholeMessage) {
  clicklog::ScratchDir copy;
  const std::string dir = copy.path() + "/cluster/log";
  std::filesystem::create_directories(dir);
  std::string segment, frames, payload;
  clicklog::EncodeClick(clicklog::MakeClick(1), &payload);
  clicklog::AppendRecord(&frames, clicklog::kClick, 1, payload);
  std::string shipped;
  clicklog::EncodeShipped("n1", frames, &shipped);
  clicklog::AppendRecord(&segment, clicklog::kShipped, 1, shipped);
  frames.clear();
  clicklog::AppendRecord(&frames, clicklog::kClick, 2, payload);
  clicklog::AppendRecord(&frames, static_cast<clicklog::RecordType>(0x30), 3, "new");
  clicklog::AppendRecord(&frames, clicklog::kClick, 4, payload);
  clicklog::EncodeShipped("n1", frames, &shipped);
  clicklog::AppendRecord(&segment, clicklog::kShipped, 2, shipped);
  clicklog::WriteFile(dir + "/" + clicklog::SegmentName(1), segment);
  CompactResult r;
  const Status s = CompactDir(copy.path(), true, &r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(r.records, 1u);  // the first message's click; none of the second's
  EXPECT_EQ(r.through_seq, 1u);
  EXPECT_EQ(r.nodes, (std::map<std::string, uint64_t>{{"n1", 1}}));
}

TEST(ClusterRollupTest, AStateFollowsOneLogAndRefusesTheOther) {
  const std::vector<NodeRecord> recs = Records(50);
  clicklog::ScratchDir dir;
  WriteOneLog(dir.path(), recs);
  WriteCopy(dir.path(), recs, 8);
  CompactResult r;
  ASSERT_TRUE(CompactDir(dir.path(), false, &r).ok());
  const Status s = CompactDir(dir.path(), true, &r);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("this node's own log"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace refgate::rollup
