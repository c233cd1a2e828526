#include "util/click_id.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
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

// One keyed HMAC context; each thread uses a copy of it (EVP_MAC_CTX is
// not shareable), made once, re-initialised per id without the key.
struct ClickIdKeyImpl {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* keyed = nullptr;
  uint64_t id = 0;
};

namespace {

EVP_MAC_CTX* ThreadContext(const ClickIdKeyImpl& impl) {
  struct Cache {
    uint64_t owner = 0;
    EVP_MAC_CTX* ctx = nullptr;
    ~Cache() { EVP_MAC_CTX_free(ctx); }
  };
  thread_local Cache cache;
  if (cache.owner != impl.id) {
    EVP_MAC_CTX_free(cache.ctx);
    cache.ctx = EVP_MAC_CTX_dup(impl.keyed);
    cache.owner = impl.id;
  }
  return cache.ctx;
}

std::atomic<uint64_t> next_key_id{1};

bool FromHex(std::string_view hex, std::string* out) {
  if (hex.size() != 2 * kClickKeyBytes) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char c : hex.substr(i, 2)) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
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

Status ClickIdKey::Load(const std::string& data_dir, bool create,
                        std::unique_ptr<ClickIdKey>* out) {
  out->reset();
  std::string key;
  if (const char* env = std::getenv("REFGATE_CLICK_KEY"); env && *env) {
    if (!FromHex(env, &key)) return Status::InvalidArgument("REFGATE_CLICK_KEY: 64 hex digits");
    *out = std::make_unique<ClickIdKey>(key);
    return Status::OK();
  }
  const std::string path = data_dir + "/click.key";
  std::string text;
  if (std::ifstream in(path); in && std::getline(in, text)) {
    if (!FromHex(text, &key)) return Status::Corruption(path + ": not 64 hex digits");
    *out = std::make_unique<ClickIdKey>(key);
    return Status::OK();
  }
  if (!create) return Status::OK();
  uint8_t fresh[kClickKeyBytes];
  RandomBytes(fresh, sizeof fresh);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
  const std::string line = ToHex(fresh, sizeof fresh) + "\n";
  const bool ok =
      write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok || DefaultFileIo()->SyncDir(data_dir) != 0)
    return Status::IOError(path + ": write failed");
  *out = std::make_unique<ClickIdKey>(
      std::string_view(reinterpret_cast<const char*>(fresh), sizeof fresh));
  return Status::OK();
}

ClickIdKey::ClickIdKey(std::string_view key) : impl_(std::make_unique<ClickIdKeyImpl>()) {
  impl_->id = next_key_id.fetch_add(1);
  impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  impl_->keyed = impl_->mac ? EVP_MAC_CTX_new(impl_->mac) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!impl_->keyed ||
      !EVP_MAC_init(impl_->keyed, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                    params)) {
    std::abort();  // OpenSSL without HMAC-SHA256: nothing can be signed
  }
}

ClickIdKey::~ClickIdKey() {
  EVP_MAC_CTX_free(impl_->keyed);
  EVP_MAC_free(impl_->mac);
}

void ClickIdKey::Mac(const uint8_t* data, size_t n, uint8_t out[32]) const {
  EVP_MAC_CTX* ctx = ThreadContext(*impl_);
  size_t len = 0;
  if (!ctx || !EVP_MAC_init(ctx, nullptr, 0, nullptr) || !EVP_MAC_update(ctx, data, n) ||
      !EVP_MAC_final(ctx, out, &len, 32)) {
    std::abort();
  }
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
