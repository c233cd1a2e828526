#include "rollup/rewards.h"

#include <algorithm>

#include "clicklog/format.h"
#include "util/coding.h"

namespace refgate::rollup {
namespace {

constexpr int64_t kDayUs = 86400'000000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Days since 1970-01-01 <-> civil date (H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

}  // namespace

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

int64_t AddMonths(int64_t t_us, int months) {
  const int64_t days = FloorDiv(t_us, kDayUs), rest = t_us - days * kDayUs;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t total = y * 12 + (m - 1) + months;
  y = FloorDiv(total, 12);
  m = static_cast<unsigned>(total - y * 12) + 1;
  static constexpr unsigned kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const unsigned len = m == 2 && leap ? 29 : kLen[m - 1];
  return DaysFromCivil(y, m, std::min(d, len)) * kDayUs + rest;
}

int64_t SaleReward(const RewardRules& r, int64_t amount_minor) {
  return DivideHalfEven(static_cast<__int128>(amount_minor) * r.sale_percent_ppm, 1'000'000) +
         r.sale_flat_minor;
}

}  // namespace refgate::rollup
