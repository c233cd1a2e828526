// Rollup state: the rows the compaction job keeps in StateDb, their keys and
// byte formats. Key components are length-prefixed (visitor text may hold
// any byte, NUL included), so a prefix of whole components selects a range.
//
//   "d" date lp(referrer) lp(code)                        -> DayCodeRow
//   "h" date lp(referrer) lp(code) lp(src) lp(med) lp(camp) -> ChannelRow
//   "r" lp(referrer)                                      -> ReferrerRow
//   "m" lp(referrer) lp(code)                             -> "" (codes seen)
//   "!through"  fixed64: every record with seq <= this is counted
//   "!dirty"    lp(date)...: dates whose CSVs are still to be published
//   "!orphans"  fixed64: orphan records seen (not rolled up per referrer)
//
// date is "YYYY-MM-DD" (UTC). Row values are varints, then a VisitorSet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rollup/visitor_set.h"
#include "store/state_db.h"

namespace refgate::rollup {

inline constexpr std::string_view kThroughKey = "!through";
inline constexpr std::string_view kDirtyKey = "!dirty";
inline constexpr std::string_view kOrphansKey = "!orphans";
// A cluster's rollup node (SPEC §8): "!node/<node_id>" -> fixed64, the seq
// of that node's log rolled up through; kSourceKey "cluster" says the state
// follows the cluster's stream, not this node's log (absent: the log).
inline constexpr std::string_view kNodeKeyPrefix = "!node/";
inline constexpr std::string_view kSourceKey = "!source";
// fixed64: the newest record time read (Unix us): the log's own clock, by
// which attribution windows and reward holds pass.
inline constexpr std::string_view kAsOfKey = "!as_of";
// kAsOfKey's time; 0 before any run kept one.
int64_t ReadAsOf(const StateDb& db);
inline constexpr size_t kMaxChannelRows = 1000;  // per code and day, then "(other)"
inline constexpr std::string_view kOtherChannel = "(other)";

struct DayCodeRow {
  uint64_t clicks = 0, new_visitors = 0, bot_clicks = 0, conversions = 0, revenue_minor = 0;
  uint64_t channel_rows = 0;  // distinct channel rows kept (not counting "(other)")
  VisitorSet visitors;
};

struct ChannelRow {
  uint64_t clicks = 0;
  VisitorSet visitors;
};

struct ReferrerRow {
  uint64_t clicks = 0, bot_clicks = 0, conversions = 0, revenue_minor = 0, codes = 0;
  int64_t first_click_us = 0, last_click_us = 0;  // 0: no click yet
  VisitorSet visitors;
};

std::string DayPrefix(std::string_view date);
std::string DayRefPrefix(std::string_view date, std::string_view referrer);
std::string DayCodeKey(std::string_view date, std::string_view referrer, std::string_view code);
std::string ChannelPrefix(std::string_view date);
std::string ChannelRefPrefix(std::string_view date, std::string_view referrer);
std::string ChannelKey(std::string_view date, std::string_view referrer, std::string_view code,
                       std::string_view src, std::string_view med, std::string_view camp);
// `utm`: lp(src) lp(med) lp(camp), as they are in the key.
std::string ChannelKeyOf(std::string_view date, std::string_view referrer, std::string_view code,
                         std::string_view utm);
std::string ReferrerKey(std::string_view referrer);
std::string MemberKey(std::string_view referrer, std::string_view code);
// A conversion event the compaction job has read and not yet decided
// (SPEC §6): its kEvent payload, by its place in the log.
std::string PendingEventKey(uint64_t seq);

// Split keys back into their parts; false when malformed.
[[nodiscard]] bool ParseDayCodeKey(std::string_view key, std::string_view* date,
                                   std::string_view* referrer, std::string_view* code);
[[nodiscard]] bool ParseChannelKey(std::string_view key, std::string_view* date,
                                   std::string_view* referrer, std::string_view* code,
                                   std::string_view* src, std::string_view* med,
                                   std::string_view* camp);
[[nodiscard]] bool ParseReferrerKey(std::string_view key, std::string_view* referrer);

// `more`: visitors to add to the row's (sorted, without duplicates).
void Encode(const DayCodeRow& r, std::string* out, std::span<const uint64_t> more = {});
void Encode(const ChannelRow& r, std::string* out, std::span<const uint64_t> more = {});
void Encode(const ReferrerRow& r, std::string* out, std::span<const uint64_t> more = {});
// With `visitors`, the row's visitors are only counted (*visitors:
// visitors.Count()), not decoded: what publishing needs, without a set per row.
[[nodiscard]] bool Decode(std::string_view in, DayCodeRow* r, uint64_t* visitors = nullptr);
[[nodiscard]] bool Decode(std::string_view in, ChannelRow* r, uint64_t* visitors = nullptr);
[[nodiscard]] bool Decode(std::string_view in, ReferrerRow* r, uint64_t* visitors = nullptr);

}  // namespace refgate::rollup
