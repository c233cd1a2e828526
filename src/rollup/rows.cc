#include "rollup/rows.h"

#include <initializer_list>

#include "util/coding.h"

namespace refgate::rollup {
namespace {

std::string Key(char tag, std::string_view date, std::initializer_list<std::string_view> parts) {
  std::string k(1, tag);
  k.append(date);
  for (std::string_view p : parts) PutLengthPrefixed(&k, p);
  return k;
}

// Splits `key` (after its tag and, when dated, the date) into n parts.
bool Split(std::string_view key, char tag, bool dated, std::string_view* date,
           std::initializer_list<std::string_view*> parts) {
  if (key.empty() || key[0] != tag) return false;
  key.remove_prefix(1);
  if (dated) {
    if (key.size() < 10) return false;
    *date = key.substr(0, 10);
    key.remove_prefix(10);
  }
  for (std::string_view* p : parts) {
    if (!GetLengthPrefixed(&key, p)) return false;
  }
  return key.empty();
}

void PutAll(std::string* out, std::initializer_list<uint64_t> values) {
  for (uint64_t v : values) PutVarint64(out, v);
}

bool GetAll(std::string_view* in, std::initializer_list<uint64_t*> values) {
  for (uint64_t* v : values) {
    if (!GetVarint64(in, v)) return false;
  }
  return true;
}

}  // namespace

std::string DayPrefix(std::string_view date) { return Key('d', date, {}); }
std::string DayRefPrefix(std::string_view date, std::string_view ref) {
  return Key('d', date, {ref});
}
std::string DayCodeKey(std::string_view date, std::string_view ref, std::string_view code) {
  return Key('d', date, {ref, code});
}
std::string ChannelPrefix(std::string_view date) { return Key('h', date, {}); }
std::string ChannelRefPrefix(std::string_view date, std::string_view ref) {
  return Key('h', date, {ref});
}
std::string ChannelKey(std::string_view date, std::string_view ref, std::string_view code,
                       std::string_view src, std::string_view med, std::string_view camp) {
  return Key('h', date, {ref, code, src, med, camp});
}
std::string ChannelKeyOf(std::string_view date, std::string_view ref, std::string_view code,
                         std::string_view utm) {
  return Key('h', date, {ref, code}).append(utm);
}
std::string ReferrerKey(std::string_view ref) { return Key('r', "", {ref}); }
std::string MemberKey(std::string_view ref, std::string_view code) {
  return Key('m', "", {ref, code});
}
std::string PendingEventKey(uint64_t seq) {
  std::string k = "q";
  PutBigEndian64(&k, seq);
  return k;  // big-endian: in log order
}

bool ParseDayCodeKey(std::string_view key, std::string_view* date, std::string_view* ref,
                     std::string_view* code) {
  return Split(key, 'd', true, date, {ref, code});
}

bool ParseChannelKey(std::string_view key, std::string_view* date, std::string_view* ref,
                     std::string_view* code, std::string_view* src, std::string_view* med,
                     std::string_view* camp) {
  return Split(key, 'h', true, date, {ref, code, src, med, camp});
}

bool ParseReferrerKey(std::string_view key, std::string_view* ref) {
  std::string_view unused;
  return Split(key, 'r', false, &unused, {ref});
}

void Encode(const DayCodeRow& r, std::string* out, std::span<const uint64_t> more) {
  out->clear();
  PutAll(out,
         {r.clicks, r.new_visitors, r.bot_clicks, r.conversions, r.revenue_minor, r.channel_rows});
  r.visitors.EncodeUnionTo(more, out);
}

void Encode(const ChannelRow& r, std::string* out, std::span<const uint64_t> more) {
  out->clear();
  PutVarint64(out, r.clicks);
  r.visitors.EncodeUnionTo(more, out);
}

void Encode(const ReferrerRow& r, std::string* out, std::span<const uint64_t> more) {
  out->clear();
  PutAll(out, {r.clicks, r.bot_clicks, r.conversions, r.revenue_minor, r.codes,
               static_cast<uint64_t>(r.first_click_us), static_cast<uint64_t>(r.last_click_us)});
  r.visitors.EncodeUnionTo(more, out);
}

namespace {

// A row's fields before its visitors.
bool DecodeFields(std::string_view* in, DayCodeRow* r) {
  return GetAll(in, {&r->clicks, &r->new_visitors, &r->bot_clicks, &r->conversions,
                     &r->revenue_minor, &r->channel_rows});
}
bool DecodeFields(std::string_view* in, ChannelRow* r) { return GetVarint64(in, &r->clicks); }
bool DecodeFields(std::string_view* in, ReferrerRow* r) {
  uint64_t first = 0, last = 0;
  bool ok = GetAll(in, {&r->clicks, &r->bot_clicks, &r->conversions, &r->revenue_minor, &r->codes,
                        &first, &last});
  r->first_click_us = static_cast<int64_t>(first);
  r->last_click_us = static_cast<int64_t>(last);
  return ok;
}

template <typename Row>
bool DecodeRow(std::string_view in, Row* r, uint64_t* visitors) {
  if (!DecodeFields(&in, r)) return false;
  return visitors ? VisitorSet::CountFrom(&in, visitors) : r->visitors.DecodeFrom(&in);
}

}  // namespace

bool Decode(std::string_view in, DayCodeRow* r, uint64_t* visitors) {
  return DecodeRow(in, r, visitors);
}
bool Decode(std::string_view in, ChannelRow* r, uint64_t* visitors) {
  return DecodeRow(in, r, visitors);
}
bool Decode(std::string_view in, ReferrerRow* r, uint64_t* visitors) {
  return DecodeRow(in, r, visitors);
}

int64_t ReadAsOf(const StateDb& db) {
  std::string v;
  return db.Get(kAsOfKey, &v).ok() && v.size() == 8 ? static_cast<int64_t>(DecodeFixed64(v.data()))
                                                    : 0;
}

}  // namespace refgate::rollup
