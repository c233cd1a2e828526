#include "admin/codec.h"

#include <boost/json/serialize.hpp>

#include "util/time.h"

namespace refgate {
namespace json = boost::json;

namespace {

constexpr size_t kMaxCampaignBytes = 256;
constexpr size_t kMaxUtmValueBytes = 256;

// A string field, or null where `nullable` (then *out is "").
std::optional<ApiError> GetString(const json::value& v, const std::string& field, bool nullable,
                                  std::string* out) {
  if (nullable && v.is_null()) {
    out->clear();
    return std::nullopt;
  }
  if (!v.is_string()) return FieldError(field, "must be a string");
  *out = std::string(v.get_string());
  return std::nullopt;
}

std::optional<ApiError> ApplyUtm(const json::value& v, CodeFields kind, CodeRecord* rec) {
  if (v.is_null()) {
    rec->utm = {};
    return std::nullopt;
  }
  if (!v.is_object()) return FieldError("utm", "must be an object");
  // Create sets the whole object; patch merges (RFC 7396: null removes a key).
  if (kind == CodeFields::kCreate) rec->utm = {};
  for (const auto& kv : v.get_object()) {
    std::string field = "utm." + std::string(kv.key());
    int i = 0;
    while (i < kUtmFieldCount && kUtmShortNames[i] != kv.key()) ++i;
    if (i == kUtmFieldCount) {
      return FieldError(field, "unknown UTM field; use source, medium, campaign, term, content");
    }
    if (auto e = GetString(kv.value(), field, true, &rec->utm[i])) return e;
    if (rec->utm[i].size() > kMaxUtmValueBytes) return FieldError(field, "at most 256 bytes");
  }
  return std::nullopt;
}

std::optional<ApiError> ApplyField(std::string_view key, const json::value& v, CodeFields kind,
                                   const CodePolicy& policy, CodeRecord* rec) {
  const std::string field(key);
  const bool create = kind == CodeFields::kCreate;
  if (key == "code" && create) {
    if (auto e = GetString(v, field, false, &rec->code)) return e;
    if (!IsWellFormedCode(rec->code)) {
      return FieldError(field, "3 to 64 characters of A-Z, a-z, 0-9, _ and -");
    }
    if (IsReservedCode(rec->code)) return FieldError(field, "reserved: it would shadow a route");
  } else if (key == "referrer_id" && create) {
    if (auto e = GetString(v, field, false, &rec->referrer_id)) return e;
    if (!IsValidReferrerId(rec->referrer_id)) {
      return FieldError(field,
                        "1 to 128 of A-Z a-z 0-9 _ . @ : -, starting with a letter or digit");
    }
  } else if (key == "target_url") {
    if (auto e = GetString(v, field, false, &rec->target_url)) return e;
    if (auto why = CheckTargetUrl(rec->target_url, policy.allowed_hosts); !why.empty()) {
      return FieldError(field, why);
    }
  } else if (key == "campaign") {
    if (auto e = GetString(v, field, true, &rec->campaign)) return e;
    if (rec->campaign.size() > kMaxCampaignBytes) return FieldError(field, "at most 256 bytes");
  } else if (key == "utm") {
    return ApplyUtm(v, kind, rec);
  } else if (key == "redirect_status") {
    if (v.is_null()) {
      rec->redirect_status = 0;
      return std::nullopt;
    }
    int64_t s = v.is_int64() ? v.get_int64() : 0;
    if (s != 301 && s != 302 && s != 307 && s != 308) {
      return FieldError(field, "must be 301, 302, 307 or 308");
    }
    rec->redirect_status = static_cast<int>(s);
  } else if (key == "expires_at") {
    if (v.is_null()) {
      rec->expires_at.reset();
      return std::nullopt;
    }
    auto t = v.is_string() ? ParseRfc3339(v.get_string()) : std::nullopt;
    if (!t) return FieldError(field, "must be an RFC 3339 date-time or null");
    rec->expires_at = *t;
  } else if (key == "status" && !create) {
    std::string s;
    if (auto e = GetString(v, field, false, &s)) return e;
    if (s == "active") {
      rec->status = CodeStatus::kActive;
    } else if (s == "disabled") {
      rec->status = CodeStatus::kDisabled;
    } else {
      return FieldError(field, "must be \"active\" or \"disabled\"");
    }
  } else {
    return FieldError(field, create ? "unknown field" : "unknown field, or one that cannot change");
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ApplyCodeFields(const json::object& body, CodeFields kind,
                                        const CodePolicy& policy, CodeRecord* rec) {
  if (kind == CodeFields::kCreate) rec->target_url = policy.default_target;
  for (const auto& kv : body) {
    if (auto e = ApplyField(kv.key(), kv.value(), kind, policy, rec)) return e;
  }
  if (kind == CodeFields::kCreate && rec->referrer_id.empty()) {
    return FieldError("referrer_id", "required");
  }
  return std::nullopt;
}

std::string ShortUrl(const CodeRecord& rec, const CodePolicy& policy) {
  return policy.short_base + "/" + rec.code;
}

json::object CodeToJson(const CodeRecord& rec, const CodePolicy& policy) {
  json::object o;
  o["code"] = rec.code;
  o["short_url"] = ShortUrl(rec, policy);
  o["referrer_id"] = rec.referrer_id;
  o["target_url"] = rec.target_url;
  o["campaign"] = rec.campaign.empty() ? json::value(nullptr) : json::value(rec.campaign);
  json::object utm;
  for (int i = 0; i < kUtmFieldCount; ++i) {
    if (!rec.utm[i].empty()) utm[kUtmShortNames[i]] = rec.utm[i];
  }
  o["utm"] = std::move(utm);
  o["redirect_status"] = rec.redirect_status ? rec.redirect_status : policy.default_status;
  o["status"] = CodeStatusName(rec.status);
  o["created_at"] = FormatRfc3339(rec.created_at);
  o["expires_at"] = rec.expires_at ? json::value(FormatRfc3339(*rec.expires_at)) : nullptr;
  return o;
}

std::string ErrorToJson(const ApiError& e) {
  json::object inner;
  inner["type"] = e.type;
  inner["message"] = e.message;
  inner["field"] = e.field.empty() ? json::value(nullptr) : json::value(e.field);
  json::object o;
  o["error"] = std::move(inner);
  return json::serialize(o);
}

}  // namespace refgate
