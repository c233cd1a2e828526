// Publishing rollups as files (SPEC §5): each file is written to a
// temporary name, fsynced and renamed into place, manifest.json last, so a
// reader never sees a half-written file.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "refgate/status.h"
#include "store/state_db.h"

namespace refgate::rollup {

// Writes <dir>/daily/date=D/codes.csv and channels.csv for each of `dates`,
// <dir>/referrers.csv, then <dir>/manifest.json listing every file.
Status Publish(const StateDb& db, const std::string& dir, const std::set<std::string>& dates,
               uint64_t through_seq);

// Writes `content` to `path` durably and atomically (temp, fsync, rename).
Status WriteFileAtomic(const std::string& path, std::string_view content);

}  // namespace refgate::rollup
