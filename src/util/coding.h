// Little-endian fixed-width and varint encodings, in the manner of
// leveldb/util/coding.h. Decoders advance a string_view and return false on
// truncated or overlong input; they never read past its end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace refgate {

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint64(std::string* dst, uint64_t v);
// Varint length, then the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view s);

uint32_t DecodeFixed32(const char* p);
uint64_t DecodeFixed64(const char* p);
void EncodeFixed32(char* p, uint32_t v);
void EncodeFixed64(char* p, uint64_t v);
// Writes v as a varint at p (room for kMaxVarint64Bytes); returns the end.
char* EncodeVarint64(char* p, uint64_t v);
inline constexpr size_t kMaxVarint64Bytes = 10;
size_t VarintLength(uint64_t v);

[[nodiscard]] bool GetFixed64(std::string_view* in, uint64_t* v);
[[nodiscard]] bool GetVarint64(std::string_view* in, uint64_t* v);
[[nodiscard]] bool GetLengthPrefixed(std::string_view* in, std::string_view* s);

// Base64url without padding (RFC 4648 §5).
std::string Base64Url(const uint8_t* data, size_t n);
constexpr size_t Base64UrlLength(size_t n) { return (n * 4 + 2) / 3; }
// Writes Base64UrlLength(n) characters at `out`; returns the end.
char* Base64UrlInto(const uint8_t* data, size_t n, char* out);

}  // namespace refgate
