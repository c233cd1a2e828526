#include "rollup/attribution.h"

#include <algorithm>

#include "rollup/rows.h"
#include "util/coding.h"
#include "util/time.h"

namespace refgate::rollup {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

std::string DateOf(int64_t t_us) { return FormatDate(FloorDiv(t_us, kMicrosPerDay) * 86400); }

}  // namespace

struct Attribution::Candidate {
  bool found = false;
  std::string referrer_id, code, campaign, method;
  int64_t click_at_us = 0;
  Binding* binding = nullptr;  // method "customer"
};

Status Attribution::ClickCode(const ClickRecord& c, uint32_t* code) {
  const uint32_t id = *code = click_codes_.Intern(c.code);
  if (id < click_code_ready_.size() && click_code_ready_[id]) return Status::OK();
  CodeInfo* ci;
  bool existed;
  Status s = LoadRow(codes_stored_ ? db_ : nullptr, CodeInfoKey(c.code), &codes_, &ci, &existed);
  if (!s.ok()) return s;
  if (!existed || ci->referrer_id.empty()) {
    ci->referrer_id = c.referrer_id;  // a code known from its clicks (older logs)
    const std::string hash_key = CodeHashKey(ClickIdKey::CodeHash(c.code));
    if (code_by_hash_.emplace(hash_key, c.code).second) new_hashes_.insert(hash_key);
  }
  if (id >= click_code_ready_.size()) click_code_ready_.resize(id + 1, false);
  click_code_ready_[id] = true;  // its referrer is known: later clicks change nothing
  return Status::OK();
}

Status Attribution::OnClick(const ClickRecord& c) {
  as_of_us_ = std::max(as_of_us_, c.ts_us);
  if (c.type != ClickType::kClick) return Status::OK();
  uint32_t code;
  if (Status s = ClickCode(c, &code); !s.ok()) return s;
  if (!c.bot && !c.visitor_id.empty()) touches_.Add(c.visitor_id, c.ts_us, c.click_id, code);
  return Status::OK();
}

Status Attribution::OnCode(const clicklog::CodeChange& c) {
  as_of_us_ = std::max(as_of_us_, c.changed_us);
  CodeInfo* ci;
  Status s = LoadRow(*db_, CodeInfoKey(c.code.code), &codes_, &ci);
  if (!s.ok()) return s;
  ci->referrer_id = c.code.referrer_id;
  ci->campaign = c.code.campaign;
  ci->created_us = c.code.created_at * 1'000'000;
  ci->history.push_back(
      {c.changed_us, c.code.status, c.code.expires_at ? *c.code.expires_at * 1'000'000 : 0});
  const std::string hash_key = CodeHashKey(ClickIdKey::CodeHash(c.code.code));
  if (code_by_hash_.emplace(hash_key, c.code.code).second) new_hashes_.insert(hash_key);
  return Status::OK();
}

Status Attribution::OnEvent(const EventRecord& e, std::string_view payload) {
  as_of_us_ = std::max(as_of_us_, e.received_us);
  // The first record of an event_id counts; the index lets no second one
  // in, and one here (a log from elsewhere) is passed over.
  std::string key = EventDateKey(e.event_id), value;
  if (event_dates_.contains(key)) return Status::OK();
  if (Status s = db_->Get(key, &value); s.ok() || !s.IsNotFound()) return s;
  event_dates_.emplace(key, DateOf(e.occurred_us));
  bool decided = false;
  if (Status s = Decide(e, false, false, &decided); !s.ok()) return s;
  if (!decided) pending_.emplace_back(e.seq, std::string(payload));
  return Status::OK();
}

Status Attribution::Decide(const EventRecord& e, bool retry, bool final, bool* decided) {
  return e.type == EventType::kRefund ? DecideRefund(e, retry, final, decided)
                                      : DecideConversion(e, retry, final, decided);
}

