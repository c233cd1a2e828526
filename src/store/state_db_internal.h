// What state_db.cc and state_db_ingest.cc share: not for other callers.
#pragma once

#include <rocksdb/slice.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/state_db.h"

namespace refgate::state_db_internal {

// A write of one of several batches: batch << 32 | index.
using Ref = uint64_t;

// The batches' writes by key, stably (of writes to one key, the last
// stays last; the batches count in their order). Callers hand over writes
// in a few runs of ascending keys (a compaction run's row groups), so the
// runs are merged: n log(runs).
std::vector<Ref> SortedByKey(std::span<const StateDb::Batch* const> batches);

// A StateDb's Sorted alive at once, and the name of slot i's table file.
inline constexpr uint32_t kSortedSlots = 32;
inline std::string SortedTablePath(const std::string& dir, uint32_t slot) {
  return dir + "/ingest-s" + std::to_string(slot) + ".sst.tmp";
}

inline rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace refgate::state_db_internal
