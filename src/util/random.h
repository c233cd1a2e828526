// Unpredictable identifiers from the kernel's CSPRNG (getrandom(2)).
// Thread-safe: each thread draws from its own buffer of CSPRNG output, so a
// visitor id costs a syscall only once every few hundred calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace refgate {

void RandomBytes(uint8_t* out, size_t n);

// `bytes` random bytes as base64url: 16 bytes give 22 characters (128 bits).
std::string RandomId(size_t bytes = 16);

// The same 128-bit id, written in place: no allocation.
inline constexpr size_t kRandomIdChars = 22;
std::string_view RandomIdInto(char (&out)[kRandomIdChars]);

// n characters of [A-Za-z0-9], uniformly (rejection sampling).
std::string RandomBase62(size_t n);

}  // namespace refgate
