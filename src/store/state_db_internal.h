// What state_db.cc and state_db_ingest.cc share: not for other callers.
#pragma once

#include <rocksdb/slice.h>

#include <cstdint>
#include <span>
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

inline rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace refgate::state_db_internal
