#include "clicklog/records.h"

namespace refgate::clicklog {

void RecordDispatcher::Dispatch(const Record& rec, RecordHandler* h) {
  switch (rec.type) {
    case kClick:
      if (Status s = DecodeClick(rec.payload, &click_); !s.ok()) return h->OnUndecodable(rec, s);
      return h->OnClick(rec, click_);
  }
  if (rec.type & kIgnorableBit) return h->OnIgnored(rec);
  h->OnUnknown(rec);
}

std::string_view RecordTypeName(uint8_t type) {
  switch (type) {
    case kClick:
      return "click";
  }
  return "";
}

}  // namespace refgate::clicklog
