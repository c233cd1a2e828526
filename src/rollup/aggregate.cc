#include "rollup/aggregate.h"

#include <algorithm>
#include <tuple>

#include "rollup/row_cache.h"
#include "util/coding.h"
#include "util/time.h"

namespace refgate::rollup {
namespace {

void EncodeChannel(std::string_view src, std::string_view med, std::string_view camp,
                   std::string* out) {
  out->clear();
  PutLengthPrefixed(out, src);
  PutLengthPrefixed(out, med);
  PutLengthPrefixed(out, camp);
}

}  // namespace

size_t Aggregate::IdHash::operator()(const DayId& k) const {
  const uint64_t words[2] = {uint64_t{k.date} << 32 | k.ref, k.code};
  return XXH3_64bits(words, sizeof words);
}
size_t Aggregate::IdHash::operator()(const ChannelId& k) const {
  const uint64_t words[2] = {uint64_t{k.day.date} << 32 | k.day.ref,
                             uint64_t{k.day.code} << 32 | k.channel};
  return XXH3_64bits(words, sizeof words);
}

Aggregate::Aggregate(const StateDb* db, KnownRows known) : known_(std::move(known)) {
  // A first run (or a recompute) finds no rows: no lookups at all.
  for (const char* tag : {"d", "h", "m", "r"}) {
    if (db->Holds(tag)) rows_db_ = db;
  }
  EncodeChannel(kOtherChannel, "", "", &channel_);
  other_channel_ = channel_names_.Intern(channel_);
  day_index_.reserve(1 << 16);
  channel_index_.reserve(1 << 16);
}

uint32_t Aggregate::DateOf(int64_t ts_us) {
  int64_t day = ts_us >= 0 ? ts_us / kMicrosPerDay : (ts_us - kMicrosPerDay + 1) / kMicrosPerDay;
  if (day != cached_day_) {
    cached_day_ = day;
    std::string date = FormatDate(day * 86400);
    cached_date_ = date_names_.Intern(date);
    if (cached_date_ == date_rows_.size()) {
      // A date the state has no rows of (any date after a part's first)
      // needs no lookups of its day and channel rows.
      date_rows_.push_back(
          rows_db_ && (rows_db_->Holds(DayPrefix(date)) || rows_db_->Holds(ChannelPrefix(date)))
              ? rows_db_
              : nullptr);
      if (date == known_.date && date_rows_.back() != nullptr) known_date_ = cached_date_;
    }
    dates_.insert(std::move(date));
  }
  return cached_date_;
}

std::string Aggregate::Key(const DayId& k) const {
  return DayCodeKey(date_names_.Name(k.date), referrers_.Name(k.ref), codes_.Name(k.code));
}

std::string Aggregate::Key(const ChannelId& k) const {
  return ChannelKeyOf(date_names_.Name(k.day.date), referrers_.Name(k.day.ref),
                      codes_.Name(k.day.code), channel_names_.Name(k.channel));
}

const StateDb* Aggregate::RowsOf(uint32_t date, const std::string& key) const {
  if (date == known_date_ && !known_.keys.contains(XXH3_64bits(key.data(), key.size()))) {
    return nullptr;
  }
  return date_rows_[date];
}

void Aggregate::Know(uint32_t date, const std::string& key) {
  if (date == last_date_ && keep_known_)
    next_known_.keys.insert(XXH3_64bits(key.data(), key.size()));
}

Status Aggregate::Day(const DayId& k, uint32_t* row) {
  auto [it, fresh] = day_index_.try_emplace(k, static_cast<uint32_t>(days_.size()));
  *row = it->second;
  if (!fresh) return Status::OK();
  DayCodeRow stored;
  bool existed;
  const std::string key = Key(k);
  if (Status s = ReadRow(RowsOf(k.date, key), key, &stored, &existed, &loaded_bytes_); !s.ok()) {
    day_index_.erase(it);
    return s;
  }
  days_.emplace_back(k, std::move(stored));
  return Status::OK();
}

uint32_t Aggregate::RefOf(CodeLast* last, std::string_view referrer) {
  // A code keeps its referrer: compared, not hashed and looked up again.
  if (last->ref == kNone || referrers_.Name(last->ref) != referrer) {
    *last = {referrers_.Intern(referrer), kNone, 0};
  }
  return last->ref;
}

Status Aggregate::DayOf(const DayId& k, CodeLast* last, uint32_t* row) {
  if (last->date == k.date) {  // and last->ref == k.ref: RefOf forgets the date when it changes
    *row = last->day;
    return Status::OK();
  }
  Status s = Day(k, row);
  if (s.ok()) s = Referrer(k.ref);
  if (s.ok()) s = CountMember(k);
  if (s.ok()) *last = {k.ref, k.date, *row};
  return s;
}

Status Aggregate::Referrer(uint32_t ref) {
  if (ref >= referrer_rows_.size()) {
    referrer_rows_.resize(ref + 1);
    referrer_loaded_.resize(ref + 1, false);
  }
  if (referrer_loaded_[ref]) return Status::OK();
  bool existed;
  Status s = ReadRow(rows_db_, ReferrerKey(referrers_.Name(ref)), &referrer_rows_[ref], &existed,
                     &loaded_bytes_);
  referrer_loaded_[ref] = s.ok();
  return s;
}

Status Aggregate::Add(const ClickRecord& rec) {
  if (rec.type == ClickType::kOrphan) {
    ++orphans_;
    return Status::OK();
  }
  const uint32_t code = codes_.Intern(rec.code);
  if (code >= code_last_.size()) code_last_.resize(code + 1);
  CodeLast* last = &code_last_[code];
  const DayId k{DateOf(rec.ts_us), RefOf(last, rec.referrer_id), code};
  last_date_ = k.date;
  uint32_t d;
  if (Status s = DayOf(k, last, &d); !s.ok()) return s;
  DayCodeRow& day = days_[d].second;
  ReferrerRow& ref = referrer_rows_[k.ref];
  if (rec.bot) {
    ++day.bot_clicks;
    ++ref.bot_clicks;
    return Status::OK();
  }
  uint64_t visitor = VisitorSet::Hash(rec.visitor_id);
  ++day.clicks;
  day.new_visitors += rec.new_visitor ? 1 : 0;
  ++ref.clicks;
  if (ref.first_click_us == 0 || rec.ts_us < ref.first_click_us) ref.first_click_us = rec.ts_us;
  if (rec.ts_us > ref.last_click_us) ref.last_click_us = rec.ts_us;
  return CountChannel(rec, k, visitor, d);
}

Status Aggregate::CountMember(const DayId& k) {
  const uint64_t member = uint64_t{k.ref} << 32 | k.code;
  if (members_seen_.contains(member)) return Status::OK();
  bool found;
  Status m = HasRow(rows_db_, MemberKey(referrers_.Name(k.ref), codes_.Name(k.code)), &found);
  if (!m.ok()) return m;
  members_seen_.insert(member);
  if (!found) {
    ++referrer_rows_[k.ref].codes;
    new_members_.emplace_back(k.ref, k.code);
  }
  return Status::OK();
}

Status Aggregate::Channel(const ChannelId& id, uint32_t day, uint32_t* row, bool* existed) {
  auto [it, fresh] = channel_index_.try_emplace(id, static_cast<uint32_t>(channels_.size()));
  *row = it->second;
  *existed = !fresh;
  if (!fresh) return Status::OK();
  ChannelRow stored;
  const std::string key = Key(id);
  if (Status s = ReadRow(RowsOf(id.day.date, key), key, &stored, existed, &loaded_bytes_);
      !s.ok()) {
    channel_index_.erase(it);
    return s;
  }
  uint32_t set = kNone;
  if (*existed) {
    set = static_cast<uint32_t>(stored_sets_.size());
    stored_sets_.push_back(std::move(stored.visitors));
  }
  channels_.push_back({id, day, set, stored.clicks});
  return Status::OK();
}

Status Aggregate::CountChannel(const ClickRecord& rec, const DayId& k, uint64_t visitor,
                               uint32_t d) {
  EncodeChannel(rec.utm[0], rec.utm[1], rec.utm[2], &channel_);
  ChannelId id{k, channel_names_.Intern(channel_)};
  if (date_rows_[k.date] == nullptr) {  // a date the state has no rows of: counted at Writes
    new_clicks_.push_back({d, id.channel, visitor});
    return Status::OK();
  }
  DayCodeRow& day = days_[d].second;
  bool existed = false, folded = false;
  if (day.channel_rows >= kMaxChannelRows && !channel_index_.contains(id)) {
    // Full: a channel this row already has still counts as itself.
    bool found;
    const std::string key = Key(id);
    if (Status g = HasRow(RowsOf(k.date, key), key, &found); !g.ok()) return g;
    folded = !found;
    if (folded) id.channel = other_channel_;
  }
  uint32_t c;
  if (Status s = Channel(id, d, &c, &existed); !s.ok()) return s;
  if (!existed && !folded) ++day.channel_rows;
  ++channels_[c].clicks;
  channel_visits_.Add(c, visitor);
  return Status::OK();
}

Status Aggregate::AddConversion(int64_t sale_us, std::string_view referrer, std::string_view code,
                                int64_t conversions, int64_t revenue) {
  const DayId k{DateOf(sale_us), referrers_.Intern(referrer), codes_.Intern(code)};
  uint32_t d;
  Status s = Day(k, &d);
  if (s.ok()) s = Referrer(k.ref);
  if (!s.ok()) return s;
  DayCodeRow& day = days_[d].second;
  ReferrerRow& ref = referrer_rows_[k.ref];
  // Revenue never goes below zero: a refund is at most what is left of its sale.
  day.conversions += static_cast<uint64_t>(conversions);
  day.revenue_minor = static_cast<uint64_t>(static_cast<int64_t>(day.revenue_minor) + revenue);
  ref.conversions += static_cast<uint64_t>(conversions);
  ref.revenue_minor = static_cast<uint64_t>(static_cast<int64_t>(ref.revenue_minor) + revenue);
  return Status::OK();
}

size_t Aggregate::MemoryBytes() const {
  auto index = [](const auto& map) {
    return map.bucket_count() * (sizeof(typename std::decay_t<decltype(map)>::value_type) + 1);
  };
  return days_.capacity() * sizeof(days_[0]) + channels_.capacity() * sizeof(channels_[0]) +
         stored_sets_.capacity() * sizeof(VisitorSet) + new_clicks_.MemoryBytes() +
         new_clicks_.size() * kSortedNewClickBytes + index(day_index_) + index(channel_index_) +
         index(members_seen_) + index(known_.keys) + index(next_known_.keys) +
         new_members_.capacity() * sizeof(new_members_[0]) +
         referrer_rows_.capacity() * sizeof(ReferrerRow) +
         code_last_.capacity() * sizeof(CodeLast) + channel_visits_.MemoryBytes() + loaded_bytes_ +
         date_names_.MemoryBytes() + referrers_.MemoryBytes() + codes_.MemoryBytes() +
         channel_names_.MemoryBytes();
}

}  // namespace refgate::rollup
