// CSV as SPEC §5 wants it: RFC 4180, header first, one row per line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace refgate {

// Appends `field` to *line (after a comma unless it is the first): quoted
// when it holds a comma, quote, CR or LF (quotes doubled); text that begins
// with '=', '+', '-' or '@' gets a leading ' so spreadsheets never run it.
void AppendCsvText(std::string* line, std::string_view field, bool first = false);
void AppendCsvNumber(std::string* line, uint64_t v, bool first = false);
// A signed amount (a refund's reward is negative): a number, never defused.
void AppendCsvSigned(std::string* line, int64_t v);

// Ends a row as RFC 4180 does: CRLF (headers end the same way).
inline void EndCsvRow(std::string* out) { out->append("\r\n"); }

}  // namespace refgate
