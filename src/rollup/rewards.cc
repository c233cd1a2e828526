#include "rollup/rewards.h"

#include "clicklog/format.h"
#include "util/coding.h"

namespace refgate::rollup {

const RewardRules& RulesAt(const CampaignRules& c, const RewardRules& defaults, int64_t t_us) {
  const CampaignRules::Change* last = nullptr;
  for (const auto& ch : c.history) {
    if (ch.at_us < t_us) last = &ch;  // events that occur after the change
  }
  return last == nullptr || last->deleted ? defaults : last->rules;
}

std::string CampaignRulesKey(std::string_view campaign) {
  std::string k = "K";
  PutLengthPrefixed(&k, campaign);
  return k;
}

void Encode(const CampaignRules& v, std::string* out) {
  out->clear();
  PutVarint64(out, v.history.size());
  for (const auto& ch : v.history) {
    PutFixed64(out, static_cast<uint64_t>(ch.at_us));
    out->push_back(ch.deleted ? 1 : 0);
    clicklog::EncodeRules(ch.rules, out);
  }
}

bool Decode(std::string_view in, CampaignRules* v) {
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  v->history.resize(n);
  for (auto& ch : v->history) {
    uint64_t at;
    if (!GetFixed64(&in, &at) || in.empty()) return false;
    ch.at_us = static_cast<int64_t>(at);
    ch.deleted = in[0] == 1;
    in.remove_prefix(1);
    if (!clicklog::DecodeRules(&in, &ch.rules)) return false;
  }
  return true;
}

int64_t DivideHalfEven(__int128 n, int64_t d) {
  __int128 q = n / d, r = n % d;
  if (r < 0) {  // floor
    q -= 1;
    r += d;
  }
  if (2 * r > d || (2 * r == d && (q & 1) != 0)) q += 1;
  return static_cast<int64_t>(q);
}

int64_t SaleReward(const RewardRules& r, int64_t amount_minor) {
  return DivideHalfEven(static_cast<__int128>(amount_minor) * r.sale_percent_ppm, 1'000'000) +
         r.sale_flat_minor;
}

}  // namespace refgate::rollup
