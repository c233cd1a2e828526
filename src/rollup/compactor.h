// The compaction job (SPEC §5): `refgate compact`, and the same job run by
// `serve` every [rollup] interval_s.
//
// A run takes <data-dir>/rollups/.lock (flock), so runs in any number of
// processes are serialised; reads the click log from the checkpoint to its
// durable end (it fdatasyncs each segment itself before reading, so nothing
// it counts can be lost to a crash); commits the new rows together with the
// new checkpoint in one atomic write; then publishes the CSVs and the
// manifest. The dates still to publish are committed with the rows, so a
// run killed at any point leaves either the old state or the new one, and
// the next run finishes the publishing. Every record is counted once.
//
// The checkpoint moves past every record read: clicks are counted, records
// of unknown types with kIgnorableBit skipped, and damaged ranges (and
// click payloads that do not decode) counted in CompactResult and reported
// on stderr. A record of an unknown type without the bit stops the run
// there: what came before it is committed and published, and Compact
// returns Corruption naming it (a newer writer's record this version must
// not drop).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "refgate/status.h"
#include "rollup/attribution.h"
#include "util/file_io.h"

namespace refgate::rollup {

struct CompactOptions {
  std::string data_dir = "";
  // A cluster's rollup node (SPEC §8) rolls up its copy of the cluster's
  // stream, <data_dir>/cluster/log (cluster/log_merger.h), instead of its
  // own <data_dir>/clicks, and commits each node's position with the rows.
  // A state remembers which log it follows and refuses the other.
  bool cluster = false;
  // Where click.key is (util/click_id.h). "": data_dir, and without one no
  // click id verifies; else a cluster node's copy of its cluster's key,
  // which must be there (a run refuses to start without it).
  std::string click_key_dir = "";
  int retention_days = 30;              // rolled-up sealed segments older than this are deleted
  bool progress = false;                // a progress line on stderr
  std::string currency = "EUR";         // [rewards] currency, for rewards.csv
  AttributionOptions attribution = {};  // the [rewards] rules (click_key is loaded by the run)
  // [rollup] max_memory_mb: a run whose rows would pass this with one more
  // segment like the last (checked at each segment's end) commits what it
  // has and goes on in a new part.
  size_t max_memory_bytes = size_t{1024} << 20;
  // For tests: stop reading after this many records (a run that ends early).
  uint64_t max_records = UINT64_MAX;
  // For tests: called after the state commit, before publishing.
  std::function<void()> after_commit = nullptr;
  // For tests: the file calls publishing makes (fault injection); null: the real ones.
  FileIo* io = nullptr;
};

struct CompactResult {
  uint64_t records = 0;         // clicks counted by this run
  uint64_t events = 0;          // conversion events read
  uint64_t decided = 0;         // events attributed or held by this run
  uint64_t skipped = 0;         // records of unknown ignorable types, passed over
  uint64_t undecodable = 0;     // click records whose payload did not decode, passed over
  uint64_t damaged_ranges = 0;  // damage found past the checkpoint, reported on stderr
  uint64_t damaged_bytes = 0;
  uint64_t through_seq = 0;  // checkpoint after it: the last record read
  size_t dates_published = 0;
  size_t segments_deleted = 0;
  std::map<std::string, uint64_t> nodes;  // cluster: each node's seq rolled up through
};

Status Compact(const CompactOptions& opt, CompactResult* result);

}  // namespace refgate::rollup
