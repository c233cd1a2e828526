#include "admin/admin_handler.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>

#include "redirect/location.h"
#include "util/random.h"
#include "util/time.h"

namespace refgate {
namespace json = boost::json;

namespace {

constexpr std::string_view kJson = "application/json";
constexpr size_t kCodeLength = 7;

void Json(HttpResponse* res, int status, std::string body) {
  res->status = status;
  res->content_type = kJson;
  res->body = std::move(body);
}

void Error(HttpResponse* res, const ApiError& e) { Json(res, e.status, ErrorToJson(e)); }

void Error(HttpResponse* res, int status, std::string type, std::string message) {
  Error(res, ApiError{status, std::move(type), std::move(message), ""});
}

void InternalError(HttpResponse* res, const Status& s) {
  std::fprintf(stderr, "refgate: admin store error: %s\n", s.ToString().c_str());
  Error(res, 500, "internal", "storage error");
}

bool IsJson(std::string_view content_type) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  if (base.size() != kJson.size()) return false;
  for (size_t i = 0; i < base.size(); ++i) {
    if ((base[i] | 0x20) != kJson[i]) return false;
  }
  return true;
}

// Parses a JSON object body, or says why not.
std::optional<ApiError> ParseObject(std::string_view body, json::object* out) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec)
    return ApiError{400, "invalid_json", "request body is not valid JSON: " + ec.message(), ""};
  if (!v.is_object())
    return ApiError{400, "invalid_json", "request body must be a JSON object", ""};
  *out = std::move(v.get_object());
  return std::nullopt;
}

void MethodNotAllowed(HttpResponse* res, std::string_view allow) {
  res->extra_headers = "Allow: " + std::string(allow) + "\r\n";
  Error(res, 405, "method_not_allowed", "method not allowed; use " + std::string(allow));
}

enum class Scope : uint8_t { kPublic, kAdmin };

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

// The row for (method, path), or null with *allow listing the methods the
// path takes ("" when no row has the path).
const H::RouteRow* FindRoute(Method method, std::string_view path, std::string_view* arg,
                             std::string* allow) {
  allow->clear();
  for (const H::RouteRow& row : H::Routes()) {
    if (!MatchPath(row.pattern, path, arg)) continue;
    if (MethodMatches(row.method, method)) return &row;
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
      {kPost, "/api/v1/codes", R::kCodesCreate, kMaxAdminBody, Scope::kAdmin, &H::Create},
      {kGet, "/api/v1/codes", R::kCodesList, kMaxAdminBody, Scope::kAdmin, &H::List},
      {kPost, "/api/v1/codes/batch", R::kCodesBatch, kMaxBatchBody, Scope::kAdmin, &H::Batch},
      {kGet, "/api/v1/codes/{}", R::kCodesGet, kMaxAdminBody, Scope::kAdmin, &H::GetCode},
      {kPatch, "/api/v1/codes/{}", R::kCodesPatch, kMaxAdminBody, Scope::kAdmin, &H::Patch},
      {kDelete, "/api/v1/codes/{}", R::kCodesDelete, kMaxAdminBody, Scope::kAdmin, &H::Delete},
      {kGet, "/api/v1/referrers/{}/stats", R::kStats, kMaxAdminBody, Scope::kAdmin, &H::Stats},
  };
  return kRoutes;
}

RequestClass AdminHandler::Classify(Method method, std::string_view target) const {
  std::string_view arg;
  std::string allow;
  const RouteRow* row = FindRoute(method, PathOf(target), &arg, &allow);
  if (row == nullptr) return {kMaxAdminBody, R::kAdminOther};
  return {row->body_limit, row->label};
}

void AdminHandler::RenderRefusal(HttpResponse* res) const {
  Error(res, ApiError{res->status, std::string(RefusalType(res->status)),
                      std::string(ReasonPhrase(res->status)), ""});
}

bool AdminHandler::Handle(const HttpRequest& req, HttpResponse* res, Completion*) {
  Dispatch(req, res);
  return true;
}

void AdminHandler::Dispatch(const HttpRequest& req, HttpResponse* res) {
  const std::string_view path = PathOf(req.target);
  const std::string_view query =
      path.size() < req.target.size() ? req.target.substr(path.size() + 1) : "";
  res->cache_control = "no-store";
  res->route = R::kAdminOther;
  std::string_view arg;
  std::string allow;
  const RouteRow* row = FindRoute(req.method, path, &arg, &allow);
  // Under /api/ only a caller with a token learns which routes exist.
  const bool scoped = row ? row->scope == Scope::kAdmin : path.starts_with("/api/");
  if (row) res->route = row->label;
  if (scoped && !Authorize(req, res)) return;
  if (row == nullptr && !allow.empty()) return MethodNotAllowed(res, allow);
  if (row == nullptr) return Error(res, 404, "not_found", "no such route");
  if ((req.method == kPost || req.method == kPatch || req.method == kPut) &&
      !IsJson(req.content_type)) {
    return Error(res, 415, "unsupported_media_type", "Content-Type must be application/json");
  }
  (this->*row->handle)(Call{req, arg, query}, res);
}

