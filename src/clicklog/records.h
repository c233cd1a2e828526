// Typed records: the one place that knows which record types exist and how
// their payloads decode, so that every reader (log dump, log verify,
// compaction) treats a type the same way. A new type is one case here and
// one handler method.
//
// What a reader may meet besides the known types:
// - an unknown type with kIgnorableBit: a newer writer's record that old
//   readers are meant to pass over (OnIgnored);
// - an unknown type without it: a newer writer's record this version must
//   not drop (OnUnknown; compaction stops there);
// - a known type whose payload does not decode although its checksum holds:
//   a writer's bug (OnUndecodable).
// Damaged bytes never get here: the SegmentParser reports them to its
// Reporter and returns only records that check out.
#pragma once

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "refgate/click_record.h"
#include "refgate/event_record.h"
#include "refgate/status.h"

namespace refgate::clicklog {

class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  // `click` is valid for the call only.
  virtual void OnClick(const Record& rec, const ClickRecord& click) = 0;
  // A conversion event; `event` (its seq set) is valid for the call only.
  virtual void OnEvent(const Record& rec, const EventRecord& event) = 0;
  // A code as a change through the admin API left it (valid for the call).
  virtual void OnCode(const Record& rec, const CodeChange& change) = 0;
  // A campaign's reward rules set or removed; a payout (valid for the call).
  virtual void OnCampaign(const Record& rec, const CampaignChange& change) = 0;
  virtual void OnPayout(const Record& rec, const Payout& payout) = 0;
  virtual void OnIgnored(const Record& rec) = 0;
  virtual void OnUnknown(const Record& rec) = 0;
  virtual void OnUndecodable(const Record& rec, const Status& why) = 0;
  // A kShipped record (cluster mode): node_id's records first..last, which
  // the handler gets next, each as if it were a record of this log (its
  // own seq, from node_id's log). A handler sees all of them or none: one
  // of an unknown type without kIgnorableBit is OnUnknown, alone.
  virtual void OnShipped(const Record& rec, std::string_view node_id, uint64_t first,
                         uint64_t last) {
    (void)rec, (void)node_id, (void)first, (void)last;
  }
};

// Decodes records by type into reused storage and hands them on.
class RecordDispatcher {
 public:
  void Dispatch(const Record& rec, RecordHandler* h);

 private:
  // `order`: the event's seq, its place in the log (a shipped record's
  // records: the outer seq, then their index in it).
  void DispatchOne(const Record& rec, uint64_t order, RecordHandler* h);
  void DispatchShipped(const Record& rec, RecordHandler* h);

  ClickRecord click_;
  EventRecord event_;
  CodeChange code_;
  CampaignChange campaign_;
  Payout payout_;
};

// The name `log dump` prints for a known type; "" for an unknown one.
std::string_view RecordTypeName(uint8_t type);

}  // namespace refgate::clicklog
