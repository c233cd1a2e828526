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

  // Adds a DayCodeRow, or other Totals.
  template <typename Row>
  void Add(const Row& r) {
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

// m's rows by clicks, most first (ties in key order), at most `limit`;
// fill(key, value, &object) writes each row's fields.
template <typename Map, typename Fill>
json::array SortedByClicks(const Map& m, Fill fill, size_t limit = SIZE_MAX) {
  std::vector<const typename Map::value_type*> rows;
  for (const auto& kv : m) rows.push_back(&kv);
  std::stable_sort(rows.begin(), rows.end(),
                   [](auto* a, auto* b) { return a->second.clicks > b->second.clicks; });
  if (rows.size() > limit) rows.resize(limit);
  json::array out;
  for (auto* kv : rows) {
    json::object o;
    fill(kv->first, kv->second, &o);
    out.push_back(std::move(o));
  }
  return out;
}

using ChannelMap = std::map<std::tuple<std::string, std::string, std::string>, ChannelTotals>;

// Adds the channel rows under `prefix` (a day's, or a referrer's day's).
Status ScanChannels(const StateDb& db, const std::string& prefix, ChannelMap* by_channel,
                    Status* bad) {
  return db.Scan(prefix, [&](std::string_view k, std::string_view v) {
    std::string_view d, ref, code, src, med, camp;
    ChannelRow row;
    if (!ParseChannelKey(k, &d, &ref, &code, &src, &med, &camp) || !Decode(v, &row)) {
      *bad = Status::Corruption("rollup state: bad channel row");
      return false;
    }
    auto& t = (*by_channel)[{std::string(src), std::string(med), std::string(camp)}];
    t.clicks += row.clicks;
    t.visitors.Merge(row.visitors);
    return true;
  });
}

json::array ChannelArray(const ChannelMap& m, size_t limit = SIZE_MAX) {
  return SortedByClicks(
      m,
      [](const auto& key, const ChannelTotals& t, json::object* o) {
        (*o)["utm_source"] = std::get<0>(key);
        (*o)["utm_medium"] = std::get<1>(key);
        (*o)["utm_campaign"] = std::get<2>(key);
        (*o)["clicks"] = t.clicks;
        (*o)["unique_visitors"] = t.visitors.Count();
      },
      limit);
}

// What the compaction job decided about the day's events: the referrer's
// attributed leads and rewards, and the program's unattributed events.
struct EventTotals {
  uint64_t leads = 0, unattributed = 0;
  int64_t reward_minor = 0;

  void Merge(const EventTotals& t) {
    leads += t.leads;
    unattributed += t.unattributed;
    reward_minor += t.reward_minor;
  }
};

// Counts the day's unattributed events into *t, and calls attributed(d)
// for each attributed one.
template <typename Attributed>
Status ScanDecisions(const StateDb& db, const std::string& date, EventTotals* t, Status* bad,
                     Attributed attributed) {
  return db.Scan(DecisionPrefix(date), [&](std::string_view, std::string_view v) {
    Decision d;
    if (!Decode(v, &d)) {
      *bad = Status::Corruption("rollup state: bad event row");
      return false;
    }
    if (d.status == "unattributed") ++t->unattributed;
    if (d.status == "attributed") attributed(d);
    return true;
  });
}

void CountAttributed(const Decision& d, EventTotals* t) {
  t->leads += d.type == EventType::kLead ? 1 : 0;
  t->reward_minor += d.reward_minor;
}

Status CountDecisions(const StateDb& db, const std::string& date, std::string_view referrer,
                      EventTotals* t, Status* bad) {
  return ScanDecisions(db, date, t, bad, [&](const Decision& d) {
    if (d.referrer_id == referrer) CountAttributed(d, t);
  });
}

// One referrer's row of the program's stats.
struct ReferrerTotals : Totals {
  EventTotals events;
};

// Calls add(referrer, code, row) for each day row under `prefix` (a day's,
// or a referrer's day's).
template <typename Add>
Status ScanDayRows(const StateDb& db, const std::string& prefix, Status* bad, Add add) {
  return db.Scan(prefix, [&](std::string_view k, std::string_view v) {
    std::string_view d, ref, code;
    DayCodeRow row;
    if (!ParseDayCodeKey(k, &d, &ref, &code) || !Decode(v, &row)) {
      *bad = Status::Corruption("rollup state: bad day row");
      return false;
    }
    add(ref, code, row);
    return true;
  });
}

void FillEvents(const EventTotals& e, json::object* o) {
  (*o)["leads"] = e.leads;
  (*o)["reward_minor"] = e.reward_minor;
}

}  // namespace

