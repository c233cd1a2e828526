#include "rollup/touch_log.h"

#include <xxhash.h>

#include <algorithm>
#include <boost/unordered/unordered_flat_set.hpp>
#include <map>
#include <numeric>

#include "rollup/row_cache.h"
#include "util/coding.h"

namespace refgate::rollup {
namespace {

// Calls fn(ts, click_id, code) for each touch of `visitor` in a row's
// sections (lp(visitor) n (ts lp(click_id) lp(code))*); false when malformed.
template <typename Fn>
bool ForEachTouchIn(std::string_view row, std::string_view visitor, Fn fn) {
  while (!row.empty()) {
    std::string_view name, click_id, code;
    uint64_t n;
    int64_t ts;
    if (!GetLengthPrefixed(&row, &name) || !GetVarint64(&row, &n) || n > row.size()) return false;
    for (uint64_t i = 0; i < n; ++i) {
      if (!GetTouch(&row, &ts, &click_id, &code)) return false;
      if (name == visitor) fn(ts, click_id, code);
    }
  }
  return true;
}

}  // namespace

TouchLog::TouchLog(const StateDb* db, const Interner* codes)
    : db_(db),
      codes_(codes),
      stored_(db != nullptr && db->Holds("T")),
      former_(db != nullptr && db->Holds("V")) {}

TouchLog::Hash128 TouchLog::HashOf(std::string_view visitor) {
  const XXH128_hash_t h = XXH3_128bits(visitor.data(), visitor.size());
  return {h.low64, h.high64};
}

uint64_t TouchLog::Append(std::string_view s) {
  const uint64_t at = text_.size();
  char len[kMaxVarint64Bytes];
  text_.append(len, EncodeVarint64(len, s.size()) - len);
  text_.append(s.data(), s.size());
  return at;
}

std::string_view TouchLog::Text(uint64_t at) const {
  std::string_view in(text_.data() + at, text_.size() - at), s;
  return GetLengthPrefixed(&in, &s) ? s : std::string_view();
}

void TouchLog::Add(std::string_view visitor, int64_t ts_us, std::string_view click_id,
                   uint32_t code) {
  const Hash128 h = HashOf(visitor);
  auto [it, fresh] = by_hash_.try_emplace(h, Head{static_cast<uint32_t>(visitors_.size()), kNone});
  if (fresh) visitors_.push_back({h.low, Append(visitor)});
  Head& v = it->second;
  hits_.push_back({ts_us, Append(click_id), v.visitor, code, v.last});
  min_ts_ = std::min(min_ts_, ts_us);
  max_ts_ = std::max(max_ts_, ts_us);
  v.last = static_cast<uint32_t>(hits_.size() - 1);
}

Status TouchLog::Of(std::string_view visitor, int64_t from_us, int64_t to_us,
                    std::vector<Touch>* out) const {
  if (prepared_once_)
    return Status::InvalidArgument("touches looked up after the part was prepared");
  out->clear();
  const Hash128 h = HashOf(visitor);
  if (auto it = by_hash_.find(h); it != by_hash_.end()) {
    for (uint32_t i = it->second.last; i != kNone; i = hits_[i].next) {
      const Hit& t = hits_[i];
      if (t.ts_us < from_us || t.ts_us > to_us) continue;
      out->push_back({t.ts_us, std::string(Text(t.click)), std::string(codes_->Name(t.code))});
    }
  }
  return FromState(visitor, h.low, from_us, to_us, out);
}

Status TouchLog::FromState(std::string_view visitor, uint64_t hash, int64_t from_us, int64_t to_us,
                           std::vector<Touch>* out) const {
  auto take = [&](int64_t ts, std::string_view click_id, std::string_view code) {
    if (ts >= from_us && ts <= to_us)
      out->push_back({ts, std::string(click_id), std::string(code)});
  };
  Status s;
  std::string value;
  for (int64_t b = TouchBucket(from_us); stored_ && b <= to_us; b += kTouchBucketUs) {
    const std::string key = TouchRowKey(b, hash);
    s = db_->Get(key, &value);  // most misses end at the bloom filter
    if (s.ok() && !ForEachTouchIn(value, visitor, take)) s = Status::Corruption(key);
    if (s.IsNotFound()) s = Status::OK();
    if (!s.ok() || b > INT64_MAX - kTouchBucketUs) break;
  }
  if (!s.ok() || !former_) return s;
  Touches former;
  bool existed;
  if (s = ReadRow(db_, TouchesKey(visitor), &former, &existed); !s.ok()) return s;
  for (const Touch& t : former.list) take(t.ts_us, t.click_id, t.code);
  return Status::OK();
}

void TouchLog::EncodeSection(const Visitor& v, std::span<const uint32_t> hits,
                             std::string* out) const {
  PutLengthPrefixed(out, Text(v.name));
  PutVarint64(out, hits.size());
  for (uint32_t i : hits) {
    PutTouch(out, hits_[i].ts_us, Text(hits_[i].click), codes_->Name(hits_[i].code));
  }
}

// The touches' indices grouped by visitor in hash order (a counting sort:
// each visitor's as they came); *begin: where each group starts.
TouchLog::Indexes TouchLog::ByVisitor(Indexes* order, Indexes* begin) const {
  order->resize(visitors_.size());
  std::iota(order->begin(), order->end(), 0);
  std::sort(order->begin(), order->end(),
            [&](uint32_t a, uint32_t b) { return visitors_[a].hash < visitors_[b].hash; });
  Indexes rank(visitors_.size());
  for (uint32_t r = 0; r < order->size(); ++r) rank[(*order)[r]] = r;
  begin->assign(visitors_.size() + 1, 0);
  for (const Hit& h : hits_) ++(*begin)[rank[h.visitor] + 1];
  for (size_t r = 0; r < visitors_.size(); ++r) (*begin)[r + 1] += (*begin)[r];
  Indexes at(begin->begin(), begin->end() - 1), grouped(hits_.size());
  for (uint32_t i = 0; i < hits_.size(); ++i) grouped[at[rank[hits_[i].visitor]]++] = i;
  return grouped;
}

// One row per bucket and visitor hash, in key order: bucket after bucket,
// each in hash order. A visitor's touches are sorted by bucket (stably:
// each bucket's as they came), so that each bucket takes the next of them.
template <typename Out>
void TouchLog::WriteRows(Out* out) const {
  if (hits_.empty()) return;
  Indexes order, begin;
  Indexes grouped = ByVisitor(&order, &begin);
  auto bucket = [&](uint32_t i) { return TouchBucket(hits_[i].ts_us); };
  std::vector<int64_t> buckets = {TouchBucket(min_ts_)};
  if (buckets[0] != TouchBucket(max_ts_)) {
    boost::unordered_flat_set<int64_t> seen;
    for (const Hit& h : hits_) seen.insert(TouchBucket(h.ts_us));
    buckets.assign(seen.begin(), seen.end());
    std::sort(buckets.begin(), buckets.end());
    for (size_t r = 0; r < order.size(); ++r) {
      std::stable_sort(grouped.begin() + begin[r], grouped.begin() + begin[r + 1],
                       [&](uint32_t a, uint32_t b) { return bucket(a) < bucket(b); });
    }
  }
  Indexes next(begin.begin(), begin.end() - 1);  // each visitor's first not written
  std::string row;
  for (const int64_t b : buckets) {
    for (size_t r = 0; r < order.size(); ++r) {
      const uint32_t from = next[r];
      while (next[r] < begin[r + 1] && bucket(grouped[next[r]]) == b) ++next[r];
      if (next[r] > from && b >= cut_) {
        EncodeSection(visitors_[order[r]], {grouped.data() + from, next[r] - from}, &row);
      }
      const uint64_t hash = visitors_[order[r]].hash;
      if (r + 1 < order.size() && visitors_[order[r + 1]].hash == hash) continue;  // one row
      if (!row.empty()) out->Merge(TouchRowKey(b, hash), row);
      row.clear();
    }
  }
}

Status TouchLog::Prepare(int64_t horizon) {
  by_hash_ = decltype(by_hash_)();  // freed: a map's clear() keeps its buckets
  prepared_once_ = true;
  cut_ = horizon == INT64_MIN ? INT64_MIN : TouchBucket(horizon);  // before it: ended before
  prune_ = false;
  prepared_ = StateDb::Batch();
  if (cut_ != INT64_MIN && (stored_ || former_)) {
    std::string mark;
    Status s = db_->Get(kTouchesCutKey, &mark);
    if (!s.ok() && !s.IsNotFound()) return s;
    prune_ = !s.ok() || mark.size() != 8 || static_cast<int64_t>(DecodeFixed64(mark.data())) < cut_;
  }
  return MoveFormerRows();
}

// Rows of the former layout are appended to rows of this one, and deleted.
Status TouchLog::MoveFormerRows() {
  if (!former_) return Status::OK();
  std::map<std::string, std::string> moved;
  bool malformed = false;
  Status s = db_->Scan("V", [&](std::string_view key, std::string_view value) {
    Touches t;
    std::string_view rest = key.substr(1), visitor;
    if (!GetLengthPrefixed(&rest, &visitor) || !Decode(value, &t)) return !(malformed = true);
    std::map<int64_t, std::vector<const Touch*>> by_bucket;
    for (const Touch& x : t.list) {
      if (TouchBucket(x.ts_us) >= cut_) by_bucket[TouchBucket(x.ts_us)].push_back(&x);
    }
    for (const auto& [b, list] : by_bucket) {
      std::string& row = moved[TouchRowKey(b, HashOf(visitor).low)];
      PutLengthPrefixed(&row, visitor);
      PutVarint64(&row, list.size());
      for (const Touch* x : list) PutTouch(&row, x->ts_us, x->click_id, x->code);
    }
    return true;
  });
  if (s.ok() && malformed) s = Status::Corruption("rollup state: a row of the former touches");
  if (!s.ok()) return s;
  for (const auto& [k, row] : moved) prepared_.Merge(k, row);
  prepared_.DeleteRange("V", "W");
  return Status::OK();
}

void TouchLog::Writes(StateDb::Batch* out, StateDb::Sorted* rows) const {
  for (size_t i = 0; i < prepared_.size(); ++i) {
    if (prepared_.range(i)) {
      out->DeleteRange(prepared_.key(i), prepared_.value(i));
    } else {
      out->Merge(prepared_.key(i), prepared_.value(i));
    }
  }
  if (prune_) {  // once per bucket: the range starts at the first touch key
    out->DeleteRange("T", TouchBucketPrefix(cut_));
    std::string mark;
    PutFixed64(&mark, static_cast<uint64_t>(cut_));
    out->Put(kTouchesCutKey, mark);
  }
  // The former rows moved merge into keys of these rows: then one stream.
  if (rows == nullptr || former_) {
    WriteRows(out);
  } else {
    WriteRows(rows);
  }
}

// ByVisitor's and WriteRows's indexes, and the Sorted's two chunks.
size_t TouchLog::WriteBytes() const {
  return visitors_.size() * 5 * sizeof(uint32_t) + hits_.size() * sizeof(uint32_t) +
         2 * StateDb::Sorted::kChunkBytes;
}

size_t TouchLog::MemoryBytes() const {
  return hits_.MemoryBytes() + visitors_.MemoryBytes() + IndexBytes() + text_.MemoryBytes();
}

size_t TouchLog::IndexBytes() const {
  return by_hash_.bucket_count() * (sizeof(std::pair<Hash128, Head>) + 1);
}

}  // namespace refgate::rollup
