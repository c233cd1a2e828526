#include "rollup/conversion_csv.h"

#include <map>

#include "rollup/conversion_rows.h"
#include "rollup/csv.h"
#include "rollup/rows.h"
#include "util/coding.h"
#include "util/time.h"

namespace refgate::rollup {

Status EventsCsv(const StateDb& db, const std::string& date, std::string* out, size_t* rows) {
  *out =
      "date,event_id,type,occurred_at,customer_id,order_id,referrer_id,code,method,amount_minor,"
      "reward_minor,status,reason\r\n";
  *rows = 0;
  Status bad;
  Status s = db.Scan(DecisionPrefix(date), [&](std::string_view, std::string_view value) {
    Decision d;
    if (!Decode(value, &d)) {
      bad = Status::Corruption("rollup state: bad event row");
      return false;
    }
    AppendCsvText(out, date, true);
    AppendCsvText(out, d.event_id);
    AppendCsvText(out, EventTypeName(d.type));
    AppendCsvText(out, FormatRfc3339(d.occurred_us / 1000000));
    for (const std::string* f : {&d.customer_id, &d.order_id, &d.referrer_id, &d.code, &d.method}) {
      AppendCsvText(out, *f);
    }
    AppendCsvSigned(out, d.amount_minor);
    AppendCsvSigned(out, d.reward_minor);
    AppendCsvText(out, d.status);
    AppendCsvText(out, d.reason);
    EndCsvRow(out);
    ++*rows;
    return true;
  });
  return s.ok() ? bad : s;
}

Status RewardsCsv(const StateDb& db, std::string_view currency, std::string* out) {
  std::string value;
  int64_t as_of = 0;
  if (db.Get(kAsOfKey, &value).ok() && value.size() == 8) {
    as_of = static_cast<int64_t>(DecodeFixed64(value.data()));
  }
  std::map<std::string, int64_t, std::less<>> payable;
  Status bad;
  Status s = db.Scan(kRewardLinePrefix, [&](std::string_view key, std::string_view v) {
    std::string_view ref;
    int64_t at = 0, amount = 0;
    if (!ParseRewardLineKey(key, &ref, &at) || !DecodeAmount(v, &amount)) {
      bad = Status::Corruption("rollup state: bad reward line");
      return false;
    }
    if (at <= as_of) payable[std::string(ref)] += amount;
    return true;
  });
  if (!s.ok() || !bad.ok()) return s.ok() ? bad : s;
  *out =
      "referrer_id,currency,leads,sales,revenue_minor,refunded_minor,reward_minor,payable_minor,"
      "paid_minor,balance_minor\r\n";
  s = db.Scan(kEarningsPrefix, [&](std::string_view key, std::string_view v) {
    std::string_view ref;
    Earnings w;
    if (!ParseEarningsKey(key, &ref) || !Decode(v, &w)) {
      bad = Status::Corruption("rollup state: bad earnings row");
      return false;
    }
    const auto it = payable.find(ref);
    const int64_t due = it == payable.end() ? 0 : it->second, paid = w.paid;
    AppendCsvText(out, ref, true);
    AppendCsvText(out, currency);
    for (int64_t n : {w.leads, w.sales, w.revenue, w.refunded, w.reward, due, paid, due - paid}) {
      AppendCsvSigned(out, n);
    }
    EndCsvRow(out);
    return true;
  });
  return s.ok() ? bad : s;
}

Status PayableTo(const StateDb* db, std::string_view referrer, int64_t* payable) {
  *payable = 0;
  if (db == nullptr) return Status::OK();
  std::string value;
  int64_t as_of = 0;
  if (db->Get(kAsOfKey, &value).ok() && value.size() == 8) {
    as_of = static_cast<int64_t>(DecodeFixed64(value.data()));
  }
  std::string prefix = "L";
  PutLengthPrefixed(&prefix, referrer);
  Status bad;
  Status s = db->Scan(prefix, [&](std::string_view key, std::string_view v) {
    std::string_view ref;
    int64_t at = 0, amount = 0;
    if (!ParseRewardLineKey(key, &ref, &at) || !DecodeAmount(v, &amount)) {
      bad = Status::Corruption("rollup state: bad reward line");
      return false;
    }
    if (at > as_of) return false;  // in time order: the rest are later
    *payable += amount;
    return true;
  });
  return s.ok() ? bad : s;
}

}  // namespace refgate::rollup