Status ReferrerStats(const StateDb* db, std::string_view referrer, int64_t from, int64_t to,
                     json::object* out) {
  Totals all;
  EventTotals events;
  json::array by_day;
  std::map<std::string, Totals> by_code;
  ChannelMap by_channel;
  Status bad;
  for (int64_t day = from; db && day <= to; day += kSecondsPerDay) {
    const std::string date = FormatDate(day);
    Totals today;
    Status s = ScanDayRows(*db, DayRefPrefix(date, referrer), &bad,
                           [&](std::string_view, std::string_view code, const DayCodeRow& row) {
                             today.Add(row);
                             by_code[std::string(code)].Add(row);
                           });
    if (s.ok()) s = ScanChannels(*db, ChannelRefPrefix(date, referrer), &by_channel, &bad);
    if (s.ok()) s = CountDecisions(*db, date, referrer, &events, &bad);
    if (!s.ok()) return s;
    if (!bad.ok()) return bad;
    all.Add(today);
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
  FillEvents(events, out);
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
  (*out)["by_channel"] = ChannelArray(by_channel);
  return Status::OK();
}

Status ProgramStats(const StateDb* db, int64_t from, int64_t to, json::object* out) {
  Totals all;
  EventTotals events;
  json::array by_day;
  std::map<std::string, ReferrerTotals> by_referrer;
  ChannelMap by_channel;
  Status bad;
  for (int64_t day = from; db && day <= to; day += kSecondsPerDay) {
    const std::string date = FormatDate(day);
    Totals today;
    EventTotals today_events;
    Status s = ScanDayRows(*db, DayPrefix(date), &bad,
                           [&](std::string_view ref, std::string_view, const DayCodeRow& row) {
                             today.Add(row);
                             by_referrer[std::string(ref)].Add(row);
                           });
    if (s.ok()) s = ScanChannels(*db, ChannelPrefix(date), &by_channel, &bad);
    if (s.ok()) {
      s = ScanDecisions(*db, date, &today_events, &bad, [&](const Decision& d) {
        CountAttributed(d, &today_events);
        CountAttributed(d, &by_referrer[d.referrer_id].events);
      });
    }
    if (!s.ok()) return s;
    if (!bad.ok()) return bad;
    all.Add(today);
    events.Merge(today_events);
    json::object o;
    o["date"] = date;
    today.Fill(&o);
    FillEvents(today_events, &o);
    by_day.push_back(std::move(o));  // every day, so that a chart's days are even
  }
  (*out)["from"] = FormatDate(from);
  (*out)["to"] = FormatDate(to);
  all.Fill(out);
  FillEvents(events, out);
  (*out)["unattributed"] = events.unattributed;
  (*out)["by_day"] = std::move(by_day);
  (*out)["by_referrer"] = SortedByClicks(
      by_referrer,
      [](const std::string& ref, const ReferrerTotals& t, json::object* o) {
        (*o)["referrer_id"] = ref;
        t.Fill(o);
        FillEvents(t.events, o);
      },
      kMaxProgramRows);
  (*out)["by_channel"] = ChannelArray(by_channel, kMaxProgramRows);
  return Status::OK();
}

}  // namespace refgate::rollup
