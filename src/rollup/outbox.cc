#include "rollup/outbox.h"

#include <xxhash.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

#include "util/coding.h"
#include "util/random.h"
#include "util/time.h"

namespace refgate::rollup {
namespace json = boost::json;

std::string OutboxKey(uint64_t seq) {
  std::string k(kOutboxPrefix);
  PutBigEndian64(&k, seq);
  return k;
}

std::string NoticeId(std::string_view type, std::string_view what) {
  std::string key(type);
  key.push_back('\n');
  key.append(what);
  const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  char hex[40];
  std::snprintf(hex, sizeof hex, "wh_%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return hex;
}

Status ReadOutboxHead(const StateDb& db, OutboxHead* head) {
  std::string v;
  Status s = db.Get(kOutboxNextKey, &v);
  *head = {};
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  if (v.size() != 16) return Status::Corruption("rollup state: !outbox");
  head->next = DecodeFixed64(v.data());
  head->generation = DecodeFixed64(v.data() + 8);
  return Status::OK();
}

void WriteNotices(const std::vector<Notice>& notices, OutboxHead head, int64_t created_us,
                  StateDb::Batch* out) {
  if (notices.empty()) return;
  uint64_t next = head.next;
  while (head.generation == 0) RandomBytes(reinterpret_cast<uint8_t*>(&head.generation), 8);
  std::string v;
  for (const Notice& n : notices) {
    json::object body;
    body["id"] = n.id;
    body["type"] = n.type;
    body["created_at"] = FormatRfc3339(created_us / 1000000);
    body["data"] = n.data;
    v.clear();
    PutFixed64(&v, static_cast<uint64_t>(created_us));
    PutLengthPrefixed(&v, n.referrer_id);
    v += json::serialize(body);
    out->Put(OutboxKey(next++), v);
  }
  v.clear();
  PutFixed64(&v, next);
  PutFixed64(&v, head.generation);
  out->Put(std::string(kOutboxNextKey), v);
}

namespace {

bool DecodeEntry(std::string_view key, std::string_view v, OutboxEntry* e) {
  if (key.size() != 9 || v.size() < 8) return false;
  e->seq = DecodeBigEndian64(key.data() + 1);
  e->created_us = static_cast<int64_t>(DecodeFixed64(v.data()));
  v.remove_prefix(8);
  std::string_view ref;
  if (!GetLengthPrefixed(&v, &ref)) return false;
  e->referrer_id = ref;
  e->body = v;
  boost::system::error_code ec;
  json::value body = json::parse(e->body, ec);
  if (ec || !body.is_object()) return false;
  const json::object& o = body.get_object();
  const json::value* id = o.if_contains("id");
  const json::value* type = o.if_contains("type");
  if (!id || !id->is_string() || !type || !type->is_string()) return false;
  e->id = id->get_string();
  e->type = type->get_string();
  return true;
}

}  // namespace

Status ExpiredNotices(const StateDb& db, int64_t before_us, std::vector<std::string>* keys) {
  return db.Scan(kOutboxPrefix, [&](std::string_view k, std::string_view v) {
    if (v.size() < 8 || static_cast<int64_t>(DecodeFixed64(v.data())) >= before_us) return false;
    keys->emplace_back(k);
    return true;
  });
}

Status ReadOutbox(const StateDb& db, uint64_t from, size_t max, std::vector<OutboxEntry>* out) {
  out->clear();
  Status bad;
  Status s = db.Scan(kOutboxPrefix, OutboxKey(from), [&](std::string_view k, std::string_view v) {
    OutboxEntry e;
    if (!DecodeEntry(k, v, &e)) {
      bad = Status::Corruption("rollup state: an outbox entry");
      return false;
    }
    out->push_back(std::move(e));
    return out->size() < max;
  });
  return s.ok() ? bad : s;
}

}  // namespace refgate::rollup
