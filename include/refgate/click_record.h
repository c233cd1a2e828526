// ClickRecord: one visit as the click log stores it (SPEC §4).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "refgate/code_record.h"

namespace refgate {

enum class ClickType : uint8_t { kClick = 1, kOrphan = 2 };
// How the visitor came: the link itself, or its QR code (qr=1, SPEC §7).
enum class Via : uint8_t { kLink = 0, kQr = 1 };

// Stored strings are cut to these many bytes (at a UTF-8 boundary).
inline constexpr size_t kMaxUserAgentBytes = 512;
inline constexpr size_t kMaxRefererBytes = 1024;
inline constexpr size_t kMaxUtmBytes = 256;

struct ClickRecord {
  uint64_t seq = 0;   // the record's place in the click log, set by readers
  int64_t ts_us = 0;  // Unix microseconds, UTC
  ClickType type = ClickType::kClick;
  std::string code;
  std::string referrer_id;  // "" for orphans
  std::string click_id;
  std::string visitor_id;  // "" for a bot without a cookie
  bool new_visitor = false;
  bool bot = false;
  std::string method;
  std::array<std::string, kUtmFieldCount> utm;
  std::string referer;
  std::string user_agent;
  std::string ip;
  int status = 0;  // the HTTP status the visitor got
  Via via = Via::kLink;

  bool operator==(const ClickRecord&) const = default;
};

}  // namespace refgate
