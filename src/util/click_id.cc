#include "util/click_id.h"

// SHA256_Init and friends are deprecated in OpenSSL 3 in favour of EVP,
// which costs more per call than the rest of a redirect (see below).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "util/coding.h"
#include "util/file_io.h"
#include "util/random.h"

namespace refgate {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kSignedBytes = 24;  // version, time, flags, code hash, nonce
constexpr size_t kMacBytes = kClickIdBytes - kSignedBytes;

}  // namespace

// HMAC-SHA256 (RFC 2104) with the key's inner and outer SHA-256 states
// computed once: a MAC is then two compressions from copies of them. The
// EVP_MAC interface cost about 7,000 instructions per redirect more
// (bench/callgrind_server.py), nearly all of it dispatch and per-call set-up.
struct ClickIdKeyImpl {
  SHA256_CTX inner, outer;
};

namespace {

bool FromHex(std::string_view hex, std::string* out) {
  if (hex.size() != 2 * kClickKeyBytes) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char c : hex.substr(i, 2)) {
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out->push_back(static_cast<char>(v));
  }
  return true;
}

std::string ToHex(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

}  // namespace

Status ClickIdKey::Load(const std::string& dir, bool create, std::unique_ptr<ClickIdKey>* out) {
  out->reset();
  std::string hex, key;
  if (const char* env = std::getenv("REFGATE_CLICK_KEY"); env && *env) {
    if (!FromHex(env, &key)) return Status::InvalidArgument("REFGATE_CLICK_KEY: 64 hex digits");
    *out = std::make_unique<ClickIdKey>(key);
    return Status::OK();
  }
  if (Status s = ReadKeyFile(dir, create, &hex); !s.ok() || hex.empty()) return s;
  FromHex(hex, &key);  // ReadKeyFile checked it
  *out = std::make_unique<ClickIdKey>(key);
  return Status::OK();
}

Status ClickIdKey::ReadKeyFile(const std::string& dir, bool create, std::string* hex) {
  const std::string path = dir + "/click.key";
  hex->clear();
  if (std::ifstream in(path); in && std::getline(in, *hex)) {
    while (!hex->empty() && (hex->back() == '\r' || hex->back() == ' ')) hex->pop_back();
  }
  // An empty file is a first start that crashed before writing the key
  // (before writes were atomic): no id was minted with it, so a new one is made.
  if (!hex->empty()) {
    if (!IsKeyHex(*hex)) return Status::Corruption(path + ": not 64 hex digits");
    std::transform(hex->begin(), hex->end(), hex->begin(),
                   [](char c) { return c >= 'A' && c <= 'F' ? char(c - 'A' + 'a') : c; });
    return Status::OK();
  }
  if (!create) return Status::OK();
  uint8_t fresh[kClickKeyBytes];
  RandomBytes(fresh, sizeof fresh);
  if (Status s = WriteKeyFile(dir, ToHex(fresh, sizeof fresh)); !s.ok()) return s;
  *hex = ToHex(fresh, sizeof fresh);
  return Status::OK();
}

Status ClickIdKey::WriteKeyFile(const std::string& dir, std::string_view hex) {
  return WriteFileAtomic(DefaultFileIo(), dir + "/click.key", std::string(hex) + "\n", 0600);
}

bool ClickIdKey::IsKeyHex(std::string_view hex) {
  std::string bytes;
  return FromHex(hex, &bytes);
}

ClickIdKey::ClickIdKey(std::string_view key) : impl_(std::make_unique<ClickIdKeyImpl>()) {
  uint8_t ipad[64] = {}, opad[64] = {};
  std::memcpy(ipad, key.data(), std::min<size_t>(key.size(), 64));  // REQUIRES: 32 bytes
  std::memcpy(opad, ipad, 64);
  for (int i = 0; i < 64; ++i) {
    ipad[i] ^= 0x36;
    opad[i] ^= 0x5c;
  }
  SHA256_Init(&impl_->inner);
  SHA256_Update(&impl_->inner, ipad, 64);
  SHA256_Init(&impl_->outer);
  SHA256_Update(&impl_->outer, opad, 64);
}

ClickIdKey::~ClickIdKey() = default;

void ClickIdKey::Mac(const uint8_t* data, size_t n, uint8_t out[32]) const {
  SHA256_CTX c = impl_->inner;
  uint8_t inner[32];
  SHA256_Update(&c, data, n);
  SHA256_Final(inner, &c);
  c = impl_->outer;
  SHA256_Update(&c, inner, 32);
  SHA256_Final(out, &c);
}

uint64_t ClickIdKey::CodeHash(std::string_view code) {
  return XXH3_64bits(code.data(), code.size());
}

std::string_view ClickIdKey::Mint(int64_t ts_us, std::string_view code, bool bot,
                                  char (&out)[kClickIdChars]) const {
  uint8_t b[kClickIdBytes];
  b[0] = kVersion;
  EncodeFixed64(reinterpret_cast<char*>(b + 1), static_cast<uint64_t>(ts_us));
  b[9] = bot ? 1 : 0;
  EncodeFixed64(reinterpret_cast<char*>(b + 10), CodeHash(code));
  RandomBytes(b + 18, 6);
  uint8_t mac[32];
  Mac(b, kSignedBytes, mac);
  std::memcpy(b + kSignedBytes, mac, kMacBytes);
  Base64UrlInto(b, kClickIdBytes, out);
  return std::string_view(out, kClickIdChars);
}

bool ClickIdKey::Verify(std::string_view id, Claims* claims) const {
  uint8_t b[kClickIdBytes];
  if (id.size() != kClickIdChars || !DecodeBase64UrlGroups(id, b, sizeof b)) return false;
  if (b[0] != kVersion || b[9] > 1) return false;
  uint8_t mac[32];
  Mac(b, kSignedBytes, mac);
  if (CRYPTO_memcmp(mac, b + kSignedBytes, kMacBytes) != 0) return false;
  claims->ts_us = static_cast<int64_t>(DecodeFixed64(reinterpret_cast<const char*>(b + 1)));
  claims->bot = b[9] == 1;
  claims->code_hash = DecodeFixed64(reinterpret_cast<const char*>(b + 10));
  return true;
}

}  // namespace refgate
