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

// The table files of `sorted` (batches' writes in key order), each part
// nonempty, their key ranges disjoint: split at the first key from each of
// `at` on (Commit's: "a", for the rollup's row tags are lower case and the
// rest upper case, about half and half; and each Sorted's first key, whose
// table file then lies between two parts), except where a range deletion
// before the cut reaches over it.
std::vector<std::span<const Ref>> TableParts(std::span<const StateDb::Batch* const> batches,
                                             std::span<const Ref> sorted,
                                             std::span<const std::string_view> at);

// A StateDb's Sorted alive at once, and the name of slot i's table file.
inline constexpr uint32_t kSortedSlots = 32;
inline std::string SortedTablePath(const std::string& dir, uint32_t slot) {
  return dir + "/ingest-s" + std::to_string(slot) + ".sst.tmp";
}

// The batches' table files of one commit: at most one past each cut (at
// "a", at each Sorted's first key), and the name of the i-th.
inline constexpr size_t kTableParts = 2 + kSortedSlots;
inline std::string TablePartPath(const std::string& dir, size_t i) {
  return dir + (i == 0 ? std::string("/ingest.sst.tmp")
                       : "/ingest-" + std::to_string(i + 1) + ".sst.tmp");
}

inline rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace refgate::state_db_internal
