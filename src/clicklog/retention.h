// Retention: deleting the segments a reader is done with (SPEC §1,
// [clicklog] retention_days). The click log owns its files, so the rule for
// when one may go lives here, beside the writer that made them.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace refgate::clicklog {

// Deletes, from `segments` (ListSegments of `dir`, in order), each sealed
// segment whose records all have seq <= through_seq and whose last write
// is older than retention_days. The newest segment is never deleted (it may
// still be written). Returns how many were deleted.
size_t DeleteRolledUpSegments(const std::string& dir,
                              const std::vector<std::pair<uint64_t, std::string>>& segments,
                              uint64_t through_seq, int retention_days);

// Cluster mode (SPEC §8): a node ships its log to the cluster's stream
// and keeps in <data-dir>/cluster/shipped the seq shipped through (the
// shipper writes it, a little behind the stream). A segment is deleted
// only once shipped, and no sooner than a day after its last write (the
// NATS servers keep what they acknowledged in their page cache for up to
// two minutes: a day covers any crash of theirs).
inline constexpr const char* kShippedFile = "cluster/shipped";
// The seq shipped through: UINT64_MAX when the node never shipped (no
// file), 0 when the file cannot be read.
uint64_t ShippedThrough(const std::string& data_dir);
// A cluster's rollup node keeps its copy of the stream in
// <data-dir>/cluster/log, and in <data-dir>/cluster/merged the seq of that
// copy up to which it knows each node's position without reading it again
// (cluster/log_merger.h): segments past it stay, whatever was rolled up.
inline constexpr const char* kMergedFile = "cluster/merged";
// That seq: UINT64_MAX when there is no file, 0 when it cannot be read.
uint64_t MergedThrough(const std::string& data_dir);
// retention_days, at least 1 where the node ships its log.
int RetentionDays(const std::string& data_dir, int retention_days);

}  // namespace refgate::clicklog
