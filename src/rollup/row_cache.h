// A compaction run's rows: loaded from the state on first touch, then kept
// in memory, so a run reads each row once and writes it once.
#pragma once

#include <string>
#include <unordered_map>

#include "refgate/status.h"
#include "store/state_db.h"

namespace refgate::rollup {

// Reads `key`'s row from `db` into *row (left as it was when the state has
// none, or on an error). *existed: the state had it; *bytes, when given,
// grows by the size read. `db` null: a state known to hold no such row
// (nothing is read). Row needs a Decode(std::string_view, Row*) that
// returns false on damage.
template <typename Row>
Status ReadRow(const StateDb* db, const std::string& key, Row* row, bool* existed,
               size_t* bytes = nullptr) {
  *existed = false;
  if (db == nullptr) return Status::OK();
  std::string value;
  Status s = db->Get(key, &value);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  if (bytes) *bytes += value.size();
  Row decoded;
  if (!Decode(value, &decoded)) return Status::Corruption("rollup state row " + key);
  *row = std::move(decoded);
  *existed = true;
  return Status::OK();
}

// Whether the state holds `key` (a null `db`: it holds nothing).
inline Status HasRow(const StateDb* db, const std::string& key, bool* found) {
  std::string unused;
  Status s = db ? db->Get(key, &unused) : Status::NotFound(key);
  *found = s.ok();
  return s.IsNotFound() ? Status::OK() : s;
}

// Sets *row to `key`'s row in *map, reading and decoding it from `db` the
// first time (a default Row when the state has none). *existed, when
// given, says whether the state or the map had it.
template <typename Row>
Status LoadRow(const StateDb* db, const std::string& key, std::unordered_map<std::string, Row>* map,
               Row** row, bool* existed = nullptr) {
  if (auto it = map->find(key); it != map->end()) {
    *row = &it->second;
    if (existed) *existed = true;
    return Status::OK();
  }
  Row fresh;
  bool stored;
  if (Status s = ReadRow(db, key, &fresh, &stored); !s.ok()) return s;
  if (existed) *existed = stored;
  *row = &map->emplace(key, std::move(fresh)).first->second;
  return Status::OK();
}

template <typename Row>
Status LoadRow(const StateDb& db, const std::string& key, std::unordered_map<std::string, Row>* map,
               Row** row, bool* existed = nullptr) {
  return LoadRow(&db, key, map, row, existed);
}

}  // namespace refgate::rollup
