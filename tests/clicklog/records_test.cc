// One reading path for every reader: records go to the handler by type.
#include "clicklog/records.h"

#include "tests/clicklog/log_test_util.h"

namespace refgate::clicklog {
namespace {

struct Seen : RecordHandler {
  void OnClick(const Record& rec, const ClickRecord& c) override {
    log.push_back("click " + std::to_string(rec.seq) + " " + c.click_id);
  }
  void OnEvent(const Record& rec, const EventRecord& e) override {
    log.push_back("event " + std::to_string(rec.seq) + " " + e.event_id);
  }
  void OnCode(const Record& rec, const CodeChange& c) override {
    log.push_back("code " + std::to_string(rec.seq) + " " + c.code.code);
  }
  void OnCampaign(const Record& rec, const CampaignChange& c) override {
    log.push_back("campaign " + std::to_string(rec.seq) + " " + c.campaign);
  }
  void OnPayout(const Record& rec, const Payout& p) override {
    log.push_back("payout " + std::to_string(rec.seq) + " " + p.payout_id);
  }
  void OnIgnored(const Record& rec) override {
    log.push_back("ignored " + std::to_string(rec.seq));
  }
  void OnUnknown(const Record& rec) override {
    log.push_back("unknown " + std::to_string(rec.seq));
  }
  void OnUndecodable(const Record& rec, const Status&) override {
    log.push_back("undecodable " + std::to_string(rec.seq));
  }
  std::vector<std::string> log;
};

TEST(Records, EachRecordGoesToItsHandlerByType) {
  std::string data, payload;
  EncodeClick(MakeClick(1), &payload);
  AppendRecord(&data, kClick, 1, payload);
  AppendRecord(&data, static_cast<RecordType>(kIgnorableBit | 0x33), 2, "newer, ignorable");
  AppendRecord(&data, static_cast<RecordType>(0x33), 3, "newer, required");
  AppendRecord(&data, kClick, 4, std::string_view("\xff", 1));
  EventRecord e;
  e.event_id = "ev1";
  EncodeEvent(e, &payload);
  AppendRecord(&data, kEvent, 5, payload);
  CodeChange code;
  code.changed_us = 7;
  code.code.code = "abc";
  EncodeCodeChange(code, &payload);
  AppendRecord(&data, kCode, 6, payload);
  EncodeCampaignChange({8, "spring", false, {}}, &payload);
  AppendRecord(&data, kCampaign, 7, payload);
  EncodePayout({9, "p1", "alice", 500}, &payload);
  AppendRecord(&data, kPayout, 8, payload);
  SegmentParser parser(data, "seg", nullptr);
  RecordDispatcher dispatch;
  Seen seen;
  Record rec;
  while (parser.Next(&rec)) dispatch.Dispatch(rec, &seen);
  EXPECT_EQ(seen.log, (std::vector<std::string>{"click 1 click1", "ignored 2", "unknown 3",
                                                "undecodable 4", "event 5 ev1", "code 6 abc",
                                                "campaign 7 spring", "payout 8 p1"}));
  EXPECT_EQ(RecordTypeName(kClick), "click");
  EXPECT_EQ(RecordTypeName(kIgnorableBit | 5), "");
}

}  // namespace
}  // namespace refgate::clicklog
