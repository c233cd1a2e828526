// GET /dashboard and /dashboard/{file} (SPEC §7): the marketer's page,
// served from the files embedded at build time (dashboard/assets.h). No
// token is needed to load it; everything it shows comes from the bearer
// routes, with the token the marketer typed in.
#include <string>
#include <vector>

#include "admin/admin_handler.h"
#include "admin/json_response.h"
#include "dashboard/assets.h"

namespace refgate {

namespace {

// Only what the page needs: its own script, style and API, images from the
// QR route (as blob: URLs); no inline script, no framing, no form posts;
// and no string may reach an HTML or script sink (Trusted Types, none allowed).
constexpr std::string_view kPageHeaders =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n";

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

struct Served {
  const dashboard::Asset* asset;
  std::string etag;
};

// The embedded file `name`, with its ETag (a hash of its bytes), or null.
const Served* Find(std::string_view name) {
  static const std::vector<Served> served = [] {
    std::vector<Served> v;
    for (const dashboard::Asset& a : dashboard::Assets()) v.push_back({&a, HashETag(a.body)});
    return v;
  }();
  for (const Served& s : served) {
    if (s.asset->name == name) return &s;
  }
  return nullptr;
}

}  // namespace

void AdminHandler::Dashboard(const Call& c, HttpResponse* res) {
  // "/dashboard" is the page; "/dashboard/{}" its other files (not the page again).
  const Served* file = c.arg.empty()           ? Find("index.html")
                       : c.arg == "index.html" ? nullptr
                                               : Find(c.arg);
  if (file == nullptr) return ErrorResponse(res, 404, "not_found", "no such file");
  res->extra_headers = std::string(kPageHeaders) + "ETag: " + file->etag + "\r\n";
  res->cache_control = "no-cache";  // kept, and asked again with If-None-Match
  if (NoneMatchHits(c.req.if_none_match, file->etag)) {
    res->status = 304;
    return;
  }
  res->status = 200;
  res->content_type = ContentType(file->asset->name);
  res->body = file->asset->body;
}

}  // namespace refgate
