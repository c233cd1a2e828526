// The decided events and the referrers' balances as JSON, for the admin
// API and the dashboard (SPEC §6, §7), read from the conversion state.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "refgate/status.h"
#include "store/state_db.h"

namespace refgate::rollup {

// What the compaction job decided about an event (SPEC §6): sets "status"
// (attributed, unattributed or held), "attribution" ({referrer_id, code,
// method, click_at} or null), "reward_minor" and "reason"; leaves *out alone
// and returns NotFound when no run has read the event yet (or db is null).
Status EventDecision(const StateDb* db, std::string_view event_id, boost::json::object* out);

// One page of the events decided on the UTC days [from, to] (Unix seconds
// at 00:00), newest day first and in key order within a day, only those
// attributed to `referrer` unless it is "". `cursor` ("" for the first
// page) is the last event of the page before as "<date>/<event_id>";
// InvalidArgument when refgate could not have issued it for this range.
// *next: the cursor of the page after, "" when this page is the last (it
// may be the string page.cursor views).
struct EventPage {
  int64_t from = 0, to = 0;
  std::string_view referrer, cursor;
  size_t limit = 100;
};
Status ListEvents(const StateDb* db, const EventPage& page, boost::json::array* out,
                  std::string* next);

// rewards.csv's rows as objects, in referrer order: referrer_id, leads,
// sales, revenue_minor, refunded_minor, reward_minor, payable_minor,
// paid_minor, balance_minor.
Status Balances(const StateDb* db, boost::json::array* out);

}  // namespace refgate::rollup
