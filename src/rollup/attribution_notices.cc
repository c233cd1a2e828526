// What an Attribution run announces (rollup/outbox.h): each event it
// attributes or holds, and each reward line that becomes payable by the
// log's clock during the run.
#include "rollup/attribution.h"
#include "util/coding.h"
#include "util/time.h"

namespace refgate::rollup {
namespace json = boost::json;

namespace {

json::value TimeOrNull(int64_t us) {
  return us == 0 ? json::value(nullptr) : json::value(FormatRfc3339Micros(us));
}

// The event and reward line of an "L" key: lp(referrer) at lp(event_id) lp(kind).
bool ParseLine(std::string_view key, std::string_view* referrer, int64_t* at_us,
               std::string_view* event_id, std::string_view* kind) {
  if (!ParseRewardLineKey(key, referrer, at_us)) return false;
  key.remove_prefix(1 + VarintLength(referrer->size()) + referrer->size() + 8);
  return GetLengthPrefixed(&key, event_id) && GetLengthPrefixed(&key, kind) && key.empty();
}

}  // namespace

void Attribution::Announce(const Decision& d) {
  if (d.status != "attributed" && d.status != "held") return;
  Notice n;
  n.referrer_id = d.referrer_id;
  n.type = d.status == "held" ? "event.held" : "event.attributed";
  n.id = NoticeId(n.type, d.event_id);
  n.data = {{"event_id", d.event_id},
            {"event_type", EventTypeName(d.type)},
            {"occurred_at", FormatRfc3339Micros(d.occurred_us)},
            {"customer_id", d.customer_id},
            {"order_id", d.order_id},
            {"referrer_id", d.referrer_id},
            {"code", d.code},
            {"method", d.method},
            {"click_at", TimeOrNull(d.click_at_us)},
            {"amount_minor", d.amount_minor},
            {"reward_minor", d.reward_minor},
            {"currency", opt_.currency},
            {"status", d.status},
            {"reason", d.reason}};
  notices_.push_back(std::move(n));
}

// What is left of a reward once its sale's refunds so far are reversed:
// a refund during the hold reverses at the reward's own time (attribution.cc,
// DecideRefund), so payable_minor counts the two together.
Status Attribution::NetReward(std::string_view event_id, int64_t gross, int64_t* net) {
  *net = gross;
  std::string date;
  const std::string date_key = EventDateKey(event_id);
  if (auto it = event_dates_.find(date_key); it != event_dates_.end()) {
    date = it->second;
  } else if (Status s = db_->Get(date_key, &date); !s.ok()) {
    return s.IsNotFound() ? Status::OK() : s;
  }
  // Read through the run's rows (a row loaded here and not found is
  // dropped again, so that Writes never writes it).
  const std::string decision_key = DecisionKey(date, event_id);
  Decision* d;
  bool found;
  if (Status s = LoadRow(*db_, decision_key, &decisions_, &d, &found); !s.ok()) return s;
  if (!found) decisions_.erase(decision_key);
  if (!found || d->type != EventType::kSale) return Status::OK();  // a lead: nothing reverses it
  const std::string sale_key = SaleKey(d->order_id);
  SaleInfo* sale;
  if (Status s = LoadRow(*db_, sale_key, &sales_, &sale, &found); !s.ok()) return s;
  if (!found) sales_.erase(sale_key);
  if (found) *net = gross - sale->reversed;
  return Status::OK();
}

void Attribution::AnnouncePayable(std::string_view referrer, std::string_view event_id,
                                  int64_t at_us, int64_t amount) {
  Notice n;
  n.referrer_id = referrer;
  n.type = "reward.payable";
  n.id = NoticeId(n.type, std::string(referrer) + "\n" + std::string(event_id));
  n.data = {{"referrer_id", referrer},
            {"event_id", event_id},
            {"amount_minor", amount},
            {"currency", opt_.currency},
            {"payable_at", FormatRfc3339Micros(at_us)}};
  notices_.push_back(std::move(n));
}

// Rewards (not reversals) payable by as_of_us_ that were not at the last
// run's as_of (since_us): lines of earlier runs whose time came, then this
// run's lines whose time has come already. Reads the state as it was
// before the run (this run's lines are not in it).
Status Attribution::AnnouncePayables(int64_t since_us) {
  struct Due {
    std::string key;
    int64_t amount;
  };
  std::vector<Due> due;
  auto take = [&](std::string_view key, int64_t amount, int64_t after_us) {
    std::string_view referrer, event_id, kind;
    int64_t at = 0;
    if (!ParseLine(key, &referrer, &at, &event_id, &kind)) return false;
    if (kind == "reward" && amount > 0 && at > after_us && at <= as_of_us_) {
      due.push_back({std::string(key), amount});
    }
    return true;
  };
  bool bad = false;
  Status s = db_->Scan(kRewardLinePrefix, [&](std::string_view k, std::string_view v) {
    int64_t amount = 0;
    bad = !DecodeAmount(v, &amount) || !take(k, amount, since_us);
    return !bad;
  });
  for (const auto& [k, amount] : lines_) bad = bad || !take(k, amount, INT64_MIN);
  if (!s.ok()) return s;
  if (bad) return Status::Corruption("rollup state: a reward line");
  for (const Due& d : due) {
    std::string_view referrer, event_id, kind;
    int64_t at = 0, net = 0;
    (void)ParseLine(d.key, &referrer, &at, &event_id, &kind);
    if (s = NetReward(event_id, d.amount, &net); !s.ok()) return s;
    if (net > 0) AnnouncePayable(referrer, event_id, at, net);  // else refunded in full
  }
  return Status::OK();
}

// The notices' numbers, the payable rewards, and (once the run's clock
// is final) the entries old enough to go.
Status Attribution::PrepareNotices(int64_t last_as_of_us, bool last_part) {
  if (Status s = ReadOutboxHead(*db_, &outbox_); !s.ok()) return s;
  if (Status s = AnnouncePayables(last_as_of_us); !s.ok()) return s;
  if (!last_part) return Status::OK();
  return ExpiredNotices(*db_, as_of_us_ - kOutboxKeepUs, &expired_notices_);
}

void Attribution::WriteOutbox(StateDb::Batch* out) const {
  WriteNotices(notices_, outbox_, as_of_us_, out);
  for (const auto& k : expired_notices_) out->Delete(k);
}

}  // namespace refgate::rollup
