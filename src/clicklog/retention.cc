#include "clicklog/retention.h"

#include <chrono>
#include <filesystem>

namespace refgate::clicklog {

size_t DeleteRolledUpSegments(const std::string& dir,
                              const std::vector<std::pair<uint64_t, std::string>>& segments,
                              uint64_t through_seq, int retention_days) {
  const auto cutoff =
      std::filesystem::file_time_type::clock::now() - std::chrono::hours(24) * retention_days;
  size_t deleted = 0;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i + 1].first - 1 > through_seq) break;  // not all rolled up
    const std::string path = dir + "/" + segments[i].second;
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(path, ec);
    if (!ec && mtime < cutoff && std::filesystem::remove(path, ec)) ++deleted;
  }
  return deleted;
}

}  // namespace refgate::clicklog
