#include "admin/validate.h"

#include <array>
#include <charconv>

#include "redirect/location.h"

namespace refgate {

ApiError FieldError(std::string field, std::string message) {
  ApiError e;
  e.field = std::move(field);
  e.message = std::move(message);
  return e;
}

std::optional<ApiError> IntegerParam(std::string_view key, std::string_view value, int64_t lo,
                                     int64_t hi, int64_t* out) {
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), *out);
  if (ec != std::errc() || ptr != value.data() + value.size() || *out < lo || *out > hi) {
    return FieldError(std::string(key), "must be an integer from " + std::to_string(lo) + " to " +
                                            std::to_string(hi));
  }
  return std::nullopt;
}

bool IsReservedCode(std::string_view code) {
  static constexpr std::array<std::string_view, 6> kReserved = {
      "api", "healthz", "readyz", "metrics", "favicon.ico", "robots.txt"};
  for (std::string_view r : kReserved) {
    if (code.size() != r.size()) continue;
    bool same = true;
    for (size_t i = 0; i < r.size() && same; ++i) same = (code[i] | 0x20) == r[i];
    if (same) return true;
  }
  return false;
}

bool IsValidReferrerId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id[0])) return false;
  for (char c : id) {
    if (!alnum(c) && std::string_view("_.@:-").find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string CheckTargetUrl(std::string_view url, std::span<const std::string> allowed_hosts) {
  std::string why = CheckHttpUrl(url);
  if (!why.empty()) return why;
  if (!HostAllowed(HostOf(url), allowed_hosts)) return "host is not in redirect.allowed_hosts";
  return "";
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = a.size() > b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool IsValidExternalId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace refgate
