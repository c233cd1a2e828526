// EventRecord: one conversion event as the click log stores it (SPEC §6):
// evidence only. Attribution and rewards are decided by the compaction job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace refgate {

enum class EventType : uint8_t { kLead = 1, kSale = 2, kRefund = 3 };

struct EventRecord {
  uint64_t seq = 0;  // the record's place in the click log, set by readers
  EventType type = EventType::kLead;
  std::string event_id;
  int64_t received_us = 0;      // when refgate took it (Unix microseconds, UTC)
  int64_t occurred_us = 0;      // occurred_at; received_us when the caller gave none
  bool occurred_given = false;  // the caller sent occurred_at
  std::string customer_id;
  std::string click_id;
  std::string visitor_id;
  std::string code;
  std::string order_id;
  std::string currency;
  int64_t amount_minor = 0;                                   // 0 for a lead
  std::vector<std::pair<std::string, std::string>> metadata;  // sorted by key, keys unique

  bool operator==(const EventRecord&) const = default;
};

// "lead", "sale", "refund".
std::string_view EventTypeName(EventType type);
[[nodiscard]] bool ParseEventType(std::string_view name, EventType* type);

}  // namespace refgate
