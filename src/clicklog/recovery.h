// Recovery at start: cut a torn tail off the newest segment and find the
// next sequence number.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "refgate/status.h"

namespace refgate::clicklog {

struct RecoveryResult {
  uint64_t next_seq = 1;
  std::vector<std::string> notes;  // what was cut or removed, for the log output
};

// Scans the newest segment of `dir`: a damaged range running to its end (a
// torn or zero-filled tail) is truncated away, durably; damage followed by
// valid records is left for readers to skip and report. An empty newest
// segment is removed. Creates `dir` if needed.
Status Recover(const std::string& dir, RecoveryResult* out);

}  // namespace refgate::clicklog
