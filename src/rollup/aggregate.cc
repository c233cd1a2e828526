#include "rollup/aggregate.h"

#include "util/time.h"

namespace refgate::rollup {

const std::string& Aggregate::DateOf(int64_t ts_us) {
  int64_t day = ts_us >= 0 ? ts_us / 86400'000000 : (ts_us - 86399'999999) / 86400'000000;
  if (day != cached_day_) {
    cached_day_ = day;
    cached_date_ = FormatDate(day * 86400);
    dates_.insert(cached_date_);
  }
  return cached_date_;
}

Status Aggregate::Add(const ClickRecord& rec) {
  if (rec.type == ClickType::kOrphan) {
    ++orphans_;
    return Status::OK();
  }
  const std::string date = DateOf(rec.ts_us);
  DayCodeRow* day;
  ReferrerRow* ref;
  Status s = LoadRow(*db_, DayCodeKey(date, rec.referrer_id, rec.code), &days_, &day, nullptr);
  if (s.ok()) s = LoadRow(*db_, ReferrerKey(rec.referrer_id), &referrers_, &ref, nullptr);
  if (s.ok()) s = CountMember(rec, ref);
  if (!s.ok()) return s;
  if (rec.bot) {
    ++day->bot_clicks;
    ++ref->bot_clicks;
    return Status::OK();
  }
  uint64_t visitor = VisitorSet::Hash(rec.visitor_id);
  ++day->clicks;
  day->new_visitors += rec.new_visitor ? 1 : 0;
  day->visitors.Add(visitor);
  ++ref->clicks;
  ref->visitors.Add(visitor);
  if (ref->first_click_us == 0 || rec.ts_us < ref->first_click_us) ref->first_click_us = rec.ts_us;
  if (rec.ts_us > ref->last_click_us) ref->last_click_us = rec.ts_us;
  return CountChannel(rec, date, visitor, day);
}

Status Aggregate::CountMember(const ClickRecord& rec, ReferrerRow* ref) {
  std::string member = MemberKey(rec.referrer_id, rec.code);
  if (members_seen_.contains(member)) return Status::OK();
  std::string unused;
  Status m = db_->Get(member, &unused);
  if (!m.ok() && !m.IsNotFound()) return m;
  members_seen_.insert(member);
  if (m.IsNotFound()) {
    ++ref->codes;
    new_members_.insert(member);
  }
  return Status::OK();
}

Status Aggregate::CountChannel(const ClickRecord& rec, const std::string& date, uint64_t visitor,
                               DayCodeRow* day) {
  std::string key = ChannelKey(date, rec.referrer_id, rec.code, rec.utm[0], rec.utm[1], rec.utm[2]);
  ChannelRow* ch;
  bool existed = false, folded = false;
  if (!channels_.contains(key) && day->channel_rows >= kMaxChannelRows) {
    // Full: a channel this row already has still counts as itself.
    std::string unused;
    Status g = db_->Get(key, &unused);
    if (!g.ok() && !g.IsNotFound()) return g;
    folded = g.IsNotFound();
    if (folded) key = ChannelKey(date, rec.referrer_id, rec.code, kOtherChannel, "", "");
  }
  Status s = LoadRow(*db_, key, &channels_, &ch, &existed);
  if (!s.ok()) return s;
  if (!existed && !folded) ++day->channel_rows;
  ++ch->clicks;
  ch->visitors.Add(visitor);
  return Status::OK();
}

Status Aggregate::AddConversion(int64_t sale_us, const std::string& referrer,
                                const std::string& code, int64_t conversions, int64_t revenue) {
  const std::string date = DateOf(sale_us);
  DayCodeRow* day;
  ReferrerRow* ref;
  Status s = LoadRow(*db_, DayCodeKey(date, referrer, code), &days_, &day, nullptr);
  if (s.ok()) s = LoadRow(*db_, ReferrerKey(referrer), &referrers_, &ref, nullptr);
  if (!s.ok()) return s;
  // Revenue never goes below zero: a refund is at most what is left of its sale.
  day->conversions += static_cast<uint64_t>(conversions);
  day->revenue_minor = static_cast<uint64_t>(static_cast<int64_t>(day->revenue_minor) + revenue);
  ref->conversions += static_cast<uint64_t>(conversions);
  ref->revenue_minor = static_cast<uint64_t>(static_cast<int64_t>(ref->revenue_minor) + revenue);
  return Status::OK();
}

void Aggregate::Writes(std::vector<StateDb::Write>* out) const {
  std::string value;
  for (const auto& [k, row] : days_) {
    Encode(row, &value);
    out->push_back({k, value});
  }
  for (const auto& [k, row] : channels_) {
    Encode(row, &value);
    out->push_back({k, value});
  }
  for (const auto& [k, row] : referrers_) {
    Encode(row, &value);
    out->push_back({k, value});
  }
  for (const auto& k : new_members_) out->push_back({k, ""});
}

}  // namespace refgate::rollup
