// The end of an Attribution run (attribution.h): the pending events looked
// at again, and the writes that apply the run to the state.
#include <algorithm>

#include "rollup/attribution.h"
#include "rollup/rows.h"
#include "util/coding.h"

namespace refgate::rollup {
namespace {

constexpr int64_t kDayUs = 86400'000000;
constexpr std::string_view kPendingPrefix = "q";

}  // namespace

Status Attribution::Finish() {
  as_of_us_ = std::max(as_of_us_, ReadAsOf(*db_));
  // Earlier runs' pending events, then this run's: in log order.
  std::vector<std::pair<std::string, std::string>> all;
  Status s = db_->Scan(kPendingPrefix, [&all](std::string_view k, std::string_view v) {
    all.emplace_back(std::string(k), std::string(v));
    return true;
  });
  if (!s.ok()) return s;
  for (auto& [seq, payload] : pending_) all.emplace_back(PendingEventKey(seq), std::move(payload));
  pending_.clear();
  const int64_t window = int64_t{opt_.window_days} * kDayUs;
  for (auto& [key, payload] : all) {
    EventRecord e;
    if (s = clicklog::DecodeEvent(payload, &e); !s.ok()) return s;
    bool decided = false;
    if (s = Decide(e, true, as_of_us_ > e.occurred_us + window, &decided); !s.ok()) return s;
    if (decided) {
      pending_done_.insert(key);
    } else {
      still_pending_.emplace_back(key, std::move(payload));
    }
  }
  return Status::OK();
}

void Attribution::Writes(std::vector<StateDb::Write>* out) const {
  std::string v;
  auto put = [&](const auto& map) {
    for (const auto& [k, row] : map) {
      Encode(row, &v);
      out->push_back({k, v});
    }
  };
  for (const auto& [k, row] : codes_) {
    if (row.referrer_id.empty() && row.history.empty()) continue;  // looked up, unknown
    Encode(row, &v);
    out->push_back({k, v});
  }
  // A visitor's clicks older than the window before the log's clock can no
  // longer attribute anything still to be decided: pending events are
  // final once their window has passed by that clock. (A conversion
  // reported later than that after it occurred does not see them.)
  const int64_t horizon = as_of_us_ - int64_t{opt_.window_days} * kDayUs;
  for (const auto& [k, row] : touches_) {
    Touches kept;
    for (const Touch& t : row.list) {
      if (t.ts_us >= horizon) kept.list.push_back(t);
    }
    if (kept.list.empty() && row.list.empty()) continue;  // looked up, never clicked
    if (kept.list.empty()) {
      out->push_back({k, "", true});
      continue;
    }
    Encode(kept, &v);
    out->push_back({k, v});
  }
  for (const auto& k : payouts_seen_) out->push_back({k, ""});
  for (const auto& [k, row] : bindings_) {
    if (row.referrer_id.empty()) continue;  // looked up, never bound
    Encode(row, &v);
    out->push_back({k, v});
  }
  for (const auto& [k, row] : sales_) {
    if (row.event_id.empty()) continue;
    Encode(row, &v);
    out->push_back({k, v});
  }
  put(decisions_);
  put(earnings_);
  put(campaigns_);
  for (const auto& k : new_hashes_) out->push_back({k, code_by_hash_.at(k)});
  for (const auto& [k, date] : event_dates_) out->push_back({k, date});
  for (const auto& [k, amount] : lines_) {
    EncodeAmount(amount, &v);
    out->push_back({k, v});
  }
  for (const auto& [k, payload] : still_pending_) out->push_back({k, payload});
  for (const auto& k : pending_done_) out->push_back({k, "", true});
  std::string as_of;
  PutFixed64(&as_of, static_cast<uint64_t>(as_of_us_));
  out->push_back({std::string(kAsOfKey), as_of});
}

}  // namespace refgate::rollup
