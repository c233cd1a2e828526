// The /api/v1/codes routes of AdminHandler (SPEC §3): create, batch, read,
// change, delete and list codes. Routing and authentication are in
// admin_handler.cc.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "admin/admin_handler.h"
#include "admin/json_response.h"
#include "redirect/location.h"
#include "util/random.h"
#include "util/time.h"

namespace refgate {
namespace json = boost::json;

namespace {
constexpr size_t kCodeLength = 7;

// GET /api/v1/codes's query: referrer_id, limit (1 to 1000) and cursor.
std::optional<ApiError> ParseListQuery(std::string_view query, std::string* referrer,
                                       std::string* cursor, size_t* limit) {
  std::vector<QueryParam> params;
  if (!ParseQuery(query, &params)) return FieldError("query", "malformed query string");
  for (const auto& [key, value, has_value] : params) {
    if (key == "referrer_id") {
      if (!IsValidReferrerId(value)) return FieldError(key, "not a valid referrer id");
      *referrer = value;
    } else if (key == "limit") {
      int64_t n = 0;
      if (auto e = IntegerParam(key, value, 1, 1000, &n)) return e;
      *limit = static_cast<size_t>(n);
    } else if (key == "cursor") {
      if (!value.empty() && !IsWellFormedCode(value)) {
        return FieldError(key, "not a cursor of this listing");
      }
      *cursor = value;
    } else {
      return FieldError(key, "unknown query parameter");
    }
  }
  return std::nullopt;
}

// The batch's items as code records, the ones that fail validation as
// their errors; recs[j] is item index[j].
void ParseBatchItems(const json::array& arr, const CodePolicy& policy,
                     std::vector<std::optional<ApiError>>* errors, std::vector<CodeRecord>* recs,
                     std::vector<size_t>* index, std::vector<bool>* generated) {
  const int64_t now = NowMicros() / 1000000;
  errors->resize(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    CodeRecord rec;
    if (!arr[i].is_object()) {
      (*errors)[i] = FieldError("codes", "each item must be an object");
    } else if (auto e = ApplyCodeFields(arr[i].get_object(), CodeFields::kCreate, policy, &rec)) {
      (*errors)[i] = std::move(e);
    } else {
      generated->push_back(rec.code.empty());
      if (rec.code.empty()) rec.code = RandomBase62(kCodeLength);
      rec.created_at = now;
      recs->push_back(std::move(rec));
      index->push_back(i);
    }
  }
}
}  // namespace

Status AdminHandler::InsertWithRetries(std::vector<CodeRecord>* recs,
                                       const std::vector<bool>& generated,
                                       std::vector<Status>* results) {
  // This thread is the store's only writer, so a code found free here is
  // still free when inserted: the journal never names a code the store
  // then refuses.
  if (shared_) return CreateShared(recs, generated, results);
  results->assign(recs->size(), Status::OK());
  std::set<std::string> claimed;
  std::vector<size_t> fresh;
  for (size_t i = 0; i < recs->size(); ++i) {
    CodeRecord& rec = (*recs)[i];
    for (int attempt = 0;; ++attempt) {
      CodeRecord existing;
      Status g = claimed.contains(rec.code) ? Status::OK() : store_->Get(rec.code, &existing);
      if (g.IsNotFound()) break;
      if (!g.ok()) return g;
      if (!generated[i] || attempt == 8) {
        (*results)[i] = Status::AlreadyExists(rec.code);
        break;
      }
      rec.code = RandomBase62(kCodeLength);
    }
    if (!(*results)[i].ok()) continue;
    claimed.insert(rec.code);
    fresh.push_back(i);
  }
  std::vector<CodeRecord> batch;
  for (size_t i : fresh) batch.push_back((*recs)[i]);
  if (batch.empty()) return Status::OK();
  if (journal_) {
    std::vector<std::string> payloads(batch.size());
    const int64_t now = NowMicros();
    for (size_t j = 0; j < batch.size(); ++j) {
      clicklog::EncodeCodeChange({now, batch[j]}, &payloads[j]);
    }
    if (Status s = journal_(clicklog::kCode, payloads); !s.ok()) return s;
  }
  std::vector<Status> inserted;
  Status s = store_->Insert(batch, &inserted);
  for (size_t j = 0; s.ok() && j < fresh.size(); ++j) (*results)[fresh[j]] = inserted[j];
  return s;
}

// Cluster mode: creates each code in the cluster (compare-and-set, one
// after another), then journals the ones made. A code this node has from
// before it joined a cluster is taken too. Once the cluster is
// unreachable, the items left are not tried (IOError).
Status AdminHandler::CreateShared(std::vector<CodeRecord>* recs, const std::vector<bool>& generated,
                                  std::vector<Status>* results) {
  results->assign(recs->size(), Status::OK());
  std::vector<std::string> payloads;
  const int64_t now = NowMicros();
  uint64_t newest = 0;
  Status down;
  for (size_t i = 0; i < recs->size(); ++i) {
    CodeRecord& rec = (*recs)[i];
    Status& r = (*results)[i];
    for (int attempt = 0; down.ok(); ++attempt) {
      CodeRecord local;
      Status g = store_->Get(rec.code, &local);
      if (!g.ok() && !g.IsNotFound()) return g;
      uint64_t revision = 0;
      r = g.ok() ? Status::AlreadyExists(rec.code) : shared_->Create(rec, &revision);
      if (r.ok()) {
        newest = std::max(newest, revision);
        clicklog::EncodeCodeChange({now, rec}, &payloads.emplace_back());
      }
      if (!r.ok() && !r.IsAlreadyExists()) down = r;
      if (!r.IsAlreadyExists() || !generated[i] || attempt == 8) break;
      rec.code = RandomBase62(kCodeLength);
    }
    if (!down.ok()) r = down;
  }
  Status s = journal_ && !payloads.empty() ? journal_(clicklog::kCode, payloads) : Status::OK();
  if (newest > 0) shared_->AwaitApplied(newest);
  return s;
}

void AdminHandler::Create(const Call& c, HttpResponse* res) {
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return ErrorResponse(res, *e);
  std::vector<CodeRecord> recs(1);
  if (auto e = ApplyCodeFields(body, CodeFields::kCreate, policy_, &recs[0]))
    return ErrorResponse(res, *e);
  std::vector<bool> generated{recs[0].code.empty()};
  if (generated[0]) recs[0].code = RandomBase62(kCodeLength);
  recs[0].created_at = NowMicros() / 1000000;
  std::vector<Status> results;
  if (Status s = InsertWithRetries(&recs, generated, &results); !s.ok()) {
    return InternalErrorResponse(res, s);
  }
  if (results[0].IsIOError()) return UnavailableResponse(res, results[0].message());
  if (!results[0].ok()) {
    return ErrorResponse(res, {409, "conflict", "code exists or existed: " + recs[0].code, "code"});
  }
  res->location = "/api/v1/codes/" + recs[0].code;
  JsonResponse(res, 201, json::serialize(CodeToJson(recs[0], policy_)));
}

void AdminHandler::Batch(const Call& c, HttpResponse* res) {
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return ErrorResponse(res, *e);
  const json::value* items = body.if_contains("codes");
  if (body.size() != 1 || !items || !items->is_array()) {
    return ErrorResponse(res, FieldError("codes", "body must be {\"codes\": [...]}"));
  }
  const json::array& arr = items->get_array();
  if (arr.size() > kMaxBatchItems)
    return ErrorResponse(res, FieldError("codes", "at most 10000 items"));
  std::vector<std::optional<ApiError>> errors;
  std::vector<CodeRecord> recs;
  std::vector<size_t> index;  // recs[j] is item index[j]
  std::vector<bool> generated;
  ParseBatchItems(arr, policy_, &errors, &recs, &index, &generated);
  std::vector<Status> results;
  if (Status s = InsertWithRetries(&recs, generated, &results); !s.ok()) {
    return InternalErrorResponse(res, s);
  }
  json::array out;
  out.reserve(arr.size());
  size_t j = 0;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (j < index.size() && index[j] == i) {
      if (results[j].ok()) {
        out.push_back(CodeToJson(recs[j], policy_));
      } else if (results[j].IsIOError()) {
        errors[i] = ApiError{503, "unavailable", results[j].message(), ""};
      } else {
        errors[i] = ApiError{409, "conflict", "code exists or existed: " + recs[j].code, "code"};
      }
      ++j;
    }
    if (errors[i]) out.push_back(json::parse(ErrorToJson(*errors[i])));
  }
  json::object o;
  o["results"] = std::move(out);
  JsonResponse(res, 200, json::serialize(o));
}

