#include "admin/admin_handler.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>
#include <optional>

#include "admin/json_response.h"
#include "redirect/location.h"
#include "util/time.h"

namespace refgate {
namespace json = boost::json;

namespace {

void MethodNotAllowed(HttpResponse* res, std::string_view allow) {
  res->extra_headers = "Allow: " + std::string(allow) + "\r\n";
  ErrorResponse(res, 405, "method_not_allowed", "method not allowed; use " + std::string(allow));
}

// kPublic: no token; kAdmin: the admin token; kEvents: it or the events token.
enum class Scope : uint8_t { kPublic, kAdmin, kEvents };

}  // namespace

struct AdminHandler::RouteRow {
  Method method;             // kGet rows answer HEAD too
  std::string_view pattern;  // segments; "{}" matches one non-empty segment
  refgate::Route label;
  size_t body_limit;
  Scope scope;
  void (AdminHandler::*handle)(const Call&, HttpResponse*);
};

namespace {

using H = AdminHandler;
using enum Method;
using R = refgate::Route;

// True when `path` matches `pattern` exactly, segment by segment; *arg gets
// what "{}" matched.
bool MatchPath(std::string_view pattern, std::string_view path, std::string_view* arg) {
  *arg = {};
  while (!pattern.empty() && !path.empty()) {
    if (pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::string_view want = pattern.substr(0, pattern.find('/'));
    const std::string_view got = path.substr(0, path.find('/'));
    if (want == "{}") {
      if (got.empty()) return false;
      *arg = got;
    } else if (want != got) {
      return false;
    }
    pattern.remove_prefix(want.size());
    path.remove_prefix(got.size());
  }
  return pattern.empty() && path.empty();
}

bool MethodMatches(Method row, Method req) { return row == req || (row == kGet && req == kHead); }

std::string_view MethodName(Method m) {
  switch (m) {
    case kGet:
      return "GET, HEAD";
    case kPost:
      return "POST";
    case kPut:
      return "PUT";
    case kPatch:
      return "PATCH";
    case kDelete:
      return "DELETE";
    default:
      return "";
  }
}

// The row for (method, path), or null with *allow (when given) listing the methods the
// path takes ("" when no row has the path).
const H::RouteRow* FindRoute(Method method, std::string_view path, std::string_view* arg,
                             std::string* allow) {
  if (allow) allow->clear();
  for (const H::RouteRow& row : H::Routes()) {
    if (!MatchPath(row.pattern, path, arg)) continue;
    if (MethodMatches(row.method, method)) return &row;
    if (allow == nullptr) continue;  // Classify needs only the row
    if (!allow->empty()) allow->append(", ");
    allow->append(MethodName(row.method));
  }
  return nullptr;
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// The admin API's error type for a refusal made before any handler ran.
std::string_view RefusalType(int status) {
  switch (status) {
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 431:
      return "headers_too_large";
    case 503:
      return "unavailable";
    default:
      return "bad_request";
  }
}

}  // namespace

std::span<const AdminHandler::RouteRow> AdminHandler::Routes() {
  // Every admin route. Order matters only where two patterns match one path:
  // the first row with the request's method wins.
  static constexpr RouteRow kRoutes[] = {
      {kGet, "/healthz", R::kHealthz, kMaxAdminBody, Scope::kPublic, &H::Healthz},
      {kGet, "/readyz", R::kReadyz, kMaxAdminBody, Scope::kPublic, &H::Readyz},
      {kGet, "/metrics", R::kMetrics, kMaxAdminBody, Scope::kPublic, &H::MetricsText},
      {kGet, "/dashboard", R::kDashboard, kMaxAdminBody, Scope::kPublic, &H::Dashboard},
      {kGet, "/dashboard/{}", R::kDashboard, kMaxAdminBody, Scope::kPublic, &H::Dashboard},
      {kPost, "/api/v1/codes", R::kCodesCreate, kMaxAdminBody, Scope::kAdmin, &H::Create},
      {kGet, "/api/v1/codes", R::kCodesList, kMaxAdminBody, Scope::kAdmin, &H::List},
      {kPost, "/api/v1/codes/batch", R::kCodesBatch, kMaxBatchBody, Scope::kAdmin, &H::Batch},
      {kGet, "/api/v1/codes/{}", R::kCodesGet, kMaxAdminBody, Scope::kAdmin, &H::GetCode},
      {kPatch, "/api/v1/codes/{}", R::kCodesPatch, kMaxAdminBody, Scope::kAdmin, &H::Patch},
      {kDelete, "/api/v1/codes/{}", R::kCodesDelete, kMaxAdminBody, Scope::kAdmin, &H::Delete},
      {kGet, "/api/v1/codes/{}/qr", R::kCodesQr, kMaxAdminBody, Scope::kAdmin, &H::Qr},
      {kGet, "/api/v1/referrers/{}/stats", R::kStats, kMaxAdminBody, Scope::kAdmin, &H::Stats},
      {kGet, "/api/v1/stats", R::kProgramStats, kMaxAdminBody, Scope::kAdmin, &H::ProgramStats},
      {kPost, "/api/v1/events", R::kEventsPost, kMaxAdminBody, Scope::kEvents, &H::PostEvent},
      {kGet, "/api/v1/events", R::kEventsList, kMaxAdminBody, Scope::kAdmin, &H::ListEvents},
      {kGet, "/api/v1/events/{}", R::kEventsGet, kMaxAdminBody, Scope::kEvents, &H::GetEvent},
      {kPut, "/api/v1/campaigns/{}/rewards", R::kCampaigns, kMaxAdminBody, Scope::kAdmin,
       &H::PutCampaign},
      {kGet, "/api/v1/campaigns/{}/rewards", R::kCampaigns, kMaxAdminBody, Scope::kAdmin,
       &H::GetCampaign},
      {kDelete, "/api/v1/campaigns/{}/rewards", R::kCampaigns, kMaxAdminBody, Scope::kAdmin,
       &H::DeleteCampaign},
      {kPost, "/api/v1/referrers/{}/payouts", R::kPayouts, kMaxAdminBody, Scope::kAdmin,
       &H::PostPayout},
      {kGet, "/api/v1/rewards", R::kRewards, kMaxAdminBody, Scope::kAdmin, &H::Rewards},
      {kGet, "/api/v1/rewards.csv", R::kRewards, kMaxAdminBody, Scope::kAdmin, &H::RewardsCsv},
  };
  return kRoutes;
}

RequestClass AdminHandler::Classify(Method method, std::string_view target) const {
  std::string_view arg;
  const RouteRow* row = FindRoute(method, PathOf(target), &arg, nullptr);
  if (row == nullptr) return {kMaxAdminBody, R::kAdminOther};
  return {row->body_limit, row->label};
}

void AdminHandler::RenderRefusal(HttpResponse* res) const {
  ErrorResponse(res, ApiError{res->status, std::string(RefusalType(res->status)),
                              std::string(ReasonPhrase(res->status)), ""});
}

bool AdminHandler::Handle(const HttpRequest& req, HttpResponse* res, Completion* done) {
  return Dispatch(req, res, done);
}

bool AdminHandler::Dispatch(const HttpRequest& req, HttpResponse* res, Completion* done) {
  const std::string_view path = PathOf(req.target);
  const std::string_view query =
      path.size() < req.target.size() ? req.target.substr(path.size() + 1) : "";
  res->cache_control = "no-store";
  res->route = R::kAdminOther;
  std::string_view arg;
  std::string allow;
  const RouteRow* row = FindRoute(req.method, path, &arg, &allow);
  // Under /api/ only a caller with a token learns which routes exist.
  const bool scoped = row ? row->scope != Scope::kPublic : path.starts_with("/api/");
  if (row) res->route = row->label;
  // The events token may learn which methods its paths take (405).
  const bool events_path = row ? row->scope == Scope::kEvents
                               : path == "/api/v1/events" || path.starts_with("/api/v1/events/");
  if (scoped && !Authorize(req, events_path, res)) return true;
  if (row == nullptr && !allow.empty()) return MethodNotAllowed(res, allow), true;
  if (row == nullptr) return ErrorResponse(res, 404, "not_found", "no such route"), true;
  if ((req.method == kPost || req.method == kPatch || req.method == kPut) &&
      !IsJson(req.content_type)) {
    ErrorResponse(res, 415, "unsupported_media_type", "Content-Type must be application/json");
    return true;
  }
  bool later = false;
  (this->*row->handle)(Call{req, arg, query, done, &later}, res);
  return !later;
}

bool AdminHandler::Authorize(const HttpRequest& req, bool events_too, HttpResponse* res) {
  std::string_view auth = req.authorization;
  if (auth.starts_with("Bearer ")) {
    const std::string_view given = auth.substr(7);
    // Both compared, so the time taken tells nothing of which one is right.
    const bool admin = ConstantTimeEquals(given, token_);
    const bool events = !events_.token.empty() && ConstantTimeEquals(given, events_.token);
    if (admin || (events && events_too)) return true;
    if (events) {
      ErrorResponse(res, 403, "forbidden", "the events token may only post and read events");
      return false;
    }
  }
  // Only wrong tokens are throttled: the right one passes whatever others
  // behind the same address sent.
  const std::string client = FormatIp(req.peer);
  const int64_t now_s = NowMicros() / 1000000;
  if (int64_t retry_s; LockedOut(client, now_s, &retry_s)) {
    res->extra_headers = "Retry-After: " + std::to_string(retry_s) + "\r\n";
    ErrorResponse(res, 429, "rate_limited", "too many failed authentications; try again later");
    return false;
  }
  CountFailure(client, now_s);
  res->extra_headers = "WWW-Authenticate: Bearer\r\n";
  ErrorResponse(res, 401, "unauthorized", "missing or wrong bearer token");
  return false;
}

void AdminHandler::Healthz(const Call&, HttpResponse* res) {
  JsonResponse(res, 200, R"({"status":"ok"})");
}

void AdminHandler::Readyz(const Call&, HttpResponse* res) {
  bool ready = store_->Healthy() && sink_->Healthy();
  JsonResponse(res, ready ? 200 : 503,
               ready ? R"({"status":"ready"})" : R"({"status":"unavailable"})");
}

void AdminHandler::MetricsText(const Call&, HttpResponse* res) {
  res->status = 200;
  res->content_type = "text/plain; version=0.0.4; charset=utf-8";
  res->body = GlobalMetrics().RenderPrometheus();
}

bool AdminHandler::LockedOut(const std::string& client, int64_t now_s, int64_t* retry_s) {
  if (max_auth_failures_ == 0) return false;
  auto it = failures_.find(client);
  if (it == failures_.end() || now_s - it->second.window_start_s >= 60) return false;
  *retry_s = 60 - (now_s - it->second.window_start_s);
  return it->second.count >= max_auth_failures_;
}

void AdminHandler::CountFailure(const std::string& client, int64_t now_s) {
  if (max_auth_failures_ == 0) return;
  if (failures_.size() > 100000) {  // bounded: forget windows that ended
    std::erase_if(failures_,
                  [now_s](const auto& kv) { return now_s - kv.second.window_start_s >= 60; });
  }
  Failures& f = failures_[client];
  if (now_s - f.window_start_s >= 60) f = Failures{now_s, 0};
  ++f.count;
}

}  // namespace refgate