Status Attribution::FromClickId(const EventRecord& e, Candidate* c, std::string* reason) {
  ClickIdKey::Claims claims;
  if (opt_.click_key == nullptr || !opt_.click_key->Verify(e.click_id, &claims)) {
    *reason = "invalid_click_id";  // evidence that failed
    return Status::OK();
  }
  const int64_t window = int64_t{opt_.window_days} * kMicrosPerDay;
  if (claims.bot || claims.ts_us > e.occurred_us || e.occurred_us - claims.ts_us > window) {
    return Status::OK();
  }
  const std::string hash_key = CodeHashKey(claims.code_hash);
  auto it = code_by_hash_.find(hash_key);
  if (it == code_by_hash_.end()) {
    std::string code;
    Status s = db_->Get(hash_key, &code);
    if (s.IsNotFound()) return Status::OK();  // its code not read yet: looked at again later
    if (!s.ok()) return s;
    it = code_by_hash_.emplace(hash_key, code).first;
  }
  CodeInfo* ci;
  if (Status s = LoadRow(*db_, CodeInfoKey(it->second), &codes_, &ci); !s.ok()) return s;
  *c = Candidate{true, ci->referrer_id, it->second, ci->campaign, "click_id", claims.ts_us};
  return Status::OK();
}

Status Attribution::FromVisitor(const EventRecord& e, Candidate* c) {
  const int64_t from = e.occurred_us - int64_t{opt_.window_days} * kMicrosPerDay;
  std::vector<Touch> touches;
  if (Status s = touches_.Of(e.visitor_id, from, e.occurred_us, &touches); !s.ok()) return s;
  auto by_time = [](const Touch& a, const Touch& b) {  // ties break on the click id
    return std::tie(a.ts_us, a.click_id) < std::tie(b.ts_us, b.click_id);
  };
  auto pick = opt_.first_click ? std::min_element(touches.begin(), touches.end(), by_time)
                               : std::max_element(touches.begin(), touches.end(), by_time);
  if (pick == touches.end()) return Status::OK();
  CodeInfo* ci;
  if (Status s = LoadRow(*db_, CodeInfoKey(pick->code), &codes_, &ci); !s.ok()) return s;
  *c = Candidate{true, ci->referrer_id, pick->code, ci->campaign, "visitor", pick->ts_us};
  return Status::OK();
}

Status Attribution::FindCandidate(const EventRecord& e, Candidate* c, std::string* reason) {
  Status s;
  if (!e.customer_id.empty()) {
    Binding* b;
    if (s = LoadRow(*db_, BindingKey(e.customer_id), &bindings_, &b); !s.ok()) return s;
    const int64_t until = b->bound_us + int64_t{opt_.customer_binding_days} * kMicrosPerDay;
    if (!b->referrer_id.empty() && e.occurred_us >= b->bound_us && e.occurred_us <= until) {
      *c = Candidate{true, b->referrer_id, b->code, b->campaign, "customer", 0, b};
      return Status::OK();
    }
  }
  if (!e.click_id.empty()) {
    if (s = FromClickId(e, c, reason); !s.ok() || c->found) return s;
  }
  if (!e.code.empty()) {
    CodeInfo* ci;
    bool existed;
    if (s = LoadRow(*db_, CodeInfoKey(e.code), &codes_, &ci, &existed); !s.ok()) return s;
    if (existed && !ci->referrer_id.empty() && ActiveAt(*ci, e.occurred_us)) {
      *c = Candidate{true, ci->referrer_id, e.code, ci->campaign, "code", 0};
      return Status::OK();
    }
  }
  if (!e.visitor_id.empty()) return FromVisitor(e, c);
  return Status::OK();
}

Status Attribution::Rules(const std::string& campaign, int64_t t_us, const RewardRules** out) {
  *out = &opt_.rules;
  if (campaign.empty()) return Status::OK();
  CampaignRules* c;
  if (Status s = LoadRow(*db_, CampaignRulesKey(campaign), &campaigns_, &c); !s.ok()) return s;
  *out = &RulesAt(*c, opt_.rules, t_us);
  return Status::OK();
}

