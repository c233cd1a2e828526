// GET /api/v1/codes/{code}/qr (SPEC §7): the code's short link, with qr=1,
// as an SVG or PNG QR code, with an ETag that If-None-Match answers 304.

#include "admin/admin_handler.h"
#include "admin/json_response.h"
#include "qr/qr_code.h"
#include "redirect/location.h"

namespace refgate {
namespace {

// Bumped whenever the drawing changes, so that a client's cached image
// is not kept for a different one.
constexpr std::string_view kDrawingVersion = "1";

struct QrQuery {
  bool png = false;
  int size = 512;
  int margin = 4;
  qr::Ecc ecc = qr::Ecc::kM;
  std::string_view ecc_name = "M";
};

std::optional<ApiError> ParseInt(const QueryParam& p, int lo, int hi, int* out) {
  int64_t v = 0;
  if (auto e = IntegerParam(p.key, p.value, lo, hi, &v)) return e;
  *out = static_cast<int>(v);
  return std::nullopt;
}

std::optional<ApiError> ParseEcc(const QueryParam& p, QrQuery* q) {
  static constexpr std::pair<std::string_view, qr::Ecc> kLevels[] = {
      {"L", qr::Ecc::kL}, {"M", qr::Ecc::kM}, {"Q", qr::Ecc::kQ}, {"H", qr::Ecc::kH}};
  for (const auto& [name, level] : kLevels) {
    if (p.value == name) {
      q->ecc = level;
      q->ecc_name = name;
      return std::nullopt;
    }
  }
  return FieldError(p.key, "must be L, M, Q or H");
}

std::optional<ApiError> ParseQrQuery(std::string_view query, QrQuery* q) {
  std::vector<QueryParam> params;
  if (!ParseQuery(query, &params)) return FieldError("query", "malformed query string");
  for (const QueryParam& p : params) {
    std::optional<ApiError> e;
    if (p.key == "format") {
      if (p.value != "svg" && p.value != "png") e = FieldError(p.key, "must be svg or png");
      q->png = p.value == "png";
    } else if (p.key == "size") {
      e = ParseInt(p, qr::kMinSizePx, qr::kMaxSizePx, &q->size);
    } else if (p.key == "margin") {
      e = ParseInt(p, 0, qr::kMaxMargin, &q->margin);
    } else if (p.key == "ecc") {
      e = ParseEcc(p, q);
    } else {
      e = FieldError(p.key, "unknown query parameter");
    }
    if (e) return e;
  }
  return std::nullopt;
}

// A strong validator of everything the image depends on.
std::string ETagOf(std::string_view url, const QrQuery& q) {
  std::string key(kDrawingVersion);
  const std::string_view format = q.png ? "png" : "svg";
  for (std::string_view part : {url, format, q.ecc_name}) {
    key.append("\n").append(part);
  }
  key.append("\n" + std::to_string(q.size) + "\n" + std::to_string(q.margin));
  return HashETag(key);
}

}  // namespace

void AdminHandler::Qr(const Call& c, HttpResponse* res) {
  QrQuery q;
  if (auto e = ParseQrQuery(c.query, &q)) return ErrorResponse(res, *e);
  CodeRecord rec;
  if (!LoadLiveCode(c.arg, &rec, res)) return;
  const std::string url = ShortUrl(rec, policy_) + "?qr=1";
  const std::string etag = ETagOf(url, q);
  auto validators = [&] {
    res->extra_headers = "ETag: " + etag + "\r\n";
    res->cache_control = "private, no-cache";  // kept, and asked again with If-None-Match
  };
  if (NoneMatchHits(c.req.if_none_match, etag)) {
    validators();
    res->status = 304;
    return;
  }
  qr::Symbol symbol;
  qr::Layout layout;
  Status s = qr::Encode(url, q.ecc, &symbol);
  if (s.IsInvalidArgument()) return ErrorResponse(res, FieldError("code", s.message()));
  if (s.ok()) s = qr::Fit(symbol, q.size, q.margin, &layout);
  if (s.IsInvalidArgument()) return ErrorResponse(res, FieldError("size", s.message()));
  if (s.ok() && q.png) s = qr::Png(symbol, layout, &res->body);
  if (!s.ok()) return InternalErrorResponse(res, s);
  if (!q.png) res->body = qr::Svg(symbol, layout);
  validators();
  res->status = 200;
  res->content_type = q.png ? "image/png" : "image/svg+xml";
}

}  // namespace refgate
