// The conversion state of the compaction job (SPEC §6): the rows
// attribution and rewards keep in the rollup StateDb, beside rows.h's.
//
//   "C" lp(code)                 -> CodeInfo: referrer, campaign, status history
//   "H" hash (8, big-endian)     -> code, for click ids (util/click_id.h)
//   "T" bucket (8) hash (8)      -> the touches of a visitor (rollup/touch_log.h)
//   "V" lp(visitor)              -> Touches: the former layout of the touches, moved to "T"
//   "B" lp(customer)             -> Binding: the referrer an attributed customer is bound to
//   "O" lp(order_id)             -> SaleInfo: an attributed sale, for its refunds
//   "E" date lp(event_id)        -> Decision: the event's row of events.csv
//   "X" lp(event_id)             -> date of its Decision
//   "W" lp(referrer)             -> Earnings: rewards.csv's counts
//   "P" lp(payout_id)            -> "": a payout counted
//   "L" lp(referrer) at (8) lp(event_id) lp(kind) -> RewardLine: an amount payable from `at`
//   "Y" until (8) lp(customer)   -> "": a binding's end, so that an expired one is deleted
//
// Sizes: a visitor's touches are about 20 bytes each plus the click id and
// code, kept until their 32-day bucket ended window_days before the log's
// clock (rollup/touch_log.h); a Binding is about 40 bytes plus its ids, with a "Y" key
// of about 10 bytes plus the customer id, and is deleted once its
// customer_binding_days and then window_days have passed by the log's
// clock; a CodeInfo about 40 bytes plus one 17-byte entry
// per status change.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/code_record.h"
#include "refgate/event_record.h"

namespace refgate::rollup {

struct CodeInfo {
  std::string referrer_id, campaign;
  int64_t created_us = 0;
  struct Change {
    int64_t at_us = 0;
    CodeStatus status = CodeStatus::kActive;
    int64_t expires_us = 0;  // 0: never
  };
  std::vector<Change> history;  // by at_us; empty: known from clicks only
};
// Whether the code could be redirected to at t: created, not expired, and
// active by its last change at or before t.
bool ActiveAt(const CodeInfo& c, int64_t t_us);

struct Touch {
  int64_t ts_us = 0;
  std::string click_id, code;
};
struct Touches {
  std::vector<Touch> list;  // by (ts_us, click_id)
};

struct Binding {
  std::string referrer_id, code, campaign;
  int64_t bound_us = 0;
  int64_t sales = 0;  // sales attributed through the binding, the first included
};

struct SaleInfo {
  std::string event_id, date, referrer_id, code, method;
  int64_t occurred_us = 0, amount = 0, refunded = 0, reward = 0, reversed = 0;
  int64_t payable_us = 0;  // when its reward becomes payable
};

struct Decision {
  EventType type = EventType::kLead;
  std::string event_id, customer_id, order_id, referrer_id, code, method, status, reason;
  int64_t occurred_us = 0, amount_minor = 0, reward_minor = 0, click_at_us = 0;  // 0: none
};

struct Earnings {
  int64_t leads = 0, sales = 0, revenue = 0, refunded = 0, reward = 0, paid = 0;
};

std::string CodeInfoKey(std::string_view code);
std::string CodeHashKey(uint64_t hash);
std::string TouchesKey(std::string_view visitor);
// Touches' rows (rollup/touch_log.h): the buckets of click time, and keys.
inline constexpr int64_t kTouchBucketUs = int64_t{32} * 86400'000000;
int64_t TouchBucket(int64_t ts_us);  // the start of the bucket holding ts_us
std::string TouchRowKey(int64_t bucket, uint64_t visitor_hash);
std::string TouchBucketPrefix(int64_t bucket);
inline constexpr std::string_view kTouchesCutKey = "!touches_cut";  // buckets before it: deleted
std::string BindingKey(std::string_view customer);
std::string SaleKey(std::string_view order_id);
std::string DecisionKey(std::string_view date, std::string_view event_id);
std::string DecisionPrefix(std::string_view date);
std::string EventDateKey(std::string_view event_id);
std::string EarningsKey(std::string_view referrer);
std::string PayoutSeenKey(std::string_view payout_id);  // "P" lp(payout_id) -> ""
std::string RewardLineKey(std::string_view referrer, int64_t at_us, std::string_view event_id,
                          std::string_view kind);
inline constexpr std::string_view kEarningsPrefix = "W";
inline constexpr std::string_view kRewardLinePrefix = "L";
// Times in the key sort in time order (big-endian, sign bit flipped).
std::string BindingEndKey(int64_t until_us, std::string_view customer);
[[nodiscard]] bool ParseBindingEndKey(std::string_view key, int64_t* until_us,
                                      std::string_view* customer);
[[nodiscard]] bool ParseEarningsKey(std::string_view key, std::string_view* referrer);
[[nodiscard]] bool ParseRewardLineKey(std::string_view key, std::string_view* referrer,
                                      int64_t* at_us);

void Encode(const CodeInfo& v, std::string* out);
void Encode(const Touches& v, std::string* out);
// One touch as both layouts of the touches hold it: ts (a zigzag varint),
// lp(click_id), lp(code).
void PutTouch(std::string* out, int64_t ts_us, std::string_view click_id, std::string_view code);
[[nodiscard]] bool GetTouch(std::string_view* in, int64_t* ts_us, std::string_view* click_id,
                            std::string_view* code);
void Encode(const Binding& v, std::string* out);
void Encode(const SaleInfo& v, std::string* out);
void Encode(const Decision& v, std::string* out);
void Encode(const Earnings& v, std::string* out);
void EncodeAmount(int64_t v, std::string* out);
[[nodiscard]] bool Decode(std::string_view in, CodeInfo* v);
[[nodiscard]] bool Decode(std::string_view in, Touches* v);
[[nodiscard]] bool Decode(std::string_view in, Binding* v);
[[nodiscard]] bool Decode(std::string_view in, SaleInfo* v);
[[nodiscard]] bool Decode(std::string_view in, Decision* v);
[[nodiscard]] bool Decode(std::string_view in, Earnings* v);
[[nodiscard]] bool DecodeAmount(std::string_view in, int64_t* v);

}  // namespace refgate::rollup
