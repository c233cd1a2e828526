// The compaction job's checkpoint (rollup/compactor.h): what earlier runs
// committed with their rows, in the state's "!" keys (rollup/rows.h).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "refgate/status.h"
#include "store/state_db.h"

namespace refgate::rollup {

struct Checkpoint {
  uint64_t through = 0;                   // the last record read
  std::set<std::string> dirty;            // the dates still to publish
  uint64_t orphans = 0;                   // the orphan clicks' total
  bool cluster = false;                   // the state follows the cluster's stream (SPEC §8)
  std::map<std::string, uint64_t> nodes;  // cluster: each node's seq read through

  Status Load(const StateDb& db);
  // Puts every field's row into *out, in key order.
  void Writes(StateDb::Batch* out) const;
};

}  // namespace refgate::rollup
