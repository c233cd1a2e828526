#include "admin/events_codec.h"

#include <algorithm>

#include "redirect/attribution.h"
#include "refgate/code_record.h"
#include "refgate/config.h"
#include "util/time.h"

namespace refgate {
namespace json = boost::json;

namespace {

constexpr size_t kMaxMetadata = 20;
constexpr size_t kMaxMetadataKey = 64;
constexpr size_t kMaxMetadataValue = 256;

// A string field, checked by `valid`; absent leaves *out alone.
std::optional<ApiError> TakeString(const json::value& v, std::string_view key,
                                   bool (*valid)(std::string_view), std::string_view what,
                                   std::string* out) {
  if (!v.is_string() || !valid(v.get_string())) {
    return FieldError(std::string(key), "must be " + std::string(what));
  }
  out->assign(v.get_string());
  return std::nullopt;
}

bool IsClickIdShape(std::string_view s) { return IsUrlSafeToken(s, 1, 64); }
bool IsCurrencyShape(std::string_view s) { return s.size() == 3; }

std::optional<ApiError> TakeAmount(const json::value& v, int64_t* out) {
  int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(kMaxAmountMinor)) {
    n = static_cast<int64_t>(v.get_uint64());
  } else {
    return FieldError("amount_minor", "must be an integer number of minor units");
  }
  if (n < 1 || n > kMaxAmountMinor) return FieldError("amount_minor", "must be 1 to 10^15");
  *out = n;
  return std::nullopt;
}

std::optional<ApiError> TakeMetadata(const json::value& v, EventRecord* e) {
  if (!v.is_object()) return FieldError("metadata", "must be an object of strings");
  const json::object& o = v.get_object();
  if (o.size() > kMaxMetadata) return FieldError("metadata", "at most 20 keys");
  e->metadata.clear();
  for (const auto& kv : o) {
    if (kv.key().empty() || kv.key().size() > kMaxMetadataKey) {
      return FieldError("metadata", "keys must be 1 to 64 bytes");
    }
    if (!kv.value().is_string() || kv.value().get_string().size() > kMaxMetadataValue) {
      return FieldError("metadata", "values must be strings of at most 256 bytes");
    }
    e->metadata.emplace_back(kv.key(), kv.value().get_string());
  }
  std::sort(e->metadata.begin(), e->metadata.end());
  return std::nullopt;
}

// One field of the body into *e.
std::optional<ApiError> ApplyField(std::string_view key, const json::value& v, EventRecord* e,
                                   bool* has_amount) {
  if (key == "event_id")
    return TakeString(v, key, IsValidExternalId, "1 to 128 of [A-Za-z0-9_.:@-]", &e->event_id);
  if (key == "order_id")
    return TakeString(v, key, IsValidExternalId, "1 to 128 of [A-Za-z0-9_.:@-]", &e->order_id);
  if (key == "customer_id") {
    return TakeString(v, key, IsValidReferrerId,
                      "1 to 128 of [A-Za-z0-9_.@:-], first a letter or digit", &e->customer_id);
  }
  if (key == "click_id")
    return TakeString(v, key, IsClickIdShape, "1 to 64 of [A-Za-z0-9_-]", &e->click_id);
  if (key == "visitor_id") {
    return TakeString(v, key, IsWellFormedVisitorId, "a visitor id (16 to 64 of [A-Za-z0-9_-])",
                      &e->visitor_id);
  }
  if (key == "code")
    return TakeString(v, key, IsWellFormedCode, "a code (3 to 64 of [A-Za-z0-9_-])", &e->code);
  if (key == "currency")
    return TakeString(v, key, IsCurrencyShape, "an ISO 4217 code", &e->currency);
  if (key == "type") {
    if (!v.is_string() || !ParseEventType(v.get_string(), &e->type)) {
      return FieldError("type", "must be \"lead\", \"sale\" or \"refund\"");
    }
    return std::nullopt;
  }
  if (key == "occurred_at") {
    std::optional<int64_t> t;
    if (v.is_string()) t = ParseRfc3339(v.get_string());
    if (!t) return FieldError("occurred_at", "must be an RFC 3339 time");
    e->occurred_us = *t * 1000000;  // to the second, as the rules' windows are
    e->occurred_given = true;
    return std::nullopt;
  }
  if (key == "amount_minor") {
    *has_amount = true;
    return TakeAmount(v, &e->amount_minor);
  }
  if (key == "metadata") return TakeMetadata(v, e);
  return FieldError(std::string(key), "unknown field");
}

}  // namespace

std::optional<ApiError> ParseEvent(const json::object& body, std::string_view currency,
                                   int64_t now_us, EventRecord* e) {
  *e = EventRecord();
  bool has_type = false, has_amount = false;
  for (const auto& kv : body) {
    has_type |= kv.key() == "type";
    if (auto err = ApplyField(kv.key(), kv.value(), e, &has_amount)) return err;
  }
  if (e->event_id.empty()) return FieldError("event_id", "required");
  if (!has_type) return FieldError("type", "required");
  if (e->type == EventType::kLead && has_amount) {
    return FieldError("amount_minor", "a lead has no amount");
  }
  if (e->type != EventType::kLead) {
    if (!has_amount) return FieldError("amount_minor", "required for a sale or a refund");
    if (e->order_id.empty()) return FieldError("order_id", "required for a sale or a refund");
  }
  if (e->currency.empty()) e->currency = currency;
  if (e->currency != currency) {
    return FieldError("currency", "must be " + std::string(currency) + " ([rewards] currency)");
  }
  e->received_us = now_us;
  if (!e->occurred_given) e->occurred_us = now_us;
  return std::nullopt;
}

json::object EventToJson(const EventRecord& e) {
  json::object o;
  o["event_id"] = e.event_id;
  o["type"] = EventTypeName(e.type);
  o["occurred_at"] = FormatRfc3339Micros(e.occurred_us);
  o["received_at"] = FormatRfc3339Micros(e.received_us);
  auto optional = [&o](std::string_view key, const std::string& v) {
    o[key] = v.empty() ? json::value(nullptr) : json::value(v);
  };
  optional("customer_id", e.customer_id);
  optional("click_id", e.click_id);
  optional("visitor_id", e.visitor_id);
  optional("code", e.code);
  optional("order_id", e.order_id);
  if (e.type == EventType::kLead) {
    o["amount_minor"] = nullptr;
  } else {
    o["amount_minor"] = e.amount_minor;
  }
  o["currency"] = e.currency;
  json::object meta;
  for (const auto& [k, v] : e.metadata) meta[k] = v;
  o["metadata"] = std::move(meta);
  return o;
}

void AppendRulesJson(const RewardRules& r, json::object* o) {
  (*o)["lead_minor"] = r.lead_minor;
  (*o)["sale_percent"] = static_cast<double>(r.sale_percent_ppm) / 10000;
  (*o)["sale_flat_minor"] = r.sale_flat_minor;
  (*o)["recurring_months"] = r.recurring_months;
  (*o)["hold_days"] = r.hold_days;
  (*o)["min_click_age_s"] = r.min_click_age_s;
}

}  // namespace refgate
