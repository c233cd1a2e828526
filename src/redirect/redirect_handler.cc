#include "redirect/redirect_handler.h"

#include <cstdio>

#include "util/random.h"
#include "util/time.h"

namespace refgate {

void RedirectHandler::RenderRefusal(HttpResponse* res) const {
  res->content_type = "text/plain; charset=utf-8";
  res->body = std::string(ReasonPhrase(res->status)) + "\n";
}

namespace {

// Answers what is not a well-formed code's GET or HEAD (405, the health
// check, 404) and returns true; else sets *code and returns false.
bool AnswerWithoutCode(Method method, std::string_view path, std::string_view* code,
                       HttpResponse* res) {
  if (method != Method::kGet && method != Method::kHead) {
    res->route = Route::kPublicOther;
    res->status = 405;
    res->extra_headers = "Allow: GET, HEAD\r\n";
    return true;
  }
  if (path == "/healthz") {
    res->route = Route::kPublicHealth;
    res->content_type = "text/plain; charset=utf-8";
    res->body = "ok\n";
    return true;
  }
  *code = path.empty() ? path : path.substr(1);
  if (path.empty() || path[0] != '/' || !IsWellFormedCode(*code)) {
    res->route = Route::kPublicOther;
    res->status = 404;
    res->content_type = "text/plain; charset=utf-8";
    res->body = "Not Found\n";
    return true;
  }
  return false;
}

}  // namespace

bool RedirectHandler::Handle(const HttpRequest& req, HttpResponse* res, Completion* done) {
  std::string_view target = req.target;
  size_t qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  std::string_view query = qmark == std::string_view::npos ? "" : target.substr(qmark + 1);
  res->cache_control = "private, no-store";
  std::string_view code;
  if (AnswerWithoutCode(req.method, path, &code, res)) return true;
  CodeCache::Entry rec;
  if (Status s = store_->Lookup(code, &rec); !s.ok()) {
    std::fprintf(stderr, "refgate: code lookup failed: %s\n", s.ToString().c_str());
    res->route = Route::kRedirect;
    res->status = 503;
    res->extra_headers = "Retry-After: 1\r\n";
    return true;
  }
  char visitor_id[kRandomIdChars], click_id[kRandomIdChars];
  Visit visit{req.method == Method::kHead, code, query, &req, NowMicros(), RandomIdInto(visitor_id),
              RandomIdInto(click_id)};
  // Reused by this thread's requests, so its strings keep their capacity;
  // the sink copies the record before Append returns.
  thread_local Decision d;
  DecideRedirect(opt_, visit, rec.get(), res, &d);
  if (!d.record) return true;
  GlobalMetrics().clicks_recorded.Add();
  return !sink_->Append(d.click, done);
}

}  // namespace refgate
