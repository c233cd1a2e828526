// ASCII case folding for protocol text (hosts, header values, User-Agents),
// which must not depend on the C library's locale.
#pragma once

namespace refgate {

constexpr char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace refgate
