// Reward rules (SPEC §6): the [rewards] defaults, campaign overrides with
// their history, and the integer arithmetic rewards are computed with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/reward_rules.h"

namespace refgate::rollup {

// A campaign's rules over time: each change applies to events that occur
// after it (a change is itself a record in the log, so recomputing never
// changes the past). `deleted`: back to the defaults from then on.
struct CampaignRules {
  struct Change {
    int64_t at_us = 0;
    bool deleted = false;
    RewardRules rules;
  };
  std::vector<Change> history;  // in log order
};

// The rules for an event of the campaign that occurred at t.
const RewardRules& RulesAt(const CampaignRules& c, const RewardRules& defaults, int64_t t_us);

std::string CampaignRulesKey(std::string_view campaign);  // "K" lp(campaign)
void Encode(const CampaignRules& v, std::string* out);
[[nodiscard]] bool Decode(std::string_view in, CampaignRules* v);

// round(n / d) to the nearest integer, ties to even. REQUIRES d > 0.
int64_t DivideHalfEven(__int128 n, int64_t d);
// A sale's reward under `r`: sale_percent of the amount, half-even, plus
// sale_flat_minor.
int64_t SaleReward(const RewardRules& r, int64_t amount_minor);

}  // namespace refgate::rollup
