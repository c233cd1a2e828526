// Retention: deleting the segments a reader is done with (SPEC §1,
// [clicklog] retention_days). The click log owns its files, so the rule for
// when one may go lives here, beside the writer that made them.
#pragma once

#include <cstdint>
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

}  // namespace refgate::clicklog
