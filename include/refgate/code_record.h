// CodeRecord: one referral code as the store keeps it and the admin API
// shows it (SPEC §3).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace refgate {

enum class CodeStatus : uint8_t { kActive = 0, kDisabled = 1, kDeleted = 2 };

// The five UTM fields, in the order SPEC lists them.
inline constexpr int kUtmFieldCount = 5;
inline constexpr std::array<std::string_view, kUtmFieldCount> kUtmShortNames = {
    "source", "medium", "campaign", "term", "content"};
inline constexpr std::array<std::string_view, kUtmFieldCount> kUtmParams = {
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"};

struct CodeRecord {
  std::string code;
  std::string referrer_id;
  std::string target_url;
  std::string campaign;
  std::array<std::string, kUtmFieldCount> utm;  // "" where unset
  int redirect_status = 0;                      // 0: the listener's default
  CodeStatus status = CodeStatus::kActive;
  int64_t created_at = 0;             // Unix seconds, UTC
  std::optional<int64_t> expires_at;  // Unix seconds, UTC

  bool operator==(const CodeRecord&) const = default;
};

// True for min to max characters of [A-Za-z0-9_-] (URL-safe, no escaping).
inline bool IsUrlSafeToken(std::string_view s, size_t min, size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// True for 3 to 64 characters of [A-Za-z0-9_-]: the syntax of a code in a
// short link. Says nothing about whether the code exists or is reserved.
inline bool IsWellFormedCode(std::string_view s) { return IsUrlSafeToken(s, 3, 64); }

std::string_view CodeStatusName(CodeStatus s);

}  // namespace refgate
