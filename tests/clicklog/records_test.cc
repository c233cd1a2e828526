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
  AppendRecord(&data, static_cast<RecordType>(kIgnorableBit | 5), 2, "newer, ignorable");
  AppendRecord(&data, static_cast<RecordType>(5), 3, "newer, required");
  AppendRecord(&data, kClick, 4, std::string_view("\xff", 1));
  SegmentParser parser(data, "seg", nullptr);
  RecordDispatcher dispatch;
  Seen seen;
  Record rec;
  while (parser.Next(&rec)) dispatch.Dispatch(rec, &seen);
  EXPECT_EQ(seen.log, (std::vector<std::string>{"click 1 click1", "ignored 2", "unknown 3",
                                                "undecodable 4"}));
  EXPECT_EQ(RecordTypeName(kClick), "click");
  EXPECT_EQ(RecordTypeName(kIgnorableBit | 5), "");
}

}  // namespace
}  // namespace refgate::clicklog
