// Read-only reports from the rollups, for the dashboard and analytics
// (SPEC §3, §6, §7): a referrer's and the program's stats, the decided
// events, and the referrers' balances as JSON and as rewards.csv.
#include <boost/json/serialize.hpp>

#include "admin/admin_handler.h"
#include "admin/json_response.h"
#include "redirect/location.h"
#include "rollup/conversion_csv.h"
#include "rollup/listing.h"
#include "util/time.h"

namespace refgate {
namespace json = boost::json;

namespace {

// A query parameter other than from and to: its error, if any.
using OtherParam = std::function<std::optional<ApiError>(const QueryParam&)>;

// ?from=YYYY-MM-DD&to=YYYY-MM-DD (Unix seconds at 00:00 UTC); default: the
// 30 days ending today. Other keys go to `other`, or are refused when it is null.
std::optional<ApiError> ParseDayRange(std::string_view query, int64_t* from, int64_t* to,
                                      const OtherParam& other = nullptr) {
  std::vector<QueryParam> params;
  if (!ParseQuery(query, &params)) return FieldError("query", "malformed query string");
  *to = NowMicros() / kMicrosPerDay * kSecondsPerDay;
  bool from_given = false;
  for (const auto& p : params) {
    if (p.key != "from" && p.key != "to") {
      if (!other) return FieldError(p.key, "unknown query parameter");
      if (auto e = other(p)) return e;
      continue;
    }
    auto day = ParseDate(p.value);
    if (!day) return FieldError(p.key, "must be a date, YYYY-MM-DD");
    (p.key == "from" ? *from : *to) = *day;
    from_given |= p.key == "from";
  }
  if (!from_given) *from = *to - 29 * kSecondsPerDay;  // the last 30 days, `to` included
  if (*from > *to) return FieldError("from", "must not be after to");
  if ((*to - *from) / kSecondsPerDay + 1 > kMaxStatsDays) {
    return FieldError("from", "at most 366 days at once");
  }
  return std::nullopt;
}

// GET /api/v1/events's keys besides from and to.
std::optional<ApiError> EventListParam(const QueryParam& p, std::string* referrer,
                                       std::string* cursor, size_t* limit) {
  if (p.key == "referrer_id") {
    if (!IsValidReferrerId(p.value)) return FieldError(p.key, "not a valid referrer id");
    *referrer = p.value;
  } else if (p.key == "limit") {
    int64_t n = 0;
    if (auto e = IntegerParam(p.key, p.value, 1, 1000, &n)) return e;
    *limit = static_cast<size_t>(n);
  } else if (p.key == "cursor") {
    *cursor = p.value;
  } else {
    return FieldError(p.key, "unknown query parameter");
  }
  return std::nullopt;
}

}  // namespace

void AdminHandler::Stats(const Call& c, HttpResponse* res) {
  const std::string_view referrer = c.arg;
  if (!IsValidReferrerId(referrer)) return ErrorResponse(res, 404, "not_found", "no such referrer");
  StatsAnswer(referrer, c.query, res);
}

void AdminHandler::ProgramStats(const Call& c, HttpResponse* res) { StatsAnswer("", c.query, res); }

void AdminHandler::StatsAnswer(std::string_view referrer, std::string_view query,
                               HttpResponse* res) {
  int64_t from = 0, to = 0;
  if (auto e = ParseDayRange(query, &from, &to)) return ErrorResponse(res, *e);
  json::object out;
  if (Status s = stats_(referrer, from, to, &out); !s.ok()) return InternalErrorResponse(res, s);
  out["currency"] = events_.currency;  // what revenue_minor and reward_minor count
  JsonResponse(res, 200, json::serialize(out));
}

void AdminHandler::ListEvents(const Call& c, HttpResponse* res) {
  if (!events_.rollups) return UnavailableResponse(res, "events are not enabled");
  std::string referrer, cursor;
  rollup::EventPage page;
  auto other = [&](const QueryParam& p) {
    return EventListParam(p, &referrer, &cursor, &page.limit);
  };
  if (auto e = ParseDayRange(c.query, &page.from, &page.to, other)) return ErrorResponse(res, *e);
  page.referrer = referrer;
  page.cursor = cursor;
  json::array events;
  std::string next;
  Status s = events_.rollups(
      [&](const StateDb* db) { return rollup::ListEvents(db, page, &events, &next); });
  if (s.IsInvalidArgument()) return ErrorResponse(res, FieldError("cursor", s.message()));
  if (!s.ok()) return InternalErrorResponse(res, s);
  json::object o;
  o["currency"] = events_.currency;
  o["events"] = std::move(events);
  o["next_cursor"] = next.empty() ? json::value(nullptr) : json::value(next);
  JsonResponse(res, 200, json::serialize(o));
}

void AdminHandler::Rewards(const Call& c, HttpResponse* res) {
  if (!events_.rollups) return UnavailableResponse(res, "events are not enabled");
  if (!c.query.empty()) return ErrorResponse(res, FieldError("query", "takes no parameters"));
  json::array rows;
  Status s = events_.rollups([&](const StateDb* db) { return rollup::Balances(db, &rows); });
  if (!s.ok()) return InternalErrorResponse(res, s);
  json::object o;
  o["currency"] = events_.currency;
  o["referrers"] = std::move(rows);
  JsonResponse(res, 200, json::serialize(o));
}

void AdminHandler::RewardsCsv(const Call& c, HttpResponse* res) {
  if (!events_.rollups) return UnavailableResponse(res, "events are not enabled");
  if (!c.query.empty()) return ErrorResponse(res, FieldError("query", "takes no parameters"));
  std::string csv;
  Status s = events_.rollups(
      [&](const StateDb* db) { return rollup::RewardsCsv(db, events_.currency, &csv); });
  if (!s.ok()) return InternalErrorResponse(res, s);
  res->status = 200;
  res->content_type = "text/csv; charset=utf-8";
  res->extra_headers = "Content-Disposition: attachment; filename=\"rewards.csv\"\r\n";
  res->body = std::move(csv);
}

}  // namespace refgate
