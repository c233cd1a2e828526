// The admin API's JSON responses and request bodies (SPEC §3): one home
// for the handlers of every route.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "admin/validate.h"
#include "http/message.h"
#include "refgate/status.h"

namespace refgate {

// A JSON body with `status`.
void JsonResponse(HttpResponse* res, int status, std::string body);
// {"error": {...}} with e's status.
void ErrorResponse(HttpResponse* res, const ApiError& e);
void ErrorResponse(HttpResponse* res, int status, std::string type, std::string message);
// 500 for a store failure, logged with its Status.
// 503 "unavailable" with Retry-After: 1: nothing was done, try again.
void UnavailableResponse(HttpResponse* res, std::string message);

void InternalErrorResponse(HttpResponse* res, const Status& s);
// Content-Type application/json, parameters and case aside.
[[nodiscard]] bool IsJson(std::string_view content_type);
// Parses a JSON object body, or says why not.
[[nodiscard]] std::optional<ApiError> ParseObject(std::string_view body, boost::json::object* out);

}  // namespace refgate
