#include <xxhash.h>

#include <charconv>
#include <cstdio>

#include "http/message.h"
#include "util/time.h"

namespace refgate {

void HttpResponse::Reset() {
  status = 200;
  route = Route::kAdminOther;
  location.clear();
  set_cookie.clear();
  cache_control = {};
  content_type = {};
  extra_headers.clear();
  body.clear();
  close = false;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

namespace {
void AppendInt(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendHeader(std::string* out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out->append(name).append(": ").append(value).append("\r\n");
}
}  // namespace

void SerializeResponse(const HttpResponse& res, bool head, bool keep_alive, std::string* out) {
  out->append("HTTP/1.1 ");
  AppendInt(out, static_cast<uint64_t>(res.status));
  out->push_back(' ');
  out->append(ReasonPhrase(res.status)).append("\r\n");
  AppendHeader(out, "Date", HttpDate());
  AppendHeader(out, "Location", res.location);
  AppendHeader(out, "Set-Cookie", res.set_cookie);
  AppendHeader(out, "Cache-Control", res.cache_control);
  AppendHeader(out, "Content-Type", res.content_type);
  out->append(res.extra_headers);
  // Never on a 204; on a 304 it would have to be the 200's (RFC 9110 §8.6).
  if (res.status != 204 && res.status != 304) {
    out->append("Content-Length: ");
    AppendInt(out, res.body.size());
    out->append("\r\n");
  }
  if (!keep_alive || res.close) out->append("Connection: close\r\n");
  out->append("\r\n");
  if (!head) out->append(res.body);
}

std::string HashETag(std::string_view bytes) {
  char tag[21];
  std::snprintf(tag, sizeof tag, "\"%016llx\"",
                static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
  return tag;
}

bool NoneMatchHits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? "" : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace refgate
