// Admin API validation (SPEC §3) and its error shape.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace refgate {

// {"error": {"type": ..., "message": ..., "field": ...}} with an HTTP status.
struct ApiError {
  int status = 400;
  std::string type = "validation_error";
  std::string message;
  std::string field;  // "" when no single field is at fault
};

ApiError FieldError(std::string field, std::string message);

// *out from a query parameter's decimal value in [lo, hi]; else the
// error naming `key` ("must be an integer from lo to hi").
std::optional<ApiError> IntegerParam(std::string_view key, std::string_view value, int64_t lo,
                                     int64_t hi, int64_t* out);

// Codes that would shadow a route: api, healthz, readyz, metrics, ...
bool IsReservedCode(std::string_view code);

// 1 to 128 of [A-Za-z0-9_.@:-], first a letter or digit.
bool IsValidReferrerId(std::string_view id);

// 1 to 128 of [A-Za-z0-9_.:@-]: the merchant's event, order and payout
// ids, and campaign names in a path.
bool IsValidExternalId(std::string_view id);

// "" when `url` may be a target: CheckHttpUrl passes and its host matches
// `allowed_hosts`; else the reason.
std::string CheckTargetUrl(std::string_view url, std::span<const std::string> allowed_hosts);

// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace refgate
