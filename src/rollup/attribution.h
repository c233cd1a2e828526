// Attribution and rewards (SPEC §6), decided by the compaction job as it
// reads the log: a pure function of the records (clicks, code changes,
// conversion events) and the reward rules, so a rerun from scratch decides
// the same.
//
// Each lead and sale, at its place in the log, goes to the first rule that
// applies: a bound customer, its click id (verified, util/click_id.h), a
// code typed at checkout that was active then, the visitor's last (or
// first) non-bot click within the window. Ties between a visitor's clicks
// break on (click time, click id). Self-referral and a click younger than
// min_click_age_s hold the event (reward 0, a reason). An event no rule
// attributes waits in the state and is looked at again at the end of every
// run (a click can reach the log after its conversion), until the window
// has passed by the log's own clock: the newest record time read. A refund
// reverses its sale's reward in proportion (half-even, cumulative, so a
// full refund reverses it exactly).
//
// Rows are loaded from the state on first touch and written once per run,
// as Aggregate's are.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "clicklog/format.h"
#include "refgate/click_record.h"
#include "refgate/event_record.h"
#include "rollup/aggregate.h"
#include "rollup/conversion_rows.h"
#include "rollup/interner.h"
#include "rollup/outbox.h"
#include "rollup/rewards.h"
#include "rollup/row_cache.h"
#include "rollup/touch_log.h"
#include "store/state_db.h"
#include "util/click_id.h"

namespace refgate::rollup {

struct AttributionOptions {
  int window_days = 30;
  bool first_click = false;
  int customer_binding_days = 365;
  RewardRules rules;                      // the defaults; campaigns may override them
  const ClickIdKey* click_key = nullptr;  // null: no click id verifies
  std::string currency = "EUR";           // [rewards] currency, for the webhooks' data
};

class Attribution {
 public:
  // `db` and `agg` must outlive this; conversions and revenue go to agg's
  // rows at CreditConversions (agg may count clicks on another thread
  // meanwhile: this reads the state only, and never touches agg before).
  Attribution(const StateDb* db, const AttributionOptions& opt, Aggregate* agg)
      : db_(db),
        opt_(opt),
        agg_(agg),
        codes_stored_(db->Holds(CodeInfoKey("").substr(0, 1))),
        touches_(db, &click_codes_) {}

  Status OnClick(const ClickRecord& c);
  Status OnCode(const clicklog::CodeChange& c);
  Status OnEvent(const EventRecord& e, std::string_view payload);
  Status OnCampaign(const clicklog::CampaignChange& change);
  Status OnPayout(const clicklog::Payout& payout);
  // Adds the conversions decided so far to agg's rows.
  Status CreditConversions();
  // Looks again at every event still unattributed, this run's and earlier
  // runs', in log order; those whose window has passed are final.
  // `last_part` false: a part of a compaction bounded by memory that is
  // not its last (see Finish's body).
  Status Finish(bool last_part = true);

  // The writes that apply this run to the state (after Finish); the
  // visitors' touches streamed into `touches` where given (TouchLog::Writes).
  void Writes(StateDb::Batch* out, StateDb::Sorted* touches = nullptr) const;
  void Writes(std::vector<StateDb::Write>* out) const {
    StateDb::Batch batch;
    Writes(&batch);
    batch.AppendTo(out);
  }
  // About the bytes this run holds: what [rollup] max_memory_mb bounds.
  size_t MemoryBytes() const;
  // About the number of writes Writes makes to its batch, with the touches
  // streamed aside where they can be; and the bytes their streaming takes.
  size_t rows() const {
    return (touches_.streams() ? 0 : touches_.rows()) + codes_.size() + decisions_.size();
  }
  size_t StreamBytes() const { return touches_.streams() ? touches_.WriteBytes() : 0; }
  // Of MemoryBytes, those Finish frees (the touches' index).
  size_t IndexBytes() const { return touches_.IndexBytes(); }
  // Dates whose events.csv changed.
  const std::set<std::string>& dates() const { return dates_; }
  int64_t as_of_us() const { return as_of_us_; }
  uint64_t decided() const { return decided_; }

