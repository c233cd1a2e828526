// Per-referrer statistics for the admin API (SPEC §3), read from the
// rollup state.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string_view>

#include "refgate/status.h"
#include "store/state_db.h"

namespace refgate::rollup {

// The stats object for `referrer` over the UTC days [from, to] (Unix seconds
// at 00:00). `db` may be null (nothing rolled up yet): all counts are zero.
// Unique visitors over several days or codes are the union of their sets.
// Adds (SPEC §6) the referrer's attributed leads and reward_minor over the
// days, conversion_rate (attributed sales over unique visitors) and
// unattributed: the program's events left unattributed on those days.
Status ReferrerStats(const StateDb* db, std::string_view referrer, int64_t from, int64_t to,
                     boost::json::object* out);

// The whole program's stats over the same days, for the dashboard (SPEC
// §7): the totals of ReferrerStats, then "by_day" with leads and
// reward_minor per day, and "by_referrer" and "by_channel", each sorted by
// clicks and cut to its first kMaxProgramRows rows.
inline constexpr size_t kMaxProgramRows = 1000;
Status ProgramStats(const StateDb* db, int64_t from, int64_t to, boost::json::object* out);

}  // namespace refgate::rollup
