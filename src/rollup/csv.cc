#include "rollup/csv.h"

namespace refgate {

void AppendCsvText(std::string* line, std::string_view field, bool first) {
  if (!first) line->push_back(',');
  bool formula =
      !field.empty() && (field[0] == '=' || field[0] == '+' || field[0] == '-' || field[0] == '@');
  bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos;
  if (quote) line->push_back('"');
  if (formula) line->push_back('\'');
  for (char c : field) {
    if (c == '"') line->push_back('"');
    line->push_back(c);
  }
  if (quote) line->push_back('"');
}

void AppendCsvNumber(std::string* line, uint64_t v, bool first) {
  if (!first) line->push_back(',');
  line->append(std::to_string(v));
}

void AppendCsvSigned(std::string* line, int64_t v) {
  line->push_back(',');
  line->append(std::to_string(v));
}

}  // namespace refgate
