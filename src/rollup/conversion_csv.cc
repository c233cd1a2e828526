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

namespace {

using Payable = std::map<std::string, int64_t, std::less<>>;

// Sums the reward lines under `prefix` (every referrer's, or one's) that
// are payable by the log's clock, per referrer.
Status SumPayable(const StateDb& db, std::string_view prefix, Payable* payable) {
  const int64_t as_of = ReadAsOf(db);
  Status bad;
  Status s = db.Scan(prefix, [&](std::string_view key, std::string_view v) {
    std::string_view ref;
    int64_t at = 0, amount = 0;
    if (!ParseRewardLineKey(key, &ref, &at) || !DecodeAmount(v, &amount)) {
      bad = Status::Corruption("rollup state: bad reward line");
      return false;
    }
    if (at <= as_of) (*payable)[std::string(ref)] += amount;
    return true;
  });
  return s.ok() ? bad : s;
}

}  // namespace

Status ForEachBalance(const StateDb& db, const std::function<void(const Balance&)>& fn) {
  Payable payable;
  Status s = SumPayable(db, kRewardLinePrefix, &payable);
  if (!s.ok()) return s;
  Status bad;
  s = db.Scan(kEarningsPrefix, [&](std::string_view key, std::string_view v) {
    Balance b;
    if (!ParseEarningsKey(key, &b.referrer_id) || !Decode(v, &b.earned)) {
      bad = Status::Corruption("rollup state: bad earnings row");
      return false;
    }
    const auto it = payable.find(b.referrer_id);
    b.payable = it == payable.end() ? 0 : it->second;
    fn(b);
    return true;
  });
  return s.ok() ? bad : s;
}

Status RewardsCsv(const StateDb* db, std::string_view currency, std::string* out) {
  *out =
      "referrer_id,currency,leads,sales,revenue_minor,refunded_minor,reward_minor,payable_minor,"
      "paid_minor,balance_minor\r\n";
  if (db == nullptr) return Status::OK();
  return ForEachBalance(*db, [&](const Balance& b) {
    const Earnings& w = b.earned;
    AppendCsvText(out, b.referrer_id, true);
    AppendCsvText(out, currency);
    for (int64_t n : {w.leads, w.sales, w.revenue, w.refunded, w.reward, b.payable, w.paid,
                      b.payable - w.paid}) {
      AppendCsvSigned(out, n);
    }
    EndCsvRow(out);
  });
}

Status PayableTo(const StateDb* db, std::string_view referrer, int64_t* payable) {
  *payable = 0;
  if (db == nullptr) return Status::OK();
  std::string prefix(kRewardLinePrefix);
  PutLengthPrefixed(&prefix, referrer);
  Payable one;
  Status s = SumPayable(*db, prefix, &one);
  if (auto it = one.find(referrer); s.ok() && it != one.end()) *payable = it->second;
  return s;
}

}  // namespace refgate::rollup
