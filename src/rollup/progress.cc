#include "rollup/progress.h"

#include <cstdlib>

namespace refgate::rollup {

size_t StatusMiB(std::string_view field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  size_t kib = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::string_view(line).starts_with(field))
      kib = std::strtoull(line + field.size(), nullptr, 10);
  }
  std::fclose(f);
  return kib >> 10;
}

}  // namespace refgate::rollup