int64_t Attribution::Reward(const EventRecord& e, const Candidate& c, const RewardRules& r) {
  if (e.type == EventType::kLead) return r.lead_minor;
  if (c.binding != nullptr) {
    // A bound customer's later sales earn for recurring_months after the
    // binding; with 0, only the first sale.
    const bool earns = r.recurring_months == 0
                           ? c.binding->sales == 0
                           : e.occurred_us < AddMonths(c.binding->bound_us, r.recurring_months);
    if (!earns) return 0;
  }
  return SaleReward(r, e.amount_minor);
}

Status Attribution::OnCampaign(const clicklog::CampaignChange& change) {
  as_of_us_ = std::max(as_of_us_, change.changed_us);
  CampaignRules* c;
  if (Status s = LoadRow(*db_, CampaignRulesKey(change.campaign), &campaigns_, &c); !s.ok())
    return s;
  c->history.push_back({change.changed_us, change.deleted, change.rules});
  return Status::OK();
}

Status Attribution::OnPayout(const clicklog::Payout& p) {
  as_of_us_ = std::max(as_of_us_, p.at_us);
  // The first record of a payout_id counts (a retry after a failed index
  // commit may have written a second).
  const std::string key = PayoutSeenKey(p.payout_id);
  std::string unused;
  if (payouts_seen_.contains(key)) return Status::OK();
  if (Status s = db_->Get(key, &unused); s.ok() || !s.IsNotFound()) return s;
  payouts_seen_.insert(key);
  Earnings* w;
  if (Status s = LoadRow(*db_, EarningsKey(p.referrer_id), &earnings_, &w); !s.ok()) return s;
  w->paid += p.amount_minor;
  return Status::OK();
}

Status Attribution::DecideConversion(const EventRecord& e, bool retry, bool final, bool* decided) {
  Candidate c;
  std::string reason;
  if (Status s = FindCandidate(e, &c, &reason); !s.ok()) return s;
  Decision d;
  d.type = e.type;
  d.event_id = e.event_id;
  d.customer_id = e.customer_id;
  d.order_id = e.order_id;
  d.reason = reason;
  d.occurred_us = e.occurred_us;
  d.amount_minor = e.type == EventType::kLead ? 0 : e.amount_minor;
  *decided = c.found || final;
  if (!c.found) {
    if (retry && !final) return Status::OK();  // its row says so already
    d.status = "unattributed";
    return Record(e, d);
  }
  d.referrer_id = c.referrer_id;
  d.code = c.code;
  d.method = c.method;
  d.click_at_us = c.click_at_us;
  const RewardRules* rules;
  if (Status s = Rules(c.campaign, e.occurred_us, &rules); !s.ok()) return s;
  // d.reason so far notes failed evidence (an invalid click id) that the
  // rule which did attribute makes no matter; a hold's reason replaces it.
  std::string hold;
  if (Status s = HoldReason(e, c, *rules, &hold); !s.ok() || !hold.empty()) {
    d.status = "held";
    d.reason = hold;
    return s.ok() ? Record(e, d) : s;
  }
  d.status = "attributed";
  d.reward_minor = Reward(e, c, *rules);
  if (Status s = Credit(e, c, *rules, d.reward_minor); !s.ok()) return s;
  return Record(e, d);
}

Status Attribution::HoldReason(const EventRecord& e, const Candidate& c, const RewardRules& rules,
                               std::string* reason) {
  if (!e.customer_id.empty() && e.customer_id == c.referrer_id) {
    *reason = "self_referral";
  } else if (c.click_at_us != 0 &&
             e.occurred_us - c.click_at_us < rules.min_click_age_s * 1'000'000) {
    *reason = "click_too_recent";
  } else if (e.type == EventType::kSale) {
    SaleInfo* sale;
    bool existed;
    if (Status s = LoadRow(*db_, SaleKey(e.order_id), &sales_, &sale, &existed); !s.ok()) return s;
    if (existed) *reason = "duplicate_order";
  }
  return Status::OK();
}

