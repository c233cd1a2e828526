// Which segments retention may delete: only sealed, rolled-up, old ones.
#include "clicklog/retention.h"

#include <filesystem>

#include "tests/clicklog/log_test_util.h"

namespace refgate::clicklog {
namespace {

TEST(Retention, DeletesOnlyOldSegmentsWhoseRecordsAreAllRolledUpAndNeverTheNewest) {
  ScratchDir dir;
  // Segments holding 1-10, 11-20, 21-30 and the newest from 31, all old.
  std::vector<std::pair<uint64_t, std::string>> segs;
  for (uint64_t first : {1, 11, 21, 31}) {
    segs.push_back({first, SegmentName(first)});
    const std::string path = dir.path() + "/" + SegmentName(first);
    WriteFile(path, SegmentBytes(first, 10));
    std::filesystem::last_write_time(
        path, std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * 40));
  }
  // Rolled up through 25: the first two are done with, the third is not.
  EXPECT_EQ(DeleteRolledUpSegments(dir.path(), segs, 25, 30), 2u);
  std::vector<std::pair<uint64_t, std::string>> left;
  ASSERT_TRUE(ListSegments(dir.path(), &left).ok());
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].first, 21u);
  // Everything rolled up: still never the newest.
  EXPECT_EQ(DeleteRolledUpSegments(dir.path(), left, 40, 30), 1u);
  // Younger than the retention: kept.
  ScratchDir young;
  WriteFile(young.path() + "/" + SegmentName(1), SegmentBytes(1, 10));
  WriteFile(young.path() + "/" + SegmentName(11), SegmentBytes(11, 10));
  std::vector<std::pair<uint64_t, std::string>> fresh;
  ASSERT_TRUE(ListSegments(young.path(), &fresh).ok());
  EXPECT_EQ(DeleteRolledUpSegments(young.path(), fresh, 40, 30), 0u);
}

}  // namespace
}  // namespace refgate::clicklog