 private:
  struct Candidate;
  // Decides a lead or sale; *decided false leaves it pending (never when
  // `final`). A `retry` that decides nothing records nothing.
  Status DecideConversion(const EventRecord& e, bool retry, bool final, bool* decided);
  Status DecideRefund(const EventRecord& e, bool retry, bool final, bool* decided);
  Status FindCandidate(const EventRecord& e, Candidate* c, std::string* reason);
  void WriteBindings(StateDb::Batch* out) const;
  Status SweepBindings();
  // Learns a clicked code's referrer, once per run and code; *id: the
  // code's in click_codes_.
  Status ClickCode(const ClickRecord& c, uint32_t* id);
  Status FromClickId(const EventRecord& e, Candidate* c, std::string* reason);
  Status FromVisitor(const EventRecord& e, Candidate* c);
  // The rules of `campaign` for an event at t: its override then, or the defaults.
  Status Rules(const std::string& campaign, int64_t t_us, const RewardRules** out);
  int64_t Reward(const EventRecord& e, const Candidate& c, const RewardRules& r);
  // Why an attributed event is held ("" when it is not).
  Status HoldReason(const EventRecord& e, const Candidate& c, const RewardRules& rules,
                    std::string* reason);
  Status Credit(const EventRecord& e, const Candidate& c, const RewardRules& rules, int64_t reward);
  Status Record(const EventRecord& e, Decision d);
  // The webhooks a run owes (attribution_notices.cc, rollup/outbox.h).
  void Announce(const Decision& d);
  void AnnouncePayable(std::string_view referrer, std::string_view event_id, int64_t at_us,
                       int64_t amount);
  Status AnnouncePayables(int64_t since_us);
  Status NetReward(std::string_view event_id, int64_t gross, int64_t* net);
  Status PrepareNotices(int64_t last_as_of_us, bool last_part);
  void WriteOutbox(StateDb::Batch* out) const;
  Status Decide(const EventRecord& e, bool retry, bool final, bool* decided);

  const StateDb* db_;
  const AttributionOptions opt_;
  Aggregate* agg_;
  struct Conversion {
    int64_t sale_us;
    std::string referrer_id, code;
    int64_t conversions, revenue;
  };
  std::vector<Conversion> conversions_;  // for agg_, at CreditConversions
  std::unordered_map<std::string, CodeInfo> codes_;
  std::unordered_map<std::string, std::string> code_by_hash_;  // loaded or added
  std::set<std::string> new_hashes_;
  // Whether the state holds code rows: a first run (or a recompute) looks
  // none up.
  const bool codes_stored_;
  Interner click_codes_;                // codes of this run's clicks
  TouchLog touches_;                    // the visitors' clicks
  std::vector<bool> click_code_ready_;  // by click_codes_ id
  std::unordered_map<std::string, Binding> bindings_;
  std::unordered_map<std::string, SaleInfo> sales_;
  std::unordered_map<std::string, Decision> decisions_;  // by DecisionKey
  std::unordered_map<std::string, std::string> event_dates_;
  std::unordered_map<std::string, Earnings> earnings_;
  std::unordered_map<std::string, CampaignRules> campaigns_;
  std::vector<Notice> notices_;                            // in the order decided
  OutboxHead outbox_;                                      // where this run's notices go
  std::vector<std::string> expired_notices_;               // outbox keys to delete
  std::set<std::string> payouts_seen_;                     // PayoutSeenKey of this run's payouts
  std::vector<std::pair<std::string, int64_t>> lines_;     // RewardLineKey, amount
  std::vector<std::pair<uint64_t, std::string>> pending_;  // this run's undecided: seq, payload
  std::vector<std::pair<std::string, std::string>> still_pending_;  // after Finish: key, payload
  std::set<std::string> pending_done_;                              // pending keys decided
  std::set<std::string> bound_now_;  // customers whose end key is written: bound (again), kept
  std::set<std::string> expired_;    // their BindingKeys, to delete
  std::vector<std::string> ended_;   // BindingEndKeys swept
  std::set<std::string> dates_;
  int64_t as_of_us_ = 0;
  uint64_t decided_ = 0;
};

}  // namespace refgate::rollup
