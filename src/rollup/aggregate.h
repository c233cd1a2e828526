// Aggregate: one compaction run's changes to the rollup state.
//
// Rows are loaded from the state on first touch and updated in memory, so
// a run reads each row once and writes it once, whatever the number of
// clicks, and channel folding sees the rows earlier runs kept.
#pragma once

#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "refgate/click_record.h"
#include "rollup/row_cache.h"
#include "rollup/rows.h"
#include "store/state_db.h"

namespace refgate::rollup {

class Aggregate {
 public:
  // `db` must outlive this; it is only read.
  explicit Aggregate(const StateDb* db) : db_(db) {
    days_.reserve(1 << 16);
    channels_.reserve(1 << 16);
    members_seen_.reserve(1 << 14);
  }

  // Counts one record (SPEC §5): clicks are non-bot records of type click;
  // bots count in bot_clicks only; orphans in the orphan total only.
  Status Add(const ClickRecord& rec);

  // An attributed sale (conversions 1, revenue its amount) or a refund of
  // one (conversions 0, revenue minus the refund), on the sale's day row
  // and its referrer's row (SPEC §6).
  Status AddConversion(int64_t sale_us, const std::string& referrer, const std::string& code,
                       int64_t conversions, int64_t revenue);

  // The writes that apply this run to the state (without the checkpoint).
  void Writes(std::vector<StateDb::Write>* out) const;

  const std::set<std::string>& dates() const { return dates_; }
  uint64_t orphans() const { return orphans_; }

 private:
  const std::string& DateOf(int64_t ts_us);
  // The referrer's code count, the first time this run sees (referrer, code).
  Status CountMember(const ClickRecord& rec, ReferrerRow* ref);
  // The click's channel row, folded into "(other)" once the day row is full.
  Status CountChannel(const ClickRecord& rec, const std::string& date, uint64_t visitor,
                      DayCodeRow* day);

  const StateDb* db_;
  std::unordered_map<std::string, DayCodeRow> days_;
  std::unordered_map<std::string, ChannelRow> channels_;
  std::unordered_map<std::string, ReferrerRow> referrers_;
  std::set<std::string> new_members_;
  std::unordered_set<std::string> members_seen_;  // member keys looked up this run
  std::set<std::string> dates_;
  uint64_t orphans_ = 0;
  int64_t cached_day_ = INT64_MIN;
  std::string cached_date_;
};

}  // namespace refgate::rollup
