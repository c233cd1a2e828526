// Publishing rollups as files (SPEC §5): each file is written to a
// temporary name, fsynced and renamed into place, manifest.json last, so a
// reader never sees a half-written file.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "refgate/status.h"
#include "store/state_db.h"
#include "util/file_io.h"

namespace refgate::rollup {

// Writes <dir>/daily/date=D/codes.csv, channels.csv and (for a day with
// conversion events) events.csv for each of `dates`, <dir>/referrers.csv
// and rewards.csv (in `currency`), then <dir>/manifest.json listing every file (and, on
// a cluster's rollup node, each node's seq rolled up through: "nodes"). Stops at
// the first failure, which it returns: every file in place is then a whole
// one, old or new, and the caller publishes again later. A run killed
// between a write and its rename leaves <file>.tmp; the next run rewrites
// the same files (the dates to publish stay committed until a publish
// succeeds), so it overwrites and renames it. `io` makes writes and syncs.
[[nodiscard]] Status Publish(const StateDb& db, const std::string& dir,
                             const std::set<std::string>& dates, uint64_t through_seq, FileIo* io,
                             std::string_view currency = "EUR");

}  // namespace refgate::rollup
