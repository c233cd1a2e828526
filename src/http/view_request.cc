// The fields of a parsed request that handlers read, viewed in place.
#include <boost/beast/core/string.hpp>

#include "http/session.h"

namespace refgate {
namespace beast = boost::beast;
namespace http = beast::http;

Method ToMethod(http::verb v) {
  switch (v) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::head:
      return Method::kHead;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::patch:
      return Method::kPatch;
    case http::verb::delete_:
      return Method::kDelete;
    default:
      return Method::kOther;
  }
}

namespace {

// The fields handlers read; the first of each is kept, as msg[f] would.
enum Slot {
  kCookie,
  kUserAgent,
  kReferer,
  kSecPurpose,
  kPurpose,
  kForwardedFor,
  kAuthorization,
  kContentType,
  kIfNoneMatch,
  kSlots  // a field no handler reads
};

Slot SlotOf(const http::fields::value_type& f) {
  switch (f.name()) {
    case http::field::cookie:
      return kCookie;
    case http::field::user_agent:
      return kUserAgent;
    case http::field::referer:
      return kReferer;
    case http::field::authorization:
      return kAuthorization;
    case http::field::content_type:
      return kContentType;
    case http::field::if_none_match:
      return kIfNoneMatch;
    default:
      break;
  }
  std::string_view name = f.name_string();
  if (beast::iequals(name, "Sec-Purpose")) return kSecPurpose;
  if (beast::iequals(name, "Purpose")) return kPurpose;
  if (beast::iequals(name, "X-Forwarded-For")) return kForwardedFor;
  return kSlots;
}

// Fills the request's field views, cleared first (the request is reused).
class FieldViews {
 public:
  explicit FieldViews(HttpRequest* req)
      : req_(req), slots_{&req->cookie,        &req->user_agent,   &req->referer,
                          &req->sec_purpose,   &req->purpose,      &req->forwarded_for,
                          &req->authorization, &req->content_type, &req->if_none_match} {
    for (std::string_view* v : slots_) *v = {};
  }

  void Take(Slot slot, std::string_view value) {
    if (!seen_[slot]) {
      seen_[slot] = true;
      *slots_[slot] = value;
    } else if (slot == kForwardedFor) {
      AppendForwardedFor(value);
    }
  }

 private:
  // X-Forwarded-For lines are one list (RFC 9110 §5.3): a proxy may append
  // a line of its own after the client's, and the rightmost entries are the
  // ones to believe. Joined only when there are several.
  void AppendForwardedFor(std::string_view value) {
    if (req_->forwarded_for.data() != req_->joined_forwarded_for.data()) {
      req_->joined_forwarded_for.assign(req_->forwarded_for);
    }
    req_->joined_forwarded_for.append(", ").append(value);
    req_->forwarded_for = req_->joined_forwarded_for;
  }

  HttpRequest* req_;
  std::string_view* slots_[kSlots];
  bool seen_[kSlots] = {};
};

}  // namespace

void ViewRequest(const http::request<http::string_body>& msg, HttpRequest* req) {
  req->method = ToMethod(msg.method());
  req->method_name = msg.method_string();
  req->target = msg.target();
  req->body = msg.body();
  // One pass over the fields: each msg[f] is a scan of its own.
  FieldViews views(req);
  for (const auto& f : msg) {
    if (Slot slot = SlotOf(f); slot != kSlots) views.Take(slot, f.value());
  }
}

}  // namespace refgate
