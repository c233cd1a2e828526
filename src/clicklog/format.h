// The click log's on-disk format.
//
// <data-dir>/clicks/ holds segment files named by the sequence number of
// their first record, zero-padded to 20 digits: 00000000000000000001.log.
// A segment is a plain sequence of records; records never span segments.
// Only the newest segment is ever appended to; older ones are sealed and
// never change.
//
// A record, all integers little-endian:
//
//   offset  size  field
//        0     8  checksum  XXH3-64 of bytes [8, 21 + length)
//        8     4  length    payload bytes, at most kMaxPayload
//       12     1  type      RecordType
//       13     8  seq       sequence number: dense and increasing across the log
//       21     n  payload
//
// The checksum covers length, type, seq and payload, so a torn write, a
// flipped bit or a zero-filled tail never passes as a record. Types with
// the kIgnorableBit set may be skipped by readers that do not know them, so
// old readers survive new writers (conversions will come this way).
//
// Payload of kClick (ClickRecord without seq):
//   ts_us varint | click type byte (1 click, 2 orphan) | flags byte
//   (bit 0 new_visitor, bit 1 bot) | status varint | then length-prefixed
//   strings: code, referrer_id, click_id, visitor_id, method, utm_source,
//   utm_medium, utm_campaign, utm_term, utm_content, referer, user_agent, ip;
//   then a via byte (1: qr), written only when not 0 (link), so a link's
//   record is as it was and readers from before it still read a QR's; a
//   value a reader does not know reads as a link.
// Bytes after the last known field are ignored (room for new fields; a
// field after via makes via present in every record).
//
// Payload of kCode: see EncodeCodeChange below.
//
// Payload of kEvent (EventRecord without seq; a conversion event, SPEC §6):
//   version byte (1) | event type byte | flags byte (bit 0 occurred_given) |
//   received_us fixed64 | occurred_us fixed64 | amount_minor fixed64 | then
//   length-prefixed strings: event_id, customer_id, click_id, visitor_id,
//   code, order_id, currency | metadata count varint | that many
//   length-prefixed (key, value) pairs. kEvent has no kIgnorableBit: a
//   reader that does not know it must stop rather than drop money.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "refgate/click_record.h"
#include "refgate/event_record.h"
#include "refgate/reward_rules.h"
#include "refgate/status.h"

namespace refgate::clicklog {

inline constexpr size_t kHeaderSize = 21;
inline constexpr uint32_t kMaxPayload = 1 << 20;
inline constexpr uint8_t kIgnorableBit = 0x80;

enum RecordType : uint8_t {
  kClick = 1,
  kEvent = 2,
  // A code as a change through the admin API left it. Ignorable: a reader
  // that does not attribute conversions loses nothing by passing it over.
  kCode = 3 | kIgnorableBit,
  kCampaign = 4,  // a campaign's reward rules set or removed (changes rewards: not ignorable)
  kPayout = 5,    // the program paid a referrer (money: not ignorable)
  // A message of the cluster's stream, in a rollup node's copy of it
  // (SPEC §8, cluster/log_merger.h): another node's records inside one
  // (clicks and money: not ignorable).
  kShipped = 6,
};

// Appends one framed record to *dst.
void AppendRecord(std::string* dst, RecordType type, uint64_t seq, std::string_view payload);

// Appends a kClick record to *dst as AppendRecord would, but with seq and
// checksum left zero for SealRecord: producers frame, the writer numbers.
// Returns the record's framed size.
size_t AppendUnsealedClick(std::string* dst, const ClickRecord& rec);
// The same for any type: `payload` copied after the header.
size_t AppendUnsealedRecord(std::string* dst, RecordType type, std::string_view payload);
// Sets the seq and the checksum of a framed record whose length is set.
void SealRecord(char* record, uint64_t seq);

// Sets *payload to the kClick payload of `rec`.
void EncodeClick(const ClickRecord& rec, std::string* payload);
Status DecodeClick(std::string_view payload, ClickRecord* rec);

// Sets *payload to the kEvent payload of `e`.
void EncodeEvent(const EventRecord& e, std::string* payload);
Status DecodeEvent(std::string_view payload, EventRecord* e);
// kCode payload: version byte (1) | changed_us fixed64 | the CodeRecord as
// store/code_codec.h encodes it. So the compaction job knows every code,
// its referrer and campaign, and whether it was active at any time, from
// the log alone.
struct CodeChange {
  int64_t changed_us = 0;
  CodeRecord code;
};
void EncodeCodeChange(const CodeChange& c, std::string* payload);
Status DecodeCodeChange(std::string_view payload, CodeChange* c);

// kCampaign payload: version (1) | changed_us fixed64 | lp(campaign) |
// deleted byte | the six RewardRules fields, fixed64 each.
struct CampaignChange {
  int64_t changed_us = 0;
  std::string campaign;
  bool deleted = false;
  RewardRules rules;
};
void EncodeCampaignChange(const CampaignChange& c, std::string* payload);
Status DecodeCampaignChange(std::string_view payload, CampaignChange* c);
void EncodeRules(const RewardRules& r, std::string* out);
[[nodiscard]] bool DecodeRules(std::string_view* in, RewardRules* r);

// kPayout payload: version (1) | at_us fixed64 | lp(payout_id) |
// lp(referrer_id) | amount_minor fixed64.
struct Payout {
  int64_t at_us = 0;
  std::string payout_id, referrer_id;
  int64_t amount_minor = 0;
};
void EncodePayout(const Payout& p, std::string* payload);
Status DecodePayout(std::string_view payload, Payout* p);

// kShipped payload: version (1) | lp(node_id) | one message of the
// cluster's stream: that node's records as its log framed them (their own
// seq and checksum), one after another.
void EncodeShipped(std::string_view node_id, std::string_view records, std::string* payload);
Status DecodeShipped(std::string_view payload, std::string_view* node_id,
                     std::string_view* records);

// 16 bytes that tell whether two posts of one event_id are the same event:
// a digest of every field the caller sent, and of nothing refgate added
// (received_us; occurred_us when the caller gave no occurred_at).
std::string EventDigest(const EventRecord& e);

// "00000000000000000001.log"
std::string SegmentName(uint64_t first_seq);
// True and *first_seq for a segment file name.
[[nodiscard]] bool ParseSegmentName(std::string_view name, uint64_t* first_seq);

uint64_t Checksum(std::string_view framed_after_checksum);

}  // namespace refgate::clicklog
