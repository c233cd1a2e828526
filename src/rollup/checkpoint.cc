#include "rollup/checkpoint.h"

#include "rollup/rows.h"
#include "util/coding.h"

namespace refgate::rollup {
namespace {

std::string Fixed64(uint64_t v) {
  std::string out;
  PutFixed64(&out, v);
  return out;
}

bool GetFixed64Row(const StateDb& db, std::string_view key, uint64_t* v) {
  std::string value;
  if (!db.Get(key, &value).ok() || value.size() != 8) return false;
  *v = DecodeFixed64(value.data());
  return true;
}

}  // namespace

Status Checkpoint::Load(const StateDb& db) {
  *this = Checkpoint();
  std::string value;
  cluster = db.Get(kSourceKey, &value).ok() && value == "cluster";
  if (db.Get(kDirtyKey, &value).ok()) {
    std::string_view in = value, d;
    while (GetLengthPrefixed(&in, &d)) dirty.emplace(d);
  }
  (void)GetFixed64Row(db, kThroughKey, &through);
  (void)GetFixed64Row(db, kOrphansKey, &orphans);
  return db.Scan(kNodeKeyPrefix, [&](std::string_view k, std::string_view v) {
    if (v.size() == 8)
      nodes[std::string(k.substr(kNodeKeyPrefix.size()))] = DecodeFixed64(v.data());
    return true;
  });
}

void Checkpoint::Writes(StateDb::Batch* out) const {
  std::string dates;
  for (const auto& d : dirty) PutLengthPrefixed(&dates, d);
  out->Put(kDirtyKey, dates);
  for (const auto& [node, seq] : nodes) out->Put(std::string(kNodeKeyPrefix) + node, Fixed64(seq));
  out->Put(kOrphansKey, Fixed64(orphans));
  if (cluster) out->Put(kSourceKey, "cluster");
  out->Put(kThroughKey, Fixed64(through));
}

}  // namespace refgate::rollup
