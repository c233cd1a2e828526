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

namespace {

// The first number in <data_dir>/<file> (see ShippedThrough).
uint64_t FirstNumber(const std::string& data_dir, const char* file) {
  const std::string path = data_dir + "/" + file;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::numeric_limits<uint64_t>::max();
  std::ifstream in(path);
  uint64_t seq = 0;
  return in >> seq ? seq : 0;
}

}  // namespace

uint64_t ShippedThrough(const std::string& data_dir) { return FirstNumber(data_dir, kShippedFile); }

uint64_t MergedThrough(const std::string& data_dir) { return FirstNumber(data_dir, kMergedFile); }

int RetentionDays(const std::string& data_dir, int retention_days) {
  const bool ships = ShippedThrough(data_dir) != std::numeric_limits<uint64_t>::max();
  return ships ? std::max(retention_days, 1) : retention_days;
}

}  // namespace refgate::clicklog
