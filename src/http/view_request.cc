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

void ViewRequest(const http::request<http::string_body>& msg, HttpRequest* req) {
  req->method = ToMethod(msg.method());
  req->method_name = msg.method_string();
  req->target = msg.target();
  req->body = msg.body();
  // One pass over the fields (each msg[f] is a scan of its own), keeping the
  // first of each as msg[f] would.
  enum Slot {
    kCookie,
    kUserAgent,
    kReferer,
    kSecPurpose,
    kPurpose,
    kForwardedFor,
    kAuthorization,
    kContentType,
    kSlots
  };
  std::string_view* slots[kSlots] = {&req->cookie,        &req->user_agent,  &req->referer,
                                     &req->sec_purpose,   &req->purpose,     &req->forwarded_for,
                                     &req->authorization, &req->content_type};
  for (std::string_view* v : slots) *v = {};
  bool seen[kSlots] = {};
  auto take = [&](Slot slot, std::string_view value) {
    if (seen[slot]) return;
    seen[slot] = true;
    *slots[slot] = value;
  };
  // X-Forwarded-For lines are one list (RFC 9110 §5.3): a proxy may append
  // a line of its own after the client's, and the rightmost entries are the
  // ones to believe. Joined only when there are several.
  auto forwarded = [&](std::string_view value) {
    if (!seen[kForwardedFor]) return take(kForwardedFor, value);
    if (req->forwarded_for.data() != req->joined_forwarded_for.data()) {
      req->joined_forwarded_for.assign(req->forwarded_for);
    }
    req->joined_forwarded_for.append(", ").append(value);
    req->forwarded_for = req->joined_forwarded_for;
  };
  for (const auto& f : msg) {
    switch (f.name()) {
      case http::field::cookie:
        take(kCookie, f.value());
        break;
      case http::field::user_agent:
        take(kUserAgent, f.value());
        break;
      case http::field::referer:
        take(kReferer, f.value());
        break;
      case http::field::authorization:
        take(kAuthorization, f.value());
        break;
      case http::field::content_type:
        take(kContentType, f.value());
        break;
      default: {
        std::string_view name = f.name_string();
        if (beast::iequals(name, "Sec-Purpose"))
          take(kSecPurpose, f.value());
        else if (beast::iequals(name, "Purpose"))
          take(kPurpose, f.value());
        else if (beast::iequals(name, "X-Forwarded-For"))
          forwarded(f.value());
      }
    }
  }
}

}  // namespace refgate
