// The conversion files of SPEC §6: daily/date=D/events.csv and rewards.csv,
// from the conversion state (conversion_rows.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "refgate/status.h"
#include "rollup/conversion_rows.h"
#include "store/state_db.h"

namespace refgate::rollup {

// The day's events.csv; *rows how many events it holds.
[[nodiscard]] Status EventsCsv(const StateDb& db, const std::string& date, std::string* out,
                               size_t* rows);

// A referrer's row of rewards.csv: balance_minor is payable - earned.paid.
struct Balance {
  std::string_view referrer_id;  // valid only during the call of ForEachBalance's fn
  Earnings earned;
  int64_t payable = 0;  // reward lines whose hold has passed, before payouts
};
// Calls fn for each referrer with earnings, in referrer order.
[[nodiscard]] Status ForEachBalance(const StateDb& db,
                                    const std::function<void(const Balance&)>& fn);

// rewards.csv: a referrer's rewards are payable once their hold has passed
// by the log's clock (kAsOfKey); paid_minor counts payouts.
// Only the header when nothing was rolled up (db null).
[[nodiscard]] Status RewardsCsv(const StateDb* db, std::string_view currency, std::string* out);

// What is payable to `referrer` by the log's clock, before payouts; 0
// when nothing was rolled up (db null).
[[nodiscard]] Status PayableTo(const StateDb* db, std::string_view referrer, int64_t* payable);

}  // namespace refgate::rollup
