// RewardRules: what a referrer earns (SPEC §6), the [rewards] defaults or
// a campaign's own.
#pragma once

#include <cstdint>

namespace refgate {

struct RewardRules {
  int64_t lead_minor = 0;
  int64_t sale_percent_ppm = 100000;  // sale_percent in millionths: 10 %
  int64_t sale_flat_minor = 0;
  int recurring_months = 12;
  int hold_days = 30;
  int64_t min_click_age_s = 0;

  bool operator==(const RewardRules&) const = default;
};

}  // namespace refgate
