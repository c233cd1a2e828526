// The kEvent and kCode payloads (format.h).
#include <xxhash.h>

#include "clicklog/format.h"
#include "store/code_codec.h"
#include "util/coding.h"

namespace refgate {

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kLead:
      return "lead";
    case EventType::kSale:
      return "sale";
    case EventType::kRefund:
      return "refund";
  }
  return "";
}

bool ParseEventType(std::string_view name, EventType* type) {
  for (EventType t : {EventType::kLead, EventType::kSale, EventType::kRefund}) {
    if (name == EventTypeName(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

namespace clicklog {
namespace {

constexpr uint8_t kEventVersion = 1;

// The payload; `for_digest` leaves out what refgate added itself (when it
// took the event, and occurred_at when the caller gave none).
void Encode(const EventRecord& e, bool for_digest, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(kEventVersion));
  out->push_back(static_cast<char>(e.type));
  out->push_back(static_cast<char>(e.occurred_given ? 1 : 0));
  PutFixed64(out, for_digest ? 0 : static_cast<uint64_t>(e.received_us));
  PutFixed64(out, for_digest && !e.occurred_given ? 0 : static_cast<uint64_t>(e.occurred_us));
  PutFixed64(out, static_cast<uint64_t>(e.amount_minor));
  for (const std::string* s : {&e.event_id, &e.customer_id, &e.click_id, &e.visitor_id, &e.code,
                               &e.order_id, &e.currency}) {
    PutLengthPrefixed(out, *s);
  }
  PutVarint64(out, e.metadata.size());
  for (const auto& [k, v] : e.metadata) {
    PutLengthPrefixed(out, k);
    PutLengthPrefixed(out, v);
  }
}

}  // namespace

void EncodeEvent(const EventRecord& e, std::string* payload) { Encode(e, false, payload); }

Status DecodeEvent(std::string_view in, EventRecord* e) {
  const Status truncated = Status::Corruption("truncated event");
  if (in.size() < 3) return truncated;
  if (static_cast<uint8_t>(in[0]) != kEventVersion) return Status::Corruption("event version");
  const uint8_t type = static_cast<uint8_t>(in[1]);
  if (type < 1 || type > 3) return Status::Corruption("bad event type");
  e->type = static_cast<EventType>(type);
  e->occurred_given = in[2] & 1;
  in.remove_prefix(3);
  uint64_t received, occurred, amount, n;
  if (!GetFixed64(&in, &received) || !GetFixed64(&in, &occurred) || !GetFixed64(&in, &amount)) {
    return truncated;
  }
  e->received_us = static_cast<int64_t>(received);
  e->occurred_us = static_cast<int64_t>(occurred);
  e->amount_minor = static_cast<int64_t>(amount);
  std::string_view s, v;
  for (std::string* f : {&e->event_id, &e->customer_id, &e->click_id, &e->visitor_id, &e->code,
                         &e->order_id, &e->currency}) {
    if (!GetLengthPrefixed(&in, &s)) return truncated;
    f->assign(s);
  }
  if (!GetVarint64(&in, &n) || n > in.size()) return truncated;
  e->metadata.clear();
  for (uint64_t i = 0; i < n; ++i) {
    if (!GetLengthPrefixed(&in, &s) || !GetLengthPrefixed(&in, &v)) return truncated;
    e->metadata.emplace_back(s, v);
  }
  return Status::OK();
}

void EncodeCodeChange(const CodeChange& c, std::string* payload) {
  payload->assign(1, static_cast<char>(1));
  PutFixed64(payload, static_cast<uint64_t>(c.changed_us));
  std::string rec;
  EncodeCodeRecord(c.code, &rec);
  payload->append(rec);
}

Status DecodeCodeChange(std::string_view in, CodeChange* c) {
  uint64_t changed;
  if (in.empty() || in[0] != 1) return Status::Corruption("code change version");
  in.remove_prefix(1);
  if (!GetFixed64(&in, &changed)) return Status::Corruption("truncated code change");
  c->changed_us = static_cast<int64_t>(changed);
  return DecodeCodeRecord(in, &c->code);
}

void EncodeRules(const RewardRules& r, std::string* out) {
  for (int64_t v : {r.lead_minor, r.sale_percent_ppm, r.sale_flat_minor,
                    int64_t{r.recurring_months}, int64_t{r.hold_days}, r.min_click_age_s}) {
    PutFixed64(out, static_cast<uint64_t>(v));
  }
}

bool DecodeRules(std::string_view* in, RewardRules* r) {
  uint64_t v[6];
  for (uint64_t& x : v) {
    if (!GetFixed64(in, &x)) return false;
  }
  r->lead_minor = static_cast<int64_t>(v[0]);
  r->sale_percent_ppm = static_cast<int64_t>(v[1]);
  r->sale_flat_minor = static_cast<int64_t>(v[2]);
  r->recurring_months = static_cast<int>(v[3]);
  r->hold_days = static_cast<int>(v[4]);
  r->min_click_age_s = static_cast<int64_t>(v[5]);
  return true;
}

void EncodeCampaignChange(const CampaignChange& c, std::string* payload) {
  payload->assign(1, static_cast<char>(1));
  PutFixed64(payload, static_cast<uint64_t>(c.changed_us));
  PutLengthPrefixed(payload, c.campaign);
  payload->push_back(c.deleted ? 1 : 0);
  EncodeRules(c.rules, payload);
}

Status DecodeCampaignChange(std::string_view in, CampaignChange* c) {
  const Status bad = Status::Corruption("truncated campaign change");
  uint64_t at;
  std::string_view name;
  if (in.empty() || in[0] != 1) return Status::Corruption("campaign change version");
  in.remove_prefix(1);
  if (!GetFixed64(&in, &at) || !GetLengthPrefixed(&in, &name) || in.empty()) return bad;
  c->changed_us = static_cast<int64_t>(at);
  c->campaign.assign(name);
  c->deleted = in[0] == 1;
  in.remove_prefix(1);
  return DecodeRules(&in, &c->rules) ? Status::OK() : bad;
}

void EncodePayout(const Payout& p, std::string* payload) {
  payload->assign(1, static_cast<char>(1));
  PutFixed64(payload, static_cast<uint64_t>(p.at_us));
  PutLengthPrefixed(payload, p.payout_id);
  PutLengthPrefixed(payload, p.referrer_id);
  PutFixed64(payload, static_cast<uint64_t>(p.amount_minor));
}

Status DecodePayout(std::string_view in, Payout* p) {
  uint64_t at, amount;
  std::string_view id, ref;
  if (in.empty() || in[0] != 1) return Status::Corruption("payout version");
  in.remove_prefix(1);
  if (!GetFixed64(&in, &at) || !GetLengthPrefixed(&in, &id) || !GetLengthPrefixed(&in, &ref) ||
      !GetFixed64(&in, &amount)) {
    return Status::Corruption("truncated payout");
  }
  *p = Payout{static_cast<int64_t>(at), std::string(id), std::string(ref),
              static_cast<int64_t>(amount)};
  return Status::OK();
}

void EncodeShipped(std::string_view node_id, std::string_view records, std::string* payload) {
  payload->clear();
  payload->push_back(1);
  PutLengthPrefixed(payload, node_id);
  payload->append(records);
}

Status DecodeShipped(std::string_view in, std::string_view* node_id, std::string_view* records) {
  if (in.empty() || in[0] != 1) return Status::Corruption("shipped message version");
  in.remove_prefix(1);
  if (!GetLengthPrefixed(&in, node_id) || node_id->empty()) {
    return Status::Corruption("shipped message without a node id");
  }
  *records = in;
  return Status::OK();
}

std::string EventDigest(const EventRecord& e) {
  std::string body;
  Encode(e, true, &body);
  XXH128_hash_t h = XXH3_128bits(body.data(), body.size());
  std::string out;
  PutFixed64(&out, h.low64);
  PutFixed64(&out, h.high64);
  return out;
}

}  // namespace clicklog
}  // namespace refgate
