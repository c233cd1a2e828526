// The event index's keys beyond events (event_index.h): campaign rules and
// payouts. Shared by event_index.cc (rebuild) and rules_and_payouts.cc.
#pragma once

#include <string>
#include <string_view>

#include "clicklog/format.h"

namespace refgate::events {

inline std::string CampaignKey(std::string_view campaign) { return "k/" + std::string(campaign); }
inline std::string PayoutKey(std::string_view payout_id) { return "p/" + std::string(payout_id); }
inline std::string PaidKey(std::string_view referrer) { return "t/" + std::string(referrer); }

// What makes two posts of one payout_id the same payout.
inline std::string PayoutDigest(const clicklog::Payout& p) {
  clicklog::Payout body = p;
  body.at_us = 0;
  std::string payload;
  clicklog::EncodePayout(body, &payload);
  return payload;
}

}  // namespace refgate::events
