// LogShipper and LogMerger against a real nats-server with JetStream: the
// log's durable records reach the stream once each, in order, after
// restarts too; a second process with the same node_id is refused; the
// rollup node's copy holds every node's records once, however often the
// stream delivers them, and refuses a gap.
#include "cluster/log_shipper.h"

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <atomic>
#include <filesystem>
#include <limits>
#include <map>

#include "clicklog/reader.h"
#include "clicklog/retention.h"
#include "cluster/log_merger.h"
#include "tests/clicklog/log_test_util.h"
#include "tests/cluster/nats_server.h"

namespace refgate::cluster {
namespace {

// Segment files of clicks 1..last, `per` to a segment; `salt` changes
// the clicks' contents (another node's log with the same seqs).
std::string WriteLog(const std::string& data_dir, uint64_t last, uint64_t per, int salt = 0) {
  const std::string dir = data_dir + "/clicks";
  std::filesystem::create_directories(dir);
  std::string all, payload;
  for (uint64_t first = 1; first <= last; first += per) {
    std::string seg;
    for (uint64_t seq = first; seq < first + per && seq <= last; ++seq) {
      clicklog::EncodeClick(clicklog::MakeClick(static_cast<int>(seq) + salt), &payload);
      clicklog::AppendRecord(&seg, clicklog::kClick, seq, payload);
    }
    char name[32];
    std::snprintf(name, sizeof name, "%020llu.log", static_cast<unsigned long long>(first));
    all += seg;
    // The zeros a writer extends its segment with, kept once it is sealed:
    // more than the shipper reads at once.
    clicklog::WriteFile(dir + "/" + name, seg + std::string(3 << 20, '\0'));
  }
  return all;
}

class LogShipperTest : public testing::Test {
 protected:
  void SetUp() override {
    url_ = server_.Url();
    ASSERT_FALSE(url_.empty()) << "nats-server did not start (is it installed?)";
    ASSERT_EQ(natsConnection_ConnectTo(&nc_, url_.c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_JetStream(&js_, nc_, nullptr), NATS_OK);
  }
  void TearDown() override {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  std::unique_ptr<LogShipper> Start(const std::string& data_dir, std::string node = "n1") {
    ShipOptions o;
    o.servers = url_;
    o.node_id = std::move(node);
    o.data_dir = data_dir;
    o.replicas = 1;
    o.max_batch_records = 250;
    return std::make_unique<LogShipper>(o, [this] { return durable_.load(); });
  }
  // Waits (30 s at most) until `done`.
  template <typename Done>
  static bool Eventually(Done done) {
    for (int i = 0; i < 3000 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }
  // Every message in the stream, in order: (message id, body).
  std::vector<std::pair<std::string, std::string>> Stream() {
    std::vector<std::pair<std::string, std::string>> out;
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, js_, "REFGATE_LOG", nullptr, nullptr) != NATS_OK) return out;
    const uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    for (uint64_t seq = 1; seq <= last; ++seq) {
      natsMsg* m = nullptr;
      if (js_GetMsg(&m, js_, "REFGATE_LOG", seq, nullptr, nullptr) != NATS_OK) continue;
      const char* id = "";
      (void)natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
      out.emplace_back(id, std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)));
      natsMsg_Destroy(m);
    }
    return out;
  }
  // The records' bytes the stream has, checking each message's id names
  // its first and last seq.
  std::string Shipped() {
    std::string all;
    for (const auto& [id, body] : Stream()) {
      const std::vector<uint64_t> seqs = clicklog::ParseAll(body, nullptr);
      EXPECT_FALSE(seqs.empty());
      if (seqs.empty()) continue;
      EXPECT_EQ(id, "n1:" + std::to_string(seqs.front()) + "-" + std::to_string(seqs.back()));
      all += body;
    }
    return all;
  }