bool AdminHandler::Authorize(const HttpRequest& req, HttpResponse* res) {
  std::string_view auth = req.authorization;
  if (auth.starts_with("Bearer ") && ConstantTimeEquals(auth.substr(7), token_)) return true;
  // Only wrong tokens are throttled: the right one passes whatever others
  // behind the same address sent.
  const std::string client = FormatIp(req.peer);
  const int64_t now_s = NowMicros() / 1000000;
  if (int64_t retry_s; LockedOut(client, now_s, &retry_s)) {
    res->extra_headers = "Retry-After: " + std::to_string(retry_s) + "\r\n";
    Error(res, 429, "rate_limited", "too many failed authentications; try again later");
    return false;
  }
  CountFailure(client, now_s);
  res->extra_headers = "WWW-Authenticate: Bearer\r\n";
  Error(res, 401, "unauthorized", "missing or wrong bearer token");
  return false;
}

void AdminHandler::Healthz(const Call&, HttpResponse* res) { Json(res, 200, R"({"status":"ok"})"); }

void AdminHandler::Readyz(const Call&, HttpResponse* res) {
  bool ready = store_->Healthy() && sink_->Healthy();
  Json(res, ready ? 200 : 503, ready ? R"({"status":"ready"})" : R"({"status":"unavailable"})");
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

Status AdminHandler::InsertWithRetries(std::vector<CodeRecord>* recs,
                                       const std::vector<bool>& generated,
                                       std::vector<Status>* results) {
  Status s = store_->Insert(*recs, results);
  for (int attempt = 0; s.ok() && attempt < 8; ++attempt) {
    std::vector<CodeRecord> retry;
    std::vector<size_t> where;
    for (size_t i = 0; i < recs->size(); ++i) {
      if (generated[i] && (*results)[i].IsAlreadyExists()) {
        (*recs)[i].code = RandomBase62(kCodeLength);
        retry.push_back((*recs)[i]);
        where.push_back(i);
      }
    }
    if (retry.empty()) break;
    std::vector<Status> again;
    s = store_->Insert(retry, &again);
    for (size_t j = 0; s.ok() && j < where.size(); ++j) (*results)[where[j]] = again[j];
  }
  return s;
}

void AdminHandler::Create(const Call& c, HttpResponse* res) {
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return Error(res, *e);
  std::vector<CodeRecord> recs(1);
  if (auto e = ApplyCodeFields(body, CodeFields::kCreate, policy_, &recs[0])) return Error(res, *e);
  std::vector<bool> generated{recs[0].code.empty()};
  if (generated[0]) recs[0].code = RandomBase62(kCodeLength);
  recs[0].created_at = NowMicros() / 1000000;
  std::vector<Status> results;
  if (Status s = InsertWithRetries(&recs, generated, &results); !s.ok()) {
    return InternalError(res, s);
  }
  if (!results[0].ok()) {
    return Error(res, {409, "conflict", "code exists or existed: " + recs[0].code, "code"});
  }
  res->location = "/api/v1/codes/" + recs[0].code;
  Json(res, 201, json::serialize(CodeToJson(recs[0], policy_)));
}

void AdminHandler::Batch(const Call& c, HttpResponse* res) {
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return Error(res, *e);
  const json::value* items = body.if_contains("codes");
  if (body.size() != 1 || !items || !items->is_array()) {
    return Error(res, FieldError("codes", "body must be {\"codes\": [...]}"));
  }
  const json::array& arr = items->get_array();
  if (arr.size() > kMaxBatchItems) return Error(res, FieldError("codes", "at most 10000 items"));
  std::vector<std::optional<ApiError>> errors(arr.size());
  std::vector<CodeRecord> recs;
  std::vector<size_t> index;  // recs[j] is item index[j]
  std::vector<bool> generated;
  const int64_t now = NowMicros() / 1000000;
  for (size_t i = 0; i < arr.size(); ++i) {
    CodeRecord rec;
    if (!arr[i].is_object()) {
      errors[i] = FieldError("codes", "each item must be an object");
    } else if (auto e = ApplyCodeFields(arr[i].get_object(), CodeFields::kCreate, policy_, &rec)) {
      errors[i] = std::move(e);
    } else {
      generated.push_back(rec.code.empty());
      if (rec.code.empty()) rec.code = RandomBase62(kCodeLength);
      rec.created_at = now;
      recs.push_back(std::move(rec));
      index.push_back(i);
    }
  }
  std::vector<Status> results;
  if (Status s = InsertWithRetries(&recs, generated, &results); !s.ok()) {
    return InternalError(res, s);
  }
  json::array out;
  out.reserve(arr.size());
  size_t j = 0;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (j < index.size() && index[j] == i) {
      if (results[j].ok()) {
        out.push_back(CodeToJson(recs[j], policy_));
      } else {
        errors[i] = ApiError{409, "conflict", "code exists or existed: " + recs[j].code, "code"};
      }
      ++j;
    }
    if (errors[i]) out.push_back(json::parse(ErrorToJson(*errors[i])));
  }
  json::object o;
  o["results"] = std::move(out);
  Json(res, 200, json::serialize(o));
}

