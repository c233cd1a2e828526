#include "clicklog/records.h"

namespace refgate::clicklog {

void RecordDispatcher::Dispatch(const Record& rec, RecordHandler* h) {
  switch (rec.type) {
    case kClick:
      if (Status s = DecodeClick(rec.payload, &click_); !s.ok()) return h->OnUndecodable(rec, s);
      return h->OnClick(rec, click_);
    case kEvent:
      if (Status s = DecodeEvent(rec.payload, &event_); !s.ok()) return h->OnUndecodable(rec, s);
      event_.seq = rec.seq;
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
  }
  return "";
}

}  // namespace refgate::clicklog
