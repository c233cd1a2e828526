// Little-endian fixed-width and varint encodings, in the manner of
// leveldb/util/coding.h. Decoders advance a string_view and return false on
// truncated or overlong input; they never read past its end.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace refgate {

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint64(std::string* dst, uint64_t v);
// Varint length, then the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view s);
// Big-endian, for keys that must sort in numeric order.
void PutBigEndian64(std::string* dst, uint64_t v);
inline uint64_t DecodeBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Inline: the click log encodes a record with a dozen of these per redirect.
// memcpy is the byte order of the machine, little-endian on every target.
static_assert(std::endian::native == std::endian::little, "the encodings are little-endian");
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void EncodeFixed32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }
inline void EncodeFixed64(char* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }

// Writes v as a varint at p (room for kMaxVarint64Bytes); returns the end.
inline char* EncodeVarint64(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline constexpr size_t kMaxVarint64Bytes = 10;
inline size_t VarintLength(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

[[nodiscard]] bool GetFixed64(std::string_view* in, uint64_t* v);
[[nodiscard]] bool GetVarint64(std::string_view* in, uint64_t* v);
[[nodiscard]] bool GetLengthPrefixed(std::string_view* in, std::string_view* s);

// Base64url without padding (RFC 4648 §5).
std::string Base64Url(const uint8_t* data, size_t n);
constexpr size_t Base64UrlLength(size_t n) { return (n * 4 + 2) / 3; }
// Writes Base64UrlLength(n) characters at `out`; returns the end.
char* Base64UrlInto(const uint8_t* data, size_t n, char* out);
// The bytes of unpadded base64url text whose length is a multiple of 4
// (whole groups only); false on any other character or length.
[[nodiscard]] bool DecodeBase64UrlGroups(std::string_view in, uint8_t* out, size_t out_size);

}  // namespace refgate