  NatsServer server_;
  ScratchDir dir_, other_;
  std::string url_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::atomic<uint64_t> durable_{0};
};

TEST_F(LogShipperTest, ShipsEveryDurableRecordOnceInOrder) {
  const std::string log = WriteLog(dir_.path(), 3000, 1200);
  durable_ = 700;  // the rest is written, not yet durable
  auto shipper = Start(dir_.path());
  ASSERT_TRUE(Eventually([&] { return shipper->shipped() == 700; }));
  durable_ = 3000;
  ASSERT_TRUE(Eventually([&] { return shipper->shipped() == 3000; }));
  shipper.reset();
  EXPECT_EQ(Shipped(), log);  // every record once, in order, byte for byte
  EXPECT_EQ(clicklog::ShippedThrough(dir_.path()), 3000u);
}

TEST_F(LogShipperTest, ARestartResumesFromTheStreamNotFromItsFile) {
  const std::string log = WriteLog(dir_.path(), 2000, 800);
  durable_ = 1000;
  auto shipper = Start(dir_.path());
  ASSERT_TRUE(Eventually([&] { return shipper->shipped() == 1000; }));
  shipper.reset();
  // A position file lost or behind says nothing: the stream does.
  std::filesystem::remove(dir_.path() + "/" + clicklog::kShippedFile);
  durable_ = 2000;
  shipper = Start(dir_.path());
  ASSERT_TRUE(Eventually([&] { return shipper->shipped() == 2000; }));
  shipper.reset();
  EXPECT_EQ(Shipped(), log);
}

TEST_F(LogShipperTest, ASecondProcessWithTheSameNodeIdIsRefused) {
  const std::string log = WriteLog(dir_.path(), 500, 500);
  WriteLog(other_.path(), 900, 900, 7);  // same seqs, other clicks
  durable_ = 500;
  auto first = Start(dir_.path());
  ASSERT_TRUE(Eventually([&] { return first->shipped() == 500; }));
  durable_ = 900;
  auto second = Start(other_.path());
  ASSERT_TRUE(Eventually([&] { return second->refused(); }));
  EXPECT_EQ(second->shipped(), 0u);
  first.reset();
  second.reset();
  EXPECT_EQ(Shipped(), log);  // nothing of the other log
}

class LogMergerTest : public LogShipperTest {
 protected:
  std::unique_ptr<LogMerger> Merge(const std::string& data_dir) {
    MergeOptions o;
    o.servers = url_;
    o.data_dir = data_dir;
    o.replicas = 1;
    o.timeout_ms = 200;
    std::unique_ptr<LogMerger> m;
    EXPECT_TRUE(LogMerger::Open(o, &m).ok());
    return m;
  }
  // Each node's records in the copy, as their bytes, in order.
  static std::map<std::string, std::string> Copy(const std::string& data_dir) {
    std::map<std::string, std::string> out;
    clicklog::LogReader reader(data_dir + "/cluster/log", nullptr);
    EXPECT_TRUE(reader.Open(1).ok());
    clicklog::Record rec;
    std::string_view node, records;
    while (reader.Next(&rec)) {
      EXPECT_EQ(rec.type, clicklog::kShipped);
      EXPECT_TRUE(clicklog::DecodeShipped(rec.payload, &node, &records).ok());
      out[std::string(node)] += records;
    }
    return out;
  }
  // The consumer has had everything acknowledged.
  bool Drained() {
    jsConsumerInfo* ci = nullptr;
    if (js_GetConsumerInfo(&ci, js_, "REFGATE_LOG", "refgate-rollup", nullptr, nullptr) !=
        NATS_OK) {
      return false;
    }
    const bool drained = ci->NumPending == 0 && ci->NumAckPending == 0;
    jsConsumerInfo_Destroy(ci);
    return drained;
  }
  void Publish(const std::string& node, uint64_t first, uint64_t last) {
    std::string body, payload;
    for (uint64_t seq = first; seq <= last; ++seq) {
      clicklog::EncodeClick(clicklog::MakeClick(static_cast<int>(seq)), &payload);
      clicklog::AppendRecord(&body, clicklog::kClick, seq, payload);
    }
    ASSERT_EQ(js_Publish(nullptr, js_, LogSubject(node).c_str(), body.data(),
                         static_cast<int>(body.size()), nullptr, nullptr),
              NATS_OK);
  }
  ScratchDir rollup_;
};

TEST_F(LogMergerTest, TheCopyHoldsEveryNodesRecordsOnceHoweverOftenDelivered) {
  const std::string n1 = WriteLog(dir_.path(), 1500, 600);
  const std::string n2 = WriteLog(other_.path(), 900, 400, 7);
  durable_ = 1500;
  auto s1 = Start(dir_.path(), "n1");
  auto s2 = Start(other_.path(), "n2");
  auto merger = Merge(rollup_.path());
  const std::map<std::string, uint64_t> all = {{"n1", 1500}, {"n2", 900}};
  ASSERT_TRUE(Eventually([&] { return merger->positions() == all; }));
  ASSERT_TRUE(Eventually([&] { return Drained(); }));
  const uint64_t merged = merger->merged_seq();
  merger.reset();
  EXPECT_EQ(Copy(rollup_.path()), (std::map<std::string, std::string>{{"n1", n1}, {"n2", n2}}));
  EXPECT_GT(clicklog::MergedThrough(rollup_.path()), 0u);

  // Everything delivered again (a consumer made anew): nothing is added.
  ASSERT_EQ(js_DeleteConsumer(js_, "REFGATE_LOG", "refgate-rollup", nullptr, nullptr), NATS_OK);
  std::filesystem::remove(rollup_.path() + "/" + clicklog::kMergedFile);  // read the whole copy
  merger = Merge(rollup_.path());
  EXPECT_EQ(merger->positions(), all);  // from the copy itself, before any message
  ASSERT_TRUE(Eventually([&] { return Drained(); }));
  EXPECT_EQ(merger->merged_seq(), merged);
  EXPECT_FALSE(merger->refused());
  merger.reset();
  EXPECT_EQ(Copy(rollup_.path()), (std::map<std::string, std::string>{{"n1", n1}, {"n2", n2}}));

  // An empty copy reads the stream from its start, whatever was acknowledged.
  ScratchDir fresh;
  merger = Merge(fresh.path());
  ASSERT_TRUE(Eventually([&] { return merger->positions() == all; }));
  merger.reset();
  EXPECT_EQ(Copy(fresh.path()), Copy(rollup_.path()));
}

TEST_F(LogMergerTest, AGapInANodesRecordsIsRefusedNotCountedAround) {
  auto merger = Merge(rollup_.path());
  ASSERT_TRUE(Eventually([&] {  // the merger makes the stream
    jsStreamInfo* si = nullptr;
    const bool made = js_GetStreamInfo(&si, js_, "REFGATE_LOG", nullptr, nullptr) == NATS_OK;
    jsStreamInfo_Destroy(si);
    return made;
  }));
  Publish("n3", 1, 10);
  ASSERT_TRUE(Eventually([&] { return merger->positions()["n3"] == 10; }));
  Publish("n3", 20, 25);  // 11-19 never reached the stream
  ASSERT_TRUE(Eventually([&] { return merger->refused(); }));
  EXPECT_EQ(merger->positions()["n3"], 10u);
}

TEST(LogMergerRecover, ACopyWithAHoleInANodesRecordsIsRefused) {
  ScratchDir dir;
  const std::string log = dir.path() + "/cluster/log";
  std::filesystem::create_directories(log);
  std::string segment, frames, shipped;
  uint64_t outer = 0;
  for (auto [first, last] : {std::pair<uint64_t, uint64_t>{1, 10}, {20, 25}}) {
    frames = clicklog::SegmentBytes(first, static_cast<int>(last - first + 1));
    clicklog::EncodeShipped("n1", frames, &shipped);
    clicklog::AppendRecord(&segment, clicklog::kShipped, ++outer, shipped);
  }
  clicklog::WriteFile(log + "/" + clicklog::SegmentName(1), segment);
  MergeOptions o;
  o.servers = "nats://127.0.0.1:1";  // never reached: the copy is read first
  o.data_dir = dir.path();
  std::unique_ptr<LogMerger> m;
  const Status s = LogMerger::Open(o, &m);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("holds records 20-25 of n1, after 10"), std::string::npos)
      << s.ToString();
}

TEST(ShippedThrough, NoFileMeansNoBound) {
  ScratchDir dir;
  EXPECT_EQ(clicklog::ShippedThrough(dir.path()), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(clicklog::RetentionDays(dir.path(), 0), 0);
  std::filesystem::create_directories(dir.path() + "/cluster");
  clicklog::WriteFile(dir.path() + "/" + clicklog::kShippedFile, "42\n");
  EXPECT_EQ(clicklog::ShippedThrough(dir.path()), 42u);
  EXPECT_EQ(clicklog::RetentionDays(dir.path(), 0), 1);  // a day at least while shipping
}

}  // namespace
}  // namespace refgate::cluster
