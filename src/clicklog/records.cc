#include "clicklog/records.h"

namespace refgate::clicklog {

void RecordDispatcher::Dispatch(const Record& rec, RecordHandler* h) {
  if (rec.type == kShipped) return DispatchShipped(rec, h);
  DispatchOne(rec, rec.seq, h);
}

void RecordDispatcher::DispatchShipped(const Record& rec, RecordHandler* h) {
  std::string_view node, records;
  if (Status s = DecodeShipped(rec.payload, &node, &records); !s.ok()) {
    return h->OnUndecodable(rec, s);
  }
  // A first look at every record, so that nothing of the message is handed
  // on when one of them stops a reader.
  SegmentParser check(records, "", nullptr);
  Record inner;
  uint64_t first = 0, last = 0, n = 0;
  bool bad = false;
  for (; check.Next(&inner); ++n) {
    if ((n > 0 && inner.seq != last + 1) || inner.type == kShipped) {
      bad = true;
      break;
    }
    if (RecordTypeName(inner.type).empty() && !(inner.type & kIgnorableBit)) {
      return h->OnUnknown(inner);
    }
    if (n == 0) first = inner.seq;
    last = inner.seq;
  }
  // Each record's place in the log is (rec.seq << 16 | its index): a
  // message of at most kMaxPayload bytes holds fewer than 2^16 records.
  if (bad || n == 0 || check.valid_end() != records.size()) {
    return h->OnUndecodable(
        rec, Status::Corruption("shipped message of " + std::string(node) +
                                ": damaged or out of order at record " + std::to_string(n + 1)));
  }
  h->OnShipped(rec, node, first, last);
  SegmentParser parser(records, "", nullptr);
  for (uint64_t i = 0; parser.Next(&inner); ++i) DispatchOne(inner, rec.seq << 16 | i, h);
}

void RecordDispatcher::DispatchOne(const Record& rec, uint64_t order, RecordHandler* h) {
  switch (rec.type) {
    case kClick:
      if (Status s = DecodeClick(rec.payload, &click_); !s.ok()) return h->OnUndecodable(rec, s);
      return h->OnClick(rec, click_);
    case kEvent:
      if (Status s = DecodeEvent(rec.payload, &event_); !s.ok()) return h->OnUndecodable(rec, s);
      event_.seq = order;
      return h->OnEvent(rec, event_);
    case kCode:
      if (Status s = DecodeCodeChange(rec.payload, &code_); !s.ok())
        return h->OnUndecodable(rec, s);
      return h->OnCode(rec, code_);
    case kCampaign:
      if (Status s = DecodeCampaignChange(rec.payload, &campaign_); !s.ok()) {
        return h->OnUndecodable(rec, s);
      }
      return h->OnCampaign(rec, campaign_);
    case kPayout:
      if (Status s = DecodePayout(rec.payload, &payout_); !s.ok()) return h->OnUndecodable(rec, s);
      return h->OnPayout(rec, payout_);
    case kShipped:
      break;  // never inside another: DispatchShipped's
  }
  if (rec.type & kIgnorableBit) return h->OnIgnored(rec);
  h->OnUnknown(rec);
}

std::string_view RecordTypeName(uint8_t type) {
  switch (type) {
    case kClick:
      return "click";
    case kEvent:
      return "event";
    case kCode:
      return "code";
    case kCampaign:
      return "campaign";
    case kPayout:
      return "payout";
    case kShipped:
      return "shipped";
  }
  return "";
}

}  // namespace refgate::clicklog
