// Campaign reward rules and payouts (SPEC §6): PUT/GET/DELETE
// /api/v1/campaigns/{campaign}/rewards and POST
// /api/v1/referrers/{referrer_id}/payouts. Each change is a record in the
// click log, durable before it is answered, then indexed (EventIndex).
#include <boost/json/serialize.hpp>
#include <cmath>
#include <functional>

#include "admin/admin_handler.h"
#include "admin/events_codec.h"
#include "admin/json_response.h"
#include "events/event_index.h"
#include "refgate/config.h"
#include "rollup/conversion_csv.h"
#include "util/time.h"

namespace refgate {
namespace json = boost::json;

namespace {

std::optional<ApiError> TakeInt(const json::value& v, std::string_view key, int64_t max,
                                int64_t* out) {
  if (!v.is_int64() || v.get_int64() < 0 || v.get_int64() > max) {
    return FieldError(std::string(key), "must be an integer from 0 to " + std::to_string(max));
  }
  *out = v.get_int64();
  return std::nullopt;
}

// A PUT body over the defaults: the keys of [rewards] from lead_minor down.
std::optional<ApiError> ParseRules(const json::object& body, RewardRules* r) {
  for (const auto& kv : body) {
    const std::string_view key = kv.key();
    int64_t n = 0;
    std::optional<ApiError> e;
    if (key == "lead_minor") {
      e = TakeInt(kv.value(), key, kMaxAmountMinor, &r->lead_minor);
    } else if (key == "sale_flat_minor") {
      e = TakeInt(kv.value(), key, kMaxAmountMinor, &r->sale_flat_minor);
    } else if (key == "recurring_months") {
      if (!(e = TakeInt(kv.value(), key, 1200, &n))) r->recurring_months = static_cast<int>(n);
    } else if (key == "hold_days") {
      if (!(e = TakeInt(kv.value(), key, 3650, &n))) r->hold_days = static_cast<int>(n);
    } else if (key == "min_click_age_s") {
      e = TakeInt(kv.value(), key, 3650 * 86400, &r->min_click_age_s);
    } else if (key == "sale_percent") {
      const json::value& v = kv.value();
      const double p = v.is_double() ? v.get_double() : v.is_int64() ? v.get_int64() : -1;
      if (!(p >= 0 && p <= 100))
        return FieldError("sale_percent", "must be a number from 0 to 100");
      r->sale_percent_ppm = std::llround(p * 10000);
    } else {
      return FieldError(std::string(key), "unknown field");
    }
    if (e) return e;
  }
  return std::nullopt;
}

json::object RulesToJson(std::string_view campaign, const RewardRules& r, bool own,
                         int64_t updated_us) {
  json::object o;
  o["campaign"] = campaign;
  AppendRulesJson(r, &o);
  o["source"] = own ? "campaign" : "default";
  o["updated_at"] = own ? json::value(FormatRfc3339Micros(updated_us)) : nullptr;
  return o;
}

// Journals `payload`, then indexes it with `commit`. A record in the log
// but not in the index keeps its write open: the watermark stays below it
// and the next start indexes it from the log.
template <typename Commit>
Status JournalAndIndex(events::EventIndex* index, const std::function<Status()>& journal,
                       Commit&& commit) {
  const int epoch = index->BeginWrite();
  Status s = journal();
  if (!s.ok()) {
    index->EndWrite(epoch);
    return s;
  }
  s = commit();
  if (s.ok()) index->EndWrite(epoch);
  return s;
}

}  // namespace

void AdminHandler::PutCampaign(const Call& c, HttpResponse* res) {
  if (events_.index == nullptr) return UnavailableResponse(res, "rewards are not enabled");
  if (!IsValidExternalId(c.arg)) {
    return ErrorResponse(res, FieldError("campaign", "1 to 128 of [A-Za-z0-9_.:@-]"));
  }
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return ErrorResponse(res, *e);
  clicklog::CampaignChange change{NowMicros(), std::string(c.arg), false, events_.defaults};
  if (auto e = ParseRules(body, &change.rules)) return ErrorResponse(res, *e);
  std::string payload;
  clicklog::EncodeCampaignChange(change, &payload);
  Status s = JournalAndIndex(
      events_.index, [&] { return JournalOne(clicklog::kCampaign, payload); },
      [&] { return events_.index->CommitCampaign(change); });
  if (!s.ok()) return UnavailableResponse(res, "the rules could not be written to disk; retry");
  JsonResponse(
      res, 200,
      json::serialize(RulesToJson(change.campaign, change.rules, true, change.changed_us)));
}

void AdminHandler::GetCampaign(const Call& c, HttpResponse* res) {
  if (events_.index == nullptr) return UnavailableResponse(res, "rewards are not enabled");
  clicklog::CampaignChange own;
  Status s = events_.index->GetCampaign(c.arg, &own);
  if (!s.ok() && !s.IsNotFound()) return InternalErrorResponse(res, s);
  const bool found = s.ok();
  JsonResponse(res, 200,
               json::serialize(RulesToJson(c.arg, found ? own.rules : events_.defaults, found,
                                           own.changed_us)));
}

void AdminHandler::DeleteCampaign(const Call& c, HttpResponse* res) {
  if (events_.index == nullptr) return UnavailableResponse(res, "rewards are not enabled");
  clicklog::CampaignChange own;
  Status s = events_.index->GetCampaign(c.arg, &own);
  if (s.IsNotFound())
    return ErrorResponse(res, 404, "not_found", "the campaign has no rules of its own");
  if (!s.ok()) return InternalErrorResponse(res, s);
  clicklog::CampaignChange change{NowMicros(), std::string(c.arg), true, events_.defaults};
  std::string payload;
  clicklog::EncodeCampaignChange(change, &payload);
  s = JournalAndIndex(
      events_.index, [&] { return JournalOne(clicklog::kCampaign, payload); },
      [&] { return events_.index->CommitCampaign(change); });
  if (!s.ok()) return UnavailableResponse(res, "the change could not be written to disk; retry");
  res->status = 204;
}

void AdminHandler::PostPayout(const Call& c, HttpResponse* res) {
  if (events_.index == nullptr || !events_.rollups) {
    return UnavailableResponse(res, "payouts are not enabled");
  }
  if (!IsValidReferrerId(c.arg)) return ErrorResponse(res, 404, "not_found", "no such referrer");
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return ErrorResponse(res, *e);
  clicklog::Payout p{NowMicros(), "", std::string(c.arg), 0};
  for (const auto& kv : body) {
    if (kv.key() == "payout_id") {
      if (!kv.value().is_string() || !IsValidExternalId(kv.value().get_string())) {
        return ErrorResponse(res, FieldError("payout_id", "must be 1 to 128 of [A-Za-z0-9_.:@-]"));
      }
      p.payout_id = kv.value().get_string();
    } else if (kv.key() == "amount_minor") {
      const json::value& v = kv.value();
      if (!v.is_int64() || v.get_int64() < 1 || v.get_int64() > kMaxAmountMinor) {
        return ErrorResponse(res, FieldError("amount_minor", "must be an integer from 1 to 10^15"));
      }
      p.amount_minor = v.get_int64();
    } else {
      return ErrorResponse(res, FieldError(std::string(kv.key()), "unknown field"));
    }
  }
  if (p.payout_id.empty()) return ErrorResponse(res, FieldError("payout_id", "required"));
  if (p.amount_minor == 0) return ErrorResponse(res, FieldError("amount_minor", "required"));
  PayoutAnswer(p, res);
}

void AdminHandler::PayoutAnswer(const clicklog::Payout& p, HttpResponse* res) {
  auto answer = [&](bool replayed) {
    json::object o;
    o["payout_id"] = p.payout_id;
    o["referrer_id"] = p.referrer_id;
    o["amount_minor"] = p.amount_minor;
    o["replayed"] = replayed;
    JsonResponse(res, 201, json::serialize(o));
  };
  const std::string digest = events::EventIndex::PayoutDigestOf(p);
  std::string seen_digest;
  clicklog::Payout seen;
  Status s = events_.index->GetPayout(p.payout_id, &seen_digest, &seen);
  if (s.ok() && seen_digest == digest) return answer(true);
  if (s.ok()) {
    return ErrorResponse(
        res, ApiError{409, "conflict", "payout_id was recorded with another body: " + p.payout_id,
                      "payout_id"});
  }
  if (!s.IsNotFound()) return InternalErrorResponse(res, s);
  // This thread records every payout, so the balance cannot change between
  // this check and the record.
  int64_t payable = 0, paid = 0;
  s = events_.rollups(
      [&](const StateDb* db) { return rollup::PayableTo(db, p.referrer_id, &payable); });
  if (s.ok()) {
    s = events_.index->PaidTo(p.referrer_id, &paid);
  }
  if (!s.ok()) return InternalErrorResponse(res, s);
  if (p.amount_minor > payable - paid) {
    return ErrorResponse(
        res, ApiError{409, "conflict",
                      "more than the payable balance of " + std::to_string(payable - paid),
                      "amount_minor"});
  }
  std::string payload;
  clicklog::EncodePayout(p, &payload);
  s = JournalAndIndex(
      events_.index, [&] { return JournalOne(clicklog::kPayout, payload); },
      [&] { return events_.index->CommitPayout(p, digest); });
  if (!s.ok()) return UnavailableResponse(res, "the payout could not be written to disk; retry");
  answer(false);
}

}  // namespace refgate
