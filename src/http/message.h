// The plain request and response that handlers see: no sockets, no Beast.
#pragma once

#include <string>
#include <string_view>

#include "util/completion.h"
#include "util/ip.h"
#include "util/metrics.h"

namespace refgate {

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOther };

// Views into the session's parser; valid until the handler returns.
struct HttpRequest {
  Method method = Method::kOther;
  std::string_view method_name;
  std::string_view target;
  std::string_view cookie;
  std::string_view user_agent;
  std::string_view referer;
  std::string_view sec_purpose;
  std::string_view purpose;
  // Every X-Forwarded-For line, as one comma-separated list (RFC 9110
  // §5.3): a view of the only line, or of joined_forwarded_for.
  std::string_view forwarded_for;
  std::string_view authorization;
  std::string_view content_type;
  std::string_view if_none_match;
  std::string_view body;
  IpAddress peer;
  std::string joined_forwarded_for;  // storage, when several lines came
};

struct HttpResponse {
  int status = 200;
  Route route = Route::kAdminOther;  // for metrics
  std::string location;
  std::string set_cookie;
  std::string_view cache_control;  // static text
  std::string_view content_type;   // static text
  std::string extra_headers;       // whole "Name: value\r\n" lines, from trusted text only
  std::string body;
  bool close = false;  // close the connection after this response

  // Empties every field, keeping the strings' capacity for the next request.
  void Reset();
};

std::string_view ReasonPhrase(int status);

// A strong ETag for `bytes`: their 64-bit XXH3 hash as 16 hex digits, quoted.
std::string HashETag(std::string_view bytes);

// Whether an If-None-Match header ("*" or a list of tags, compared weakly;
// RFC 9110 §13.1.2) names `etag`, so that the answer is 304.
bool NoneMatchHits(std::string_view header, std::string_view etag);

// Appends the wire form of `res` to *out. HEAD responses carry the headers
// (Content-Length included) and no body.
void SerializeResponse(const HttpResponse& res, bool head, bool keep_alive, std::string* out);

// What a handler says of a request from its head alone, before any body.
struct RequestClass {
  size_t body_limit =
      0;  // largest body accepted; 0 refuses any body (and Transfer-Encoding) with 400
  Route route = Route::kAdminOther;  // metrics label, refusals included
};

// Answers one request. Implementations know nothing of sockets.
class Handler {
 public:
  virtual ~Handler() = default;

  virtual RequestClass Classify(Method method, std::string_view target) const = 0;

  // Fills the body of a refusal the session makes itself (400, 413, 414,
  // 431, ...): res->status is set; the session sets the rest.
  virtual void RenderRefusal(HttpResponse* res) const = 0;

  // Fills *res. Returns true when *res is complete. Returns false when it
  // will instead call done->Complete(Outcome::kOk) once *res is complete (from any
  // thread); the caller leaves *res alone until then.
  virtual bool Handle(const HttpRequest& req, HttpResponse* res, Completion* done) = 0;
};

}  // namespace refgate