bool AdminHandler::LoadLiveCode(std::string_view code, CodeRecord* rec, HttpResponse* res) {
  if (!IsWellFormedCode(code)) {
    Error(res, 404, "not_found", "no such code");
    return false;
  }
  Status s = store_->Get(code, rec);
  if (s.IsNotFound() || (s.ok() && rec->status == CodeStatus::kDeleted)) {
    Error(res, 404, "not_found", "no such code");
    return false;
  }
  if (!s.ok()) {
    InternalError(res, s);
    return false;
  }
  return true;
}

void AdminHandler::GetCode(const Call& c, HttpResponse* res) {
  CodeRecord rec;
  if (!LoadLiveCode(c.arg, &rec, res)) return;
  Json(res, 200, json::serialize(CodeToJson(rec, policy_)));
}

void AdminHandler::Patch(const Call& c, HttpResponse* res) {
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return Error(res, *e);
  CodeRecord rec;
  if (!LoadLiveCode(c.arg, &rec, res)) return;
  if (auto e = ApplyCodeFields(body, CodeFields::kPatch, policy_, &rec)) return Error(res, *e);
  if (Status s = store_->Update(rec); !s.ok()) return InternalError(res, s);
  Json(res, 200, json::serialize(CodeToJson(rec, policy_)));
}

void AdminHandler::Delete(const Call& c, HttpResponse* res) {
  CodeRecord rec;
  if (!LoadLiveCode(c.arg, &rec, res)) return;
  rec.status = CodeStatus::kDeleted;
  if (Status s = store_->Update(rec); !s.ok()) return InternalError(res, s);
  res->status = 204;
}

void AdminHandler::List(const Call& c, HttpResponse* res) {
  std::string referrer, cursor;
  size_t limit = 100;
  std::vector<QueryParam> params;
  if (!ParseQuery(c.query, &params))
    return Error(res, FieldError("query", "malformed query string"));
  for (const auto& [key, value, has_value] : params) {
    if (key == "referrer_id") {
      if (!IsValidReferrerId(value)) return Error(res, FieldError(key, "not a valid referrer id"));
      referrer = value;
    } else if (key == "limit") {
      size_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 1000) {
        return Error(res, FieldError(key, "must be an integer from 1 to 1000"));
      }
      limit = n;
    } else if (key == "cursor") {
      if (!value.empty() && !IsWellFormedCode(value))
        return Error(res, FieldError(key, "not a cursor of this listing"));
      cursor = value;
    } else {
      return Error(res, FieldError(key, "unknown query parameter"));
    }
  }
  if (!cursor.empty()) {
    // A cursor is the last code of the page before, so refgate issued it
    // only if it is a code of this listing (deleted ones stay readable).
    CodeRecord at;
    Status s = store_->Get(cursor, &at);
    if (!s.ok() && !s.IsNotFound()) return InternalError(res, s);
    if (s.IsNotFound() || (!referrer.empty() && at.referrer_id != referrer)) {
      return Error(res, FieldError("cursor", "not a cursor of this listing"));
    }
  }
  std::vector<CodeRecord> recs;
  bool more = false;
  if (Status s = store_->List(referrer, cursor, limit, &recs, &more); !s.ok()) {
    return InternalError(res, s);
  }
  json::array codes;
  for (const auto& r : recs) codes.push_back(CodeToJson(r, policy_));
  json::object o;
  o["codes"] = std::move(codes);
  o["next_cursor"] = more && !recs.empty() ? json::value(recs.back().code) : nullptr;
  Json(res, 200, json::serialize(o));
}

void AdminHandler::Stats(const Call& c, HttpResponse* res) {
  const std::string_view referrer = c.arg;
  if (!IsValidReferrerId(referrer)) return Error(res, 404, "not_found", "no such referrer");
  std::vector<QueryParam> params;
  if (!ParseQuery(c.query, &params))
    return Error(res, FieldError("query", "malformed query string"));
  int64_t to = NowMicros() / 1000000 / 86400 * 86400;
  int64_t from = to - 29 * 86400;  // default: the last 30 days, today included
  bool from_given = false;
  for (const auto& p : params) {
    if (p.key != "from" && p.key != "to")
      return Error(res, FieldError(p.key, "unknown query parameter"));
    auto day = ParseDate(p.value);
    if (!day) return Error(res, FieldError(p.key, "must be a date, YYYY-MM-DD"));
    (p.key == "from" ? from : to) = *day;
    from_given |= p.key == "from";
  }
  if (!from_given) from = to - 29 * 86400;
  if (from > to) return Error(res, FieldError("from", "must not be after to"));
  if ((to - from) / 86400 + 1 > kMaxStatsDays) {
    return Error(res, FieldError("from", "at most 366 days at once"));
  }
  json::object out;
  if (Status s = stats_(referrer, from, to, &out); !s.ok()) return InternalError(res, s);
  Json(res, 200, json::serialize(out));
}

}  // namespace refgate