Status AdminHandler::JournalCode(const CodeRecord& rec) {
  std::string payload;
  clicklog::EncodeCodeChange({NowMicros(), rec}, &payload);
  return JournalOne(clicklog::kCode, std::move(payload));
}

Status AdminHandler::JournalOne(clicklog::RecordType type, std::string payload) {
  return journal_ ? journal_(type, {std::move(payload)}) : Status::OK();
}

bool AdminHandler::LoadLiveCode(std::string_view code, CodeRecord* rec, HttpResponse* res) {
  if (!IsWellFormedCode(code)) {
    ErrorResponse(res, 404, "not_found", "no such code");
    return false;
  }
  Status s = store_->Get(code, rec);
  if (s.IsNotFound() || (s.ok() && rec->status == CodeStatus::kDeleted)) {
    ErrorResponse(res, 404, "not_found", "no such code");
    return false;
  }
  if (!s.ok()) {
    InternalErrorResponse(res, s);
    return false;
  }
  return true;
}

void AdminHandler::GetCode(const Call& c, HttpResponse* res) {
  CodeRecord rec;
  if (!LoadLiveCode(c.arg, &rec, res)) return;
  JsonResponse(res, 200, json::serialize(CodeToJson(rec, policy_)));
}

void AdminHandler::Patch(const Call& c, HttpResponse* res) {
  json::object body;
  if (auto e = ParseObject(c.req.body, &body)) return ErrorResponse(res, *e);
  CodeRecord rec;
  uint64_t revision = 0;
  if (!LoadCodeToChange(c.arg, &rec, &revision, res)) return;
  if (auto e = ApplyCodeFields(body, CodeFields::kPatch, policy_, &rec))
    return ErrorResponse(res, *e);
  if (!WriteChange(rec, revision, res)) return;
  JsonResponse(res, 200, json::serialize(CodeToJson(rec, policy_)));
}

