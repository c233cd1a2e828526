#include "rollup/conversion_rows.h"

#include <algorithm>

#include "util/coding.h"

namespace refgate::rollup {
namespace {

uint64_t Zig(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t Zag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void PutInts(std::string* out, std::initializer_list<int64_t> vs) {
  for (int64_t v : vs) PutVarint64(out, Zig(v));
}
bool GetInts(std::string_view* in, std::initializer_list<int64_t*> vs) {
  for (int64_t* v : vs) {
    uint64_t u;
    if (!GetVarint64(in, &u)) return false;
    *v = Zag(u);
  }
  return true;
}
void PutStrings(std::string* out, std::initializer_list<const std::string*> ss) {
  for (const std::string* s : ss) PutLengthPrefixed(out, *s);
}
bool GetStrings(std::string_view* in, std::initializer_list<std::string*> ss) {
  std::string_view v;
  for (std::string* s : ss) {
    if (!GetLengthPrefixed(in, &v)) return false;
    s->assign(v);
  }
  return true;
}
std::string BigEndian(uint64_t v) {
  std::string k;
  PutBigEndian64(&k, v);
  return k;
}
// A time as 8 key bytes that sort in time order (big-endian, sign bit
// flipped), and back from the front of *in.
std::string TimeKey(int64_t t) { return BigEndian(static_cast<uint64_t>(t) ^ (uint64_t{1} << 63)); }
bool GetTimeKey(std::string_view* in, int64_t* t) {
  if (in->size() < 8) return false;
  *t = static_cast<int64_t>(DecodeBigEndian64(in->data()) ^ (uint64_t{1} << 63));
  in->remove_prefix(8);
  return true;
}
std::string Tagged(char tag, std::initializer_list<std::string_view> parts) {
  std::string k(1, tag);
  for (std::string_view p : parts) PutLengthPrefixed(&k, p);
  return k;
}

}  // namespace

bool ActiveAt(const CodeInfo& c, int64_t t) {
  if (c.history.empty()) return true;  // known from its clicks: it existed
  if (t < c.created_us) return false;
  const CodeInfo::Change* last = nullptr;
  for (const auto& ch : c.history) {
    if (ch.at_us <= t) last = &ch;
  }
  if (last == nullptr) last = &c.history.front();  // created before its first logged change
  return last->status == CodeStatus::kActive && (last->expires_us == 0 || t < last->expires_us);
}

std::string CodeInfoKey(std::string_view code) { return Tagged('C', {code}); }
std::string CodeHashKey(uint64_t hash) { return "H" + BigEndian(hash); }
std::string TouchesKey(std::string_view visitor) { return Tagged('V', {visitor}); }
int64_t TouchBucket(int64_t ts_us) {
  ts_us = std::max(ts_us, INT64_MIN + kTouchBucketUs);  // the first bucket holds earlier times
  const int64_t q = ts_us / kTouchBucketUs;
  return (q - (ts_us % kTouchBucketUs < 0)) * kTouchBucketUs;
}
std::string TouchBucketPrefix(int64_t bucket) {
  std::string k = "T";
  return k.append(TimeKey(bucket));  // not "T" + ...: GCC 12 warns falsely (-Wrestrict)
}
std::string TouchRowKey(int64_t bucket, uint64_t visitor_hash) {
  std::string k = TouchBucketPrefix(bucket);
  PutBigEndian64(&k, visitor_hash);
  return k;
}
std::string BindingKey(std::string_view customer) { return Tagged('B', {customer}); }
std::string SaleKey(std::string_view order_id) { return Tagged('O', {order_id}); }
std::string DecisionPrefix(std::string_view date) { return "E" + std::string(date); }
std::string DecisionKey(std::string_view date, std::string_view event_id) {
  std::string k = DecisionPrefix(date);
  PutLengthPrefixed(&k, event_id);
  return k;
}
std::string BindingEndKey(int64_t until_us, std::string_view customer) {
  std::string k = "Y" + TimeKey(until_us);
  PutLengthPrefixed(&k, customer);
  return k;
}
bool ParseBindingEndKey(std::string_view key, int64_t* until_us, std::string_view* customer) {
  if (key.empty() || key[0] != 'Y') return false;
  key.remove_prefix(1);
  return GetTimeKey(&key, until_us) && GetLengthPrefixed(&key, customer) && key.empty();
}
std::string EventDateKey(std::string_view event_id) { return Tagged('X', {event_id}); }
std::string EarningsKey(std::string_view referrer) { return Tagged('W', {referrer}); }
std::string PayoutSeenKey(std::string_view payout_id) { return Tagged('P', {payout_id}); }
std::string RewardLineKey(std::string_view referrer, int64_t at_us, std::string_view event_id,
                          std::string_view kind) {
  std::string k = Tagged('L', {referrer});
  k += TimeKey(at_us);
  PutLengthPrefixed(&k, event_id);
  PutLengthPrefixed(&k, kind);
  return k;
}

bool ParseEarningsKey(std::string_view key, std::string_view* referrer) {
  if (key.empty() || key[0] != 'W') return false;
  key.remove_prefix(1);
  return GetLengthPrefixed(&key, referrer) && key.empty();
}

bool ParseRewardLineKey(std::string_view key, std::string_view* referrer, int64_t* at_us) {
  if (key.empty() || key[0] != 'L') return false;
  key.remove_prefix(1);
  return GetLengthPrefixed(&key, referrer) && GetTimeKey(&key, at_us);
}

void Encode(const CodeInfo& v, std::string* out) {
  out->clear();
  PutStrings(out, {&v.referrer_id, &v.campaign});
  PutInts(out, {v.created_us, static_cast<int64_t>(v.history.size())});
  for (const auto& c : v.history)
    PutInts(out, {c.at_us, static_cast<int64_t>(c.status), c.expires_us});
}
bool Decode(std::string_view in, CodeInfo* v) {
  int64_t n = 0;
  if (!GetStrings(&in, {&v->referrer_id, &v->campaign}) || !GetInts(&in, {&v->created_us, &n}) ||
      n < 0 || static_cast<size_t>(n) > in.size()) {
    return false;
  }
  v->history.resize(static_cast<size_t>(n));
  for (auto& c : v->history) {
    int64_t status;
    if (!GetInts(&in, {&c.at_us, &status, &c.expires_us}) || status < 0 || status > 2) return false;
    c.status = static_cast<CodeStatus>(status);
  }
  return true;
}

void PutTouch(std::string* out, int64_t ts_us, std::string_view click_id, std::string_view code) {
  PutInts(out, {ts_us});
  PutLengthPrefixed(out, click_id);
  PutLengthPrefixed(out, code);
}
bool GetTouch(std::string_view* in, int64_t* ts_us, std::string_view* click_id,
              std::string_view* code) {
  return GetInts(in, {ts_us}) && GetLengthPrefixed(in, click_id) && GetLengthPrefixed(in, code);
}

void Encode(const Touches& v, std::string* out) {
  out->clear();
  PutInts(out, {static_cast<int64_t>(v.list.size())});
  for (const auto& t : v.list) PutTouch(out, t.ts_us, t.click_id, t.code);
}
bool Decode(std::string_view in, Touches* v) {
  int64_t n = 0;
  if (!GetInts(&in, {&n}) || n < 0 || static_cast<size_t>(n) > in.size()) return false;
  v->list.resize(static_cast<size_t>(n));
  std::string_view click_id, code;
  for (auto& t : v->list) {
    if (!GetTouch(&in, &t.ts_us, &click_id, &code)) return false;
    t.click_id.assign(click_id);
    t.code.assign(code);
  }
  return true;
}

void Encode(const Binding& v, std::string* out) {
  out->clear();
  PutStrings(out, {&v.referrer_id, &v.code, &v.campaign});
  PutInts(out, {v.bound_us, v.sales});
}
bool Decode(std::string_view in, Binding* v) {
  return GetStrings(&in, {&v->referrer_id, &v->code, &v->campaign}) &&
         GetInts(&in, {&v->bound_us, &v->sales});
}

void Encode(const SaleInfo& v, std::string* out) {
  out->clear();
  PutStrings(out, {&v.event_id, &v.date, &v.referrer_id, &v.code, &v.method});
  PutInts(out, {v.occurred_us, v.amount, v.refunded, v.reward, v.reversed, v.payable_us});
}
bool Decode(std::string_view in, SaleInfo* v) {
  return GetStrings(&in, {&v->event_id, &v->date, &v->referrer_id, &v->code, &v->method}) &&
         GetInts(&in, {&v->occurred_us, &v->amount, &v->refunded, &v->reward, &v->reversed,
                       &v->payable_us});
}

void Encode(const Decision& v, std::string* out) {
  out->clear();
  PutInts(out, {static_cast<int64_t>(v.type), v.occurred_us, v.amount_minor, v.reward_minor,
                v.click_at_us});
  PutStrings(out, {&v.event_id, &v.customer_id, &v.order_id, &v.referrer_id, &v.code, &v.method,
                   &v.status, &v.reason});
}
bool Decode(std::string_view in, Decision* v) {
  int64_t type;
  if (!GetInts(&in,
               {&type, &v->occurred_us, &v->amount_minor, &v->reward_minor, &v->click_at_us}) ||
      type < 1 || type > 3) {
    return false;
  }
  v->type = static_cast<EventType>(type);
  return GetStrings(&in, {&v->event_id, &v->customer_id, &v->order_id, &v->referrer_id, &v->code,
                          &v->method, &v->status, &v->reason});
}

void Encode(const Earnings& v, std::string* out) {
  out->clear();
  PutInts(out, {v.leads, v.sales, v.revenue, v.refunded, v.reward, v.paid});
}
bool Decode(std::string_view in, Earnings* v) {
  return GetInts(&in, {&v->leads, &v->sales, &v->revenue, &v->refunded, &v->reward, &v->paid});
}

void EncodeAmount(int64_t v, std::string* out) {
  out->clear();
  PutInts(out, {v});
}
bool DecodeAmount(std::string_view in, int64_t* v) { return GetInts(&in, {v}); }

}  // namespace refgate::rollup
