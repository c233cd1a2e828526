#include "rollup/listing.h"

#include "rollup/conversion_csv.h"
#include "rollup/conversion_rows.h"
#include "util/time.h"

namespace refgate::rollup {
namespace json = boost::json;

namespace {

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

// The decision's part of an event object: status, reward_minor, reason, attribution.
void FillDecision(const Decision& d, json::object* out) {
  (*out)["status"] = d.status;
  (*out)["reward_minor"] = d.reward_minor;
  (*out)["reason"] = OrNull(d.reason);
  if (d.referrer_id.empty()) {
    (*out)["attribution"] = nullptr;
    return;
  }
  json::object a;
  a["referrer_id"] = d.referrer_id;
  a["code"] = d.code;
  a["method"] = d.method;
  a["click_at"] =
      d.click_at_us == 0 ? json::value(nullptr) : json::value(FormatRfc3339Micros(d.click_at_us));
  (*out)["attribution"] = std::move(a);
}

json::object EventJson(const std::string& date, const Decision& d) {
  json::object o;
  o["date"] = date;
  o["event_id"] = d.event_id;
  o["type"] = EventTypeName(d.type);
  o["occurred_at"] = FormatRfc3339(d.occurred_us / 1000000);
  o["customer_id"] = OrNull(d.customer_id);
  o["order_id"] = OrNull(d.order_id);
  o["amount_minor"] = d.amount_minor;
  FillDecision(d, &o);
  return o;
}

// The cursor's day and decision key; InvalidArgument unless `cursor` names
// a decided event of [from, to].
Status ParseCursor(const StateDb* db, const EventPage& page, int64_t* day, std::string* key) {
  const Status refused = Status::InvalidArgument("not a cursor of this listing");
  const size_t slash = page.cursor.find('/');
  if (db == nullptr || slash == std::string_view::npos) return refused;
  const std::string_view date = page.cursor.substr(0, slash);
  const std::optional<int64_t> d = ParseDate(date);
  if (!d || *d < page.from || *d > page.to) return refused;
  *day = *d;
  *key = DecisionKey(date, page.cursor.substr(slash + 1));
  std::string value;
  Status s = db->Get(*key, &value);
  return s.IsNotFound() ? refused : s;
}

}  // namespace

Status EventDecision(const StateDb* db, std::string_view event_id, json::object* out) {
  if (db == nullptr) return Status::NotFound("not compacted yet");
  std::string date, value;
  Status s = db->Get(EventDateKey(event_id), &date);
  if (s.ok()) s = db->Get(DecisionKey(date, event_id), &value);
  if (!s.ok()) return s;
  Decision d;
  if (!Decode(value, &d)) return Status::Corruption("rollup state: bad event row");
  FillDecision(d, out);
  return Status::OK();
}

Status ListEvents(const StateDb* db, const EventPage& page, json::array* out, std::string* next) {
  int64_t day = page.to;
  std::string after;  // the cursor's key: the scan of its day starts past it
  if (!page.cursor.empty()) {
    if (Status s = ParseCursor(db, page, &day, &after); !s.ok()) return s;
  }
  std::string last;  // the cursor after the page, once it is known to be full
  if (db == nullptr) return next->clear(), Status::OK();
  for (bool full = false; day >= page.from; day -= kSecondsPerDay, after.clear()) {
    const std::string date = FormatDate(day), prefix = DecisionPrefix(date);
    Status bad;
    Status s = db->Scan(prefix, after.empty() ? prefix : after,
                        [&](std::string_view key, std::string_view value) {
                          Decision d;
                          if (key == after) return true;
                          if (!Decode(value, &d)) {
                            bad = Status::Corruption("rollup state: bad event row");
                            return false;
                          }
                          if (!page.referrer.empty() && d.referrer_id != page.referrer) return true;
                          if (out->size() == page.limit)
                            return !(full = true);  // one more: the page is not the last
                          out->push_back(EventJson(date, d));
                          last = date + "/" + d.event_id;
                          return true;
                        });
    if (!s.ok() || !bad.ok()) return s.ok() ? bad : s;
    if (full) return *next = std::move(last), Status::OK();
  }
  next->clear();
  return Status::OK();
}

Status Balances(const StateDb* db, json::array* out) {
  if (db == nullptr) return Status::OK();
  return ForEachBalance(*db, [out](const Balance& b) {
    const Earnings& w = b.earned;
    json::object o;
    o["referrer_id"] = b.referrer_id;
    o["leads"] = w.leads;
    o["sales"] = w.sales;
    o["revenue_minor"] = w.revenue;
    o["refunded_minor"] = w.refunded;
    o["reward_minor"] = w.reward;
    o["payable_minor"] = b.payable;
    o["paid_minor"] = w.paid;
    o["balance_minor"] = b.payable - w.paid;
    out->push_back(std::move(o));
  });
}

}  // namespace refgate::rollup