void AdminHandler::Delete(const Call& c, HttpResponse* res) {
  CodeRecord rec;
  uint64_t revision = 0;
  if (!LoadCodeToChange(c.arg, &rec, &revision, res)) return;
  rec.status = CodeStatus::kDeleted;
  if (!WriteChange(rec, revision, res)) return;
  res->status = 204;
}

// In cluster mode, the code as the cluster has it (this node's store may
// be a moment behind), or as this node has it where the cluster never had
// it (made before the node joined one).
bool AdminHandler::LoadCodeToChange(std::string_view code, CodeRecord* rec, uint64_t* revision,
                                    HttpResponse* res) {
  *revision = 0;
  if (!shared_ || !IsWellFormedCode(code)) return LoadLiveCode(code, rec, res);
  Status s = shared_->Read(code, rec, revision);
  if (s.IsNotFound()) return LoadLiveCode(code, rec, res);
  if (s.IsIOError()) {
    UnavailableResponse(res, s.message());
    return false;
  }
  if (s.ok() && rec->status == CodeStatus::kDeleted) {
    ErrorResponse(res, 404, "not_found", "no such code");
    return false;
  }
  if (!s.ok()) InternalErrorResponse(res, s);
  return s.ok();
}

// Journals and stores a changed code; in cluster mode writes it to the
// cluster first, where its revision is still `revision`, then journals
// it and waits until this node's store has it. False with *res filled
// when it could not.
bool AdminHandler::WriteChange(const CodeRecord& rec, uint64_t revision, HttpResponse* res) {
  uint64_t written = 0;
  Status s = shared_ ? shared_->Replace(rec, revision, &written) : Status::OK();
  if (s.IsAlreadyExists()) {
    ErrorResponse(
        res, {409, "conflict", "changed at the same time elsewhere; read it and retry", "code"});
    return false;
  }
  if (s.IsIOError()) {
    UnavailableResponse(res, s.message());
    return false;
  }
  if (s.ok()) s = JournalCode(rec);
  if (s.ok() && !shared_) s = store_->Update(rec);
  if (!s.ok()) {
    InternalErrorResponse(res, s);
    return false;
  }
  if (shared_) shared_->AwaitApplied(written);
  return true;
}

void AdminHandler::List(const Call& c, HttpResponse* res) {
  std::string referrer, cursor;
  size_t limit = 100;
  if (auto e = ParseListQuery(c.query, &referrer, &cursor, &limit)) return ErrorResponse(res, *e);
  if (!cursor.empty()) {
    // A cursor is the last code of the page before, so refgate issued it
    // only if it is a code of this listing (deleted ones stay readable).
    CodeRecord at;
    Status s = store_->Get(cursor, &at);
    if (!s.ok() && !s.IsNotFound()) return InternalErrorResponse(res, s);
    if (s.IsNotFound() || (!referrer.empty() && at.referrer_id != referrer)) {
      return ErrorResponse(res, FieldError("cursor", "not a cursor of this listing"));
    }
  }
  std::vector<CodeRecord> recs;
  bool more = false;
  if (Status s = store_->List(referrer, cursor, limit, &recs, &more); !s.ok()) {
    return InternalErrorResponse(res, s);
  }
  json::array codes;
  for (const auto& r : recs) codes.push_back(CodeToJson(r, policy_));
  json::object o;
  o["codes"] = std::move(codes);
  o["next_cursor"] = more && !recs.empty() ? json::value(recs.back().code) : nullptr;
  JsonResponse(res, 200, json::serialize(o));
}

}  // namespace refgate
