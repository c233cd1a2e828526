#include "util/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/coding.h"

namespace refgate {
namespace {

struct Pool {
  uint8_t buf[512];
  size_t pos = sizeof buf;
};

void Fill(uint8_t* out, size_t n) {
  while (n > 0) {
    ssize_t r = getrandom(out, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      std::abort();  // no randomness means no safe identifiers: stop here.
    }
    out += r;
    n -= static_cast<size_t>(r);
  }
}

}  // namespace

void RandomBytes(uint8_t* out, size_t n) {
  thread_local Pool pool;
  if (n > sizeof pool.buf / 2) return Fill(out, n);
  if (sizeof pool.buf - pool.pos < n) {
    Fill(pool.buf, sizeof pool.buf);
    pool.pos = 0;
  }
  std::memcpy(out, pool.buf + pool.pos, n);
  // Never hand the same bytes out twice.
  std::memset(pool.buf + pool.pos, 0, n);
  pool.pos += n;
}

std::string RandomId(size_t bytes) {
  uint8_t buf[64];
  if (bytes > sizeof buf) bytes = sizeof buf;
  RandomBytes(buf, bytes);
  return Base64Url(buf, bytes);
}

std::string_view RandomIdInto(char (&out)[kRandomIdChars]) {
  uint8_t buf[16];
  static_assert(Base64UrlLength(sizeof buf) == kRandomIdChars);
  RandomBytes(buf, sizeof buf);
  Base64UrlInto(buf, sizeof buf, out);
  return {out, kRandomIdChars};
}

std::string RandomBase62(size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    uint8_t b[16];
    RandomBytes(b, sizeof b);
    for (uint8_t x : b) {
      if (x < 248 && out.size() < n) out.push_back(kAlphabet[x % 62]);  // 248 = 4 * 62
    }
  }
  return out;
}

}  // namespace refgate
