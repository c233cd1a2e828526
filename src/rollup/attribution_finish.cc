// The end of an Attribution run (attribution.h): the pending events looked
// at again, and the writes that apply the run to the state.
#include <algorithm>

#include "rollup/attribution.h"
#include "rollup/rows.h"
#include "util/coding.h"
#include "util/time.h"

namespace refgate::rollup {
namespace {

constexpr std::string_view kPendingPrefix = "q";

}  // namespace

Status Attribution::Finish(bool last_part) {
  const int64_t last_as_of = ReadAsOf(*db_);
  as_of_us_ = std::max(as_of_us_, last_as_of);
  if (!last_part) {
    // A part that is not the last leaves its undecided events in the state,
    // as one run would keep them in memory, and retries, prunes and sweeps
    // nothing: the parts decide what one run would.
    for (auto& [seq, payload] : pending_) {
      still_pending_.emplace_back(PendingEventKey(seq), std::move(payload));
    }
    pending_.clear();
    Status s = touches_.Prepare(INT64_MIN);
    return s.ok() ? PrepareNotices(last_as_of, false) : s;
  }
  // Earlier runs' pending events, then this run's: in log order.
  std::vector<std::pair<std::string, std::string>> all;
  Status s = db_->Scan(kPendingPrefix, [&all](std::string_view k, std::string_view v) {
    all.emplace_back(std::string(k), std::string(v));
    return true;
  });
  if (!s.ok()) return s;
  for (auto& [seq, payload] : pending_) all.emplace_back(PendingEventKey(seq), std::move(payload));
  pending_.clear();
  const int64_t window = int64_t{opt_.window_days} * kMicrosPerDay;
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
  if (s = PrepareNotices(last_as_of, true); !s.ok()) return s;
  // A visitor's clicks older than the window before the log's clock can
  // no longer attribute anything still to be decided: pending events are
  // final once their window has passed by that clock. (A conversion
  // reported later than that after it occurred may not see them.)
  if (s = touches_.Prepare(as_of_us_ - window); !s.ok()) return s;
  return SweepBindings();
}

// A binding whose period ended longer than the window before the log's
// clock is deleted with its "Y" key: as with a visitor's clicks, only a
// conversion reported more than the window after it occurred could still
// have claimed it. "Y" keys are in time order, so the sweep reads only the
// ended ones. A customer bound again since keeps the newer binding.
Status Attribution::SweepBindings() {
  const int64_t horizon = as_of_us_ - int64_t{opt_.window_days} * kMicrosPerDay;
  const int64_t period = int64_t{opt_.customer_binding_days} * kMicrosPerDay;
  Status s = db_->Scan("Y", [&](std::string_view k, std::string_view) {
    int64_t until;
    std::string_view customer;
    if (ParseBindingEndKey(k, &until, &customer) && until >= horizon) return false;
    ended_.emplace_back(k);  // ended, or malformed: dropped either way
    return true;
  });
  for (size_t i = 0; s.ok() && i < ended_.size(); ++i) {
    int64_t until;
    std::string_view customer;
    if (!ParseBindingEndKey(ended_[i], &until, &customer)) continue;
    Binding* b = nullptr;
    const std::string key = BindingKey(customer);
    s = LoadRow(*db_, key, &bindings_, &b);
    if (!s.ok() || b->referrer_id.empty()) continue;
    if (b->bound_us + period < horizon) {
      expired_.insert(key);
    } else {
      bound_now_.emplace(customer);  // kept: its end key written again, for its end now
    }
  }
  return s;
}

size_t Attribution::MemoryBytes() const {
  constexpr size_t kNode = 256;     // a row of an unordered_map with its key and strings, about
  constexpr size_t kNotice = 1024;  // a notice with its JSON data, about
  size_t pending = 0;
  for (const auto& [seq, payload] : pending_) pending += payload.size();
  for (const auto& [key, payload] : still_pending_) pending += payload.size();
  return click_codes_.MemoryBytes() + touches_.MemoryBytes() + pending + kNotice * notices_.size() +
         kNode * (codes_.size() + bindings_.size() + sales_.size() + decisions_.size() +
                  event_dates_.size() + earnings_.size() + campaigns_.size() + lines_.size() +
                  code_by_hash_.size() + new_hashes_.size() + conversions_.size() +
                  payouts_seen_.size());
}

Status Attribution::CreditConversions() {
  for (const Conversion& c : conversions_) {
    Status s = agg_->AddConversion(c.sale_us, c.referrer_id, c.code, c.conversions, c.revenue);
    if (!s.ok()) return s;
  }
  conversions_.clear();
  return Status::OK();
}

namespace {

// The entries of a map of rows by key, in key order.
template <typename Map>
std::vector<const typename Map::value_type*> InKeyOrder(const Map& map) {
  std::vector<const typename Map::value_type*> out;
  out.reserve(map.size());
  for (const auto& entry : map) out.push_back(&entry);
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  return out;
}

}  // namespace

// Each group in key order, and the groups by their tags ('!' < 'B' < 'C'
// < ... < 'q'), so that the commit has few runs to merge.
void Attribution::Writes(StateDb::Batch* out, StateDb::Sorted* touches) const {
  std::string v;
  auto put = [&](const auto& map, auto keep) {
    for (const auto* entry : InKeyOrder(map)) {
      if (!keep(entry->second)) continue;
      Encode(entry->second, &v);
      out->Put(entry->first, v);
    }
  };
  auto all = [](const auto&) { return true; };
  PutFixed64(&v, static_cast<uint64_t>(as_of_us_));
  out->Put(std::string(kAsOfKey), v);
  WriteBindings(out);
  put(codes_, [](const CodeInfo& row) {
    return !row.referrer_id.empty() || !row.history.empty();  // else looked up, unknown
  });
  put(decisions_, all);
  for (const auto& k : new_hashes_) out->Put(k, code_by_hash_.at(k));
  put(campaigns_, all);
  for (const auto& [k, amount] : lines_) {
    EncodeAmount(amount, &v);
    out->Put(k, v);
  }
  WriteOutbox(out);
  put(sales_, [](const SaleInfo& row) { return !row.event_id.empty(); });
  for (const auto& k : payouts_seen_) out->Put(k, "");
  touches_.Writes(out, touches);
  put(earnings_, all);
  for (const auto* entry : InKeyOrder(event_dates_)) out->Put(entry->first, entry->second);
  for (const auto& [k, payload] : still_pending_) out->Put(k, payload);
  for (const auto& k : pending_done_) out->Delete(k);
}

// The bindings kept ("B"), the ended ones' deletions, and the end keys
// ("Y") swept or added.
void Attribution::WriteBindings(StateDb::Batch* out) const {
  std::string v;
  for (const auto* entry : InKeyOrder(bindings_)) {
    if (entry->second.referrer_id.empty() || expired_.contains(entry->first)) continue;
    Encode(entry->second, &v);  // else never bound, or ended
    out->Put(entry->first, v);
  }
  for (const auto& k : expired_) out->Delete(k);
  for (const auto& k : ended_) out->Delete(k);
  const int64_t period = int64_t{opt_.customer_binding_days} * kMicrosPerDay;
  for (const auto& customer : bound_now_) {
    out->Put(BindingEndKey(bindings_.at(BindingKey(customer)).bound_us + period, customer), "");
  }
}

}  // namespace refgate::rollup
