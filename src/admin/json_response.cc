#include "admin/json_response.h"

#include <boost/json/parse.hpp>
#include <cstdio>

#include "admin/codec.h"

namespace refgate {
namespace json = boost::json;

namespace {
constexpr std::string_view kJson = "application/json";
}  // namespace

void JsonResponse(HttpResponse* res, int status, std::string body) {
  res->status = status;
  res->content_type = kJson;
  res->body = std::move(body);
}

void ErrorResponse(HttpResponse* res, const ApiError& e) {
  JsonResponse(res, e.status, ErrorToJson(e));
}

void ErrorResponse(HttpResponse* res, int status, std::string type, std::string message) {
  ErrorResponse(res, ApiError{status, std::move(type), std::move(message), ""});
}

void UnavailableResponse(HttpResponse* res, std::string message) {
  res->extra_headers = "Retry-After: 1\r\n";
  ErrorResponse(res, 503, "unavailable", std::move(message));
}

void InternalErrorResponse(HttpResponse* res, const Status& s) {
  std::fprintf(stderr, "refgate: admin store error: %s\n", s.ToString().c_str());
  ErrorResponse(res, 500, "internal", "storage error");
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

}  // namespace refgate
