// A compaction run's rows: loaded from the state on first touch, then kept
// in memory, so a run reads each row once and writes it once.
#pragma once

#include <string>
#include <unordered_map>

#include "refgate/status.h"
#include "store/state_db.h"

namespace refgate::rollup {

// Sets *row to `key`'s row in *map, reading and decoding it from `db` the
// first time (a default Row when the state has none). *existed, when
// given, says whether the state or the map had it. Row needs a
// Decode(std::string_view, Row*) that returns false on damage.
// `db` null: a state known to hold no such row (nothing is read).
template <typename Row>
Status LoadRow(const StateDb* db, const std::string& key, std::unordered_map<std::string, Row>* map,
               Row** row, bool* existed = nullptr) {
  if (auto it = map->find(key); it != map->end()) {
    *row = &it->second;
    if (existed) *existed = true;
    return Status::OK();
  }
  Row fresh;
  std::string value;
  Status s = db ? db->Get(key, &value) : Status::NotFound(key);
  if (s.ok() && !Decode(value, &fresh)) return Status::Corruption("rollup state row " + key);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (existed) *existed = s.ok();
  *row = &map->emplace(key, std::move(fresh)).first->second;
  return Status::OK();
}

template <typename Row>
Status LoadRow(const StateDb& db, const std::string& key, std::unordered_map<std::string, Row>* map,
               Row** row, bool* existed = nullptr) {
  return LoadRow(&db, key, map, row, existed);
}

}  // namespace refgate::rollup
