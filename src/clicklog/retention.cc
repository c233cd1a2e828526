#include "clicklog/retention.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

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

uint64_t ShippedThrough(const std::string& data_dir) {
  const std::string path = data_dir + "/" + kShippedFile;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::numeric_limits<uint64_t>::max();
  std::ifstream in(path);
  uint64_t seq = 0;
  return in >> seq ? seq : 0;
}

int RetentionDays(const std::string& data_dir, int retention_days) {
  const bool ships = ShippedThrough(data_dir) != std::numeric_limits<uint64_t>::max();
  return ships ? std::max(retention_days, 1) : retention_days;
}

}  // namespace refgate::clicklog
