// The webhooks the compaction job owes (SPEC §7), kept in the rollup state
// beside the decisions they announce and committed with them, so that the
// outbox is never ahead of or behind the state:
//
//   "N" seq (8, big-endian) -> created_us fixed64 | lp(referrer) | body
//   "!outbox"               -> fixed64 next seq | fixed64 generation
//
// The generation is drawn when the state's first notice is written: a
// recompute from scratch numbers from 1 again under another generation, so
// the deliverer knows its position belongs to an outbox that is gone.
//
// body is the JSON a receiver gets: {"id", "type", "created_at", "data"}.
// `id` is derived from what is announced (the type and the event, or the
// reward line), so a recompute from scratch announces the same ids again
// and a receiver that deduplicates on id counts each decision once.
// Entries are kept two days by the log's clock (past the deliverer's 24
// hours of retries), then deleted by the run that finds them older.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/status.h"
#include "store/state_db.h"
#include "util/time.h"

namespace refgate::rollup {

inline constexpr std::string_view kOutboxPrefix = "N";
inline constexpr std::string_view kOutboxNextKey = "!outbox";
inline constexpr int64_t kOutboxKeepUs = 2 * kMicrosPerDay;

struct Notice {
  std::string referrer_id;
  std::string type;  // event.attributed, event.held, reward.payable
  std::string id;
  boost::json::object data;
};

struct OutboxEntry {
  uint64_t seq = 0;
  int64_t created_us = 0;
  std::string referrer_id;
  std::string type;
  std::string id;
  std::string body;
};

std::string OutboxKey(uint64_t seq);
// A stable id for a notice about `what` (its type and subject).
std::string NoticeId(std::string_view type, std::string_view what);

struct OutboxHead {
  uint64_t next = 1;
  uint64_t generation = 0;  // 0: no notice was ever written
};
Status ReadOutboxHead(const StateDb& db, OutboxHead* head);
// The writes that append `notices` (numbered from head.next), created at
// created_us, and move "!outbox" past them (drawing a generation if none).
void WriteNotices(const std::vector<Notice>& notices, OutboxHead head, int64_t created_us,
                  StateDb::Batch* out);
// The keys of entries created before `before_us`, oldest first.
Status ExpiredNotices(const StateDb& db, int64_t before_us, std::vector<std::string>* keys);

// Up to `max` entries from seq `from` on, in seq order.
Status ReadOutbox(const StateDb& db, uint64_t from, size_t max, std::vector<OutboxEntry>* out);

}  // namespace refgate::rollup
