#include "rollup/stats.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "rollup/conversion_rows.h"
#include "rollup/rows.h"
#include "util/time.h"

namespace refgate::rollup {
namespace json = boost::json;

namespace {

struct Totals {
  uint64_t clicks = 0, new_visitors = 0, bot_clicks = 0, conversions = 0, revenue_minor = 0;
  VisitorSet visitors;

  void Add(const DayCodeRow& r) {
    clicks += r.clicks;
    new_visitors += r.new_visitors;
    bot_clicks += r.bot_clicks;
    conversions += r.conversions;
    revenue_minor += r.revenue_minor;
    visitors.Merge(r.visitors);
  }
  void Fill(json::object* o) const {
    (*o)["clicks"] = clicks;
    (*o)["unique_visitors"] = visitors.Count();
    (*o)["new_visitors"] = new_visitors;
    (*o)["bot_clicks"] = bot_clicks;
    (*o)["conversions"] = conversions;
    (*o)["revenue_minor"] = revenue_minor;
  }
};

struct ChannelTotals {
  uint64_t clicks = 0;
  VisitorSet visitors;
};

template <typename Map, typename Name>
json::array SortedByClicks(const Map& m, Name name) {
  std::vector<const typename Map::value_type*> rows;
  for (const auto& kv : m) rows.push_back(&kv);
  std::stable_sort(rows.begin(), rows.end(),
                   [](auto* a, auto* b) { return a->second.clicks > b->second.clicks; });
  json::array out;
  for (auto* kv : rows) {
    json::object o;
    name(kv->first, &o);
    o["clicks"] = kv->second.clicks;
    o["unique_visitors"] = kv->second.visitors.Count();
    out.push_back(std::move(o));
  }
  return out;
}

// What the compaction job decided about the day's events: the referrer's
// attributed leads and rewards, and the program's unattributed events.
struct EventTotals {
  uint64_t leads = 0, unattributed = 0;
  int64_t reward_minor = 0;
};

Status CountDecisions(const StateDb& db, const std::string& date, std::string_view referrer,
                      EventTotals* t, Status* bad) {
  return db.Scan(DecisionPrefix(date), [&](std::string_view, std::string_view v) {
    Decision d;
    if (!Decode(v, &d)) {
      *bad = Status::Corruption("rollup state: bad event row");
      return false;
    }
    if (d.status == "unattributed") ++t->unattributed;
    if (d.status != "attributed" || d.referrer_id != referrer) return true;
    t->leads += d.type == EventType::kLead ? 1 : 0;
    t->reward_minor += d.reward_minor;
    return true;
  });
}

}  // namespace

Status ReferrerStats(const StateDb* db, std::string_view referrer, int64_t from, int64_t to,
                     json::object* out) {
  Totals all;
  EventTotals events;
  json::array by_day;
  std::map<std::string, Totals> by_code;
  std::map<std::tuple<std::string, std::string, std::string>, ChannelTotals> by_channel;
  Status bad;
  for (int64_t day = from; db && day <= to; day += 86400) {
    const std::string date = FormatDate(day);
    Totals today;
    Status s = db->Scan(DayRefPrefix(date, referrer), [&](std::string_view k, std::string_view v) {
      std::string_view d, ref, code;
      DayCodeRow row;
      if (!ParseDayCodeKey(k, &d, &ref, &code) || !Decode(v, &row)) {
        bad = Status::Corruption("rollup state: bad day row");
        return false;
      }
      today.Add(row);
      by_code[std::string(code)].Add(row);
      return true;
    });
    if (s.ok()) {
      s = db->Scan(ChannelRefPrefix(date, referrer), [&](std::string_view k, std::string_view v) {
        std::string_view d, ref, code, src, med, camp;
        ChannelRow row;
        if (!ParseChannelKey(k, &d, &ref, &code, &src, &med, &camp) || !Decode(v, &row)) {
          bad = Status::Corruption("rollup state: bad channel row");
          return false;
        }
        auto& t = by_channel[{std::string(src), std::string(med), std::string(camp)}];
        t.clicks += row.clicks;
        t.visitors.Merge(row.visitors);
        return true;
      });
    }
    if (s.ok()) s = CountDecisions(*db, date, referrer, &events, &bad);
    if (!s.ok()) return s;
    if (!bad.ok()) return bad;
    all.clicks += today.clicks;
    all.new_visitors += today.new_visitors;
    all.bot_clicks += today.bot_clicks;
    all.conversions += today.conversions;
    all.revenue_minor += today.revenue_minor;
    all.visitors.Merge(today.visitors);
    if (today.clicks + today.bot_clicks + today.conversions == 0) continue;
    json::object o;
    o["date"] = date;
    today.Fill(&o);
    by_day.push_back(std::move(o));
  }
  (*out)["referrer_id"] = referrer;
  (*out)["from"] = FormatDate(from);
  (*out)["to"] = FormatDate(to);
  all.Fill(out);
  (*out)["leads"] = events.leads;
  (*out)["reward_minor"] = events.reward_minor;
  (*out)["unattributed"] = events.unattributed;
  const uint64_t visitors = all.visitors.Count();
  (*out)["conversion_rate"] =
      visitors == 0 ? 0.0 : static_cast<double>(all.conversions) / static_cast<double>(visitors);
  (*out)["by_day"] = std::move(by_day);
  json::array codes;
  for (const auto& [code, t] : by_code) {
    json::object o;
    o["code"] = code;
    t.Fill(&o);
    codes.push_back(std::move(o));
  }
  (*out)["by_code"] = std::move(codes);
  (*out)["by_channel"] = SortedByClicks(by_channel, [](const auto& key, json::object* o) {
    (*o)["utm_source"] = std::get<0>(key);
    (*o)["utm_medium"] = std::get<1>(key);
    (*o)["utm_campaign"] = std::get<2>(key);
  });
  return Status::OK();
}

Status EventDecision(const StateDb* db, std::string_view event_id, boost::json::object* out) {
  if (db == nullptr) return Status::NotFound("not compacted yet");
  std::string date, value;
  Status s = db->Get(EventDateKey(event_id), &date);
  if (s.ok()) s = db->Get(DecisionKey(date, event_id), &value);
  if (!s.ok()) return s;
  Decision d;
  if (!Decode(value, &d)) return Status::Corruption("rollup state: bad event row");
  (*out)["status"] = d.status;
  (*out)["reward_minor"] = d.reward_minor;
  (*out)["reason"] = d.reason.empty() ? boost::json::value(nullptr) : boost::json::value(d.reason);
  if (d.referrer_id.empty()) {
    (*out)["attribution"] = nullptr;
    return Status::OK();
  }
  boost::json::object a;
  a["referrer_id"] = d.referrer_id;
  a["code"] = d.code;
  a["method"] = d.method;
  a["click_at"] = d.click_at_us == 0 ? boost::json::value(nullptr)
                                     : boost::json::value(FormatRfc3339Micros(d.click_at_us));
  (*out)["attribution"] = std::move(a);
  return Status::OK();
}

}  // namespace refgate::rollup
