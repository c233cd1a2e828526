// A code record for tests: the code, its referrer, a fixed target and
// creation time.
#pragma once

#include <string>

#include "refgate/code_record.h"

namespace refgate {

inline CodeRecord TestCode(std::string code, std::string referrer = "r1") {
  CodeRecord r;
  r.code = std::move(code);
  r.referrer_id = std::move(referrer);
  r.target_url = "https://example.com/";
  r.created_at = 1795341600;
  return r;
}

}  // namespace refgate
