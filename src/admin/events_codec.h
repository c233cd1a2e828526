// The events API's JSON (SPEC §6): a POST body to an EventRecord, and an
// EventRecord back to JSON.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

#include "admin/validate.h"
#include "refgate/event_record.h"
#include "refgate/reward_rules.h"

namespace refgate {

// Fills *e from a POST /api/v1/events body, or returns the first field at
// fault. `currency`: [rewards] currency, which every event must carry (or
// leave out). `now_us` becomes received_us, and occurred_us when the body
// has no occurred_at. Unknown fields are errors.
std::optional<ApiError> ParseEvent(const boost::json::object& body, std::string_view currency,
                                   int64_t now_us, EventRecord* e);

// The fields the caller sent, as the caller would send them again, plus
// received_at.
boost::json::object EventToJson(const EventRecord& e);

// The rules' keys as [rewards] names them (sale_percent as a percentage).
void AppendRulesJson(const RewardRules& r, boost::json::object* o);

}  // namespace refgate
