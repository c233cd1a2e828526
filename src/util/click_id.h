// Click ids that attribute (SPEC §6): each one names its click's time, its
// code and whether it was a bot, under a keyed MAC, so that a conversion
// carrying it can be attributed without looking the click up and without
// trusting the caller. A click id refgate never issued, or one altered by a
// single character, does not verify.
//
// Layout, 36 bytes as 48 base64url characters (SPEC: at most 64):
//   version (1) | click time, Unix microseconds (8) | flags (1: bit 0 bot) |
//   code hash, XXH3-64 of the code (8) | nonce (6) | HMAC-SHA256 of the
//   24 bytes before it, cut to 12 bytes (96 bits)
// The 48-bit nonce keeps clicks of one code in one microsecond apart (a
// thousand of them collide with odds of about 2 in a billion). Every
// node of a cluster holds the same key, so each verifies the others' ids.
//
// Thread-safety: a ClickIdKey is immutable; Mint and Verify from any thread.
// Costs two SHA-256 compressions per id (the key's states are precomputed).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "refgate/status.h"

namespace refgate {

inline constexpr size_t kClickIdBytes = 36;
inline constexpr size_t kClickIdChars = 48;
inline constexpr size_t kClickKeyBytes = 32;
static_assert(kClickIdBytes % 3 == 0 && kClickIdBytes / 3 * 4 == kClickIdChars);

struct ClickIdKeyImpl;

class ClickIdKey {
 public:
  // REFGATE_CLICK_KEY (64 hex digits), else <dir>/click.key, which is
  // made (32 random bytes as hex, mode 0600) when `create`. Without either,
  // *out is null: no id verifies. A cluster's nodes share the key
  // (cluster/click_key.h keeps it in <data-dir>/cluster).
  static Status Load(const std::string& dir, bool create, std::unique_ptr<ClickIdKey>* out);
  // The 64 hex digits (lower case) of <dir>/click.key, made as Load makes
  // it when `create`; "" when there is none and not `create`.
  static Status ReadKeyFile(const std::string& dir, bool create, std::string* hex);
  // Writes `hex` (64 hex digits) as <dir>/click.key, replacing any, synced.
  static Status WriteKeyFile(const std::string& dir, std::string_view hex);
  static bool IsKeyHex(std::string_view hex);

  // REQUIRES: key.size() == kClickKeyBytes.
  explicit ClickIdKey(std::string_view key);
  ~ClickIdKey();

  // The id of a click at ts_us on `code`, written into out.
  std::string_view Mint(int64_t ts_us, std::string_view code, bool bot,
                        char (&out)[kClickIdChars]) const;

  struct Claims {
    int64_t ts_us = 0;
    uint64_t code_hash = 0;
    bool bot = false;
  };
  // True, with *claims, when `id` is one this key minted.
  [[nodiscard]] bool Verify(std::string_view id, Claims* claims) const;

  static uint64_t CodeHash(std::string_view code);

 private:
  void Mac(const uint8_t* data, size_t n, uint8_t out[32]) const;
  std::unique_ptr<ClickIdKeyImpl> impl_;
};

}  // namespace refgate
