// UTF-8 validation for text that came from visitors.
#pragma once

#include <string>
#include <string_view>

namespace refgate {

// `s` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string ValidUtf8(std::string_view s);

}  // namespace refgate