// An attributed event's effects: the sale kept for its refunds, the
// conversion in codes.csv, the customer bound, the referrer's earnings
// and the reward's line, payable after the hold.
Status Attribution::Credit(const EventRecord& e, const Candidate& c, const RewardRules& rules,
                           int64_t reward) {
  const bool sale = e.type == EventType::kSale;
  const int64_t hold = sale ? int64_t{rules.hold_days} * kMicrosPerDay : 0;
  if (sale) {
    sales_[SaleKey(e.order_id)] = SaleInfo{e.event_id,
                                           DateOf(e.occurred_us),
                                           c.referrer_id,
                                           c.code,
                                           c.method,
                                           e.occurred_us,
                                           e.amount_minor,
                                           0,
                                           reward,
                                           0,
                                           e.occurred_us + hold};
    conversions_.push_back({e.occurred_us, c.referrer_id, c.code, 1, e.amount_minor});
  }
  if (!e.customer_id.empty()) {
    Binding* b = c.binding;
    if (b == nullptr) {
      if (Status s = LoadRow(*db_, BindingKey(e.customer_id), &bindings_, &b); !s.ok()) return s;
      *b = Binding{c.referrer_id, c.code, c.campaign, e.occurred_us, 0};
      bound_now_.insert(e.customer_id);
    }
    if (sale) ++b->sales;
  }
  Earnings* w;
  if (Status s = LoadRow(*db_, EarningsKey(c.referrer_id), &earnings_, &w); !s.ok()) return s;
  (sale ? w->sales : w->leads) += 1;
  w->revenue += sale ? e.amount_minor : 0;
  w->reward += reward;
  if (reward != 0) {
    lines_.emplace_back(RewardLineKey(c.referrer_id, e.occurred_us + hold, e.event_id, "reward"),
                        reward);
  }
  return Status::OK();
}

Status Attribution::DecideRefund(const EventRecord& e, bool retry, bool final, bool* decided) {
  SaleInfo* sale;
  bool existed;
  if (Status s = LoadRow(*db_, SaleKey(e.order_id), &sales_, &sale, &existed); !s.ok()) return s;
  Decision d{e.type, e.event_id, e.customer_id, e.order_id,     "", "", "",
             "",     "",         e.occurred_us, e.amount_minor, 0,  0};
  *decided = existed || final;
  if (!existed) {
    sales_.erase(SaleKey(e.order_id));
    if (retry && !final) return Status::OK();
    d.status = "unattributed";  // no attributed sale of that order (yet)
    return Record(e, d);
  }
  d.referrer_id = sale->referrer_id;
  d.code = sale->code;
  d.method = sale->method;
  if (e.amount_minor > sale->amount - sale->refunded) {
    d.status = "held";
    d.reason = "exceeds_sale";
    return Record(e, d);
  }
  sale->refunded += e.amount_minor;
  const int64_t reversed =
      DivideHalfEven(static_cast<__int128>(sale->reward) * sale->refunded, sale->amount);
  d.reward_minor = -(reversed - sale->reversed);
  sale->reversed = reversed;
  d.status = "attributed";
  conversions_.push_back({sale->occurred_us, sale->referrer_id, sale->code, 0, -e.amount_minor});
  Earnings* w;
  if (Status s = LoadRow(*db_, EarningsKey(sale->referrer_id), &earnings_, &w); !s.ok()) return s;
  w->refunded += e.amount_minor;
  w->reward += d.reward_minor;
  if (d.reward_minor != 0) {
    // Deducted at once: against the next payout if the reward was paid.
    // Against what is payable: at once if the reward is (it may be paid),
    // else when it becomes payable, so the two cancel and nothing goes
    // negative meanwhile.
    lines_.emplace_back(RewardLineKey(sale->referrer_id, std::max(e.occurred_us, sale->payable_us),
                                      e.event_id, "reversal"),
                        d.reward_minor);
  }
  return Record(e, d);
}

Status Attribution::Record(const EventRecord& e, Decision d) {
  const std::string date = DateOf(e.occurred_us);
  Announce(d);
  decisions_[DecisionKey(date, e.event_id)] = std::move(d);
  dates_.insert(date);
  if (decisions_[DecisionKey(date, e.event_id)].status != "unattributed") ++decided_;
  return Status::OK();
}

}  // namespace refgate::rollup
