// Records the attribution tests hand an Attribution (attribution_test.cc,
// outbox_test.cc).
#pragma once

#include <cstdint>

#include "clicklog/format.h"

namespace refgate::rollup {

// alice's code al_code, as a change at `changed_us` left it.
inline clicklog::CodeChange AliceCode(int64_t changed_us) {
  clicklog::CodeChange code;
  code.changed_us = changed_us;
  code.code.code = "al_code";
  code.code.referrer_id = "alice";
  return code;
}

}  // namespace refgate::rollup
