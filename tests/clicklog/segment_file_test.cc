// The segment file on its own: zeros ahead, sealing cuts them, abandoning
// cuts back to the last record kept.
#include "clicklog/segment_file.h"

#include <filesystem>

#include "tests/clicklog/log_test_util.h"

namespace refgate::clicklog {
namespace {

TEST(SegmentFile, SealCutsTheZerosAheadAndKeepsTheRecords) {
  ScratchDir dir;
  SegmentFile f(dir.path(), DefaultFileIo());
  ASSERT_EQ(f.Create(7), 0);
  EXPECT_EQ(f.path(), dir.path() + "/" + SegmentName(7));
  const std::string records = SegmentBytes(7, 3);
  ASSERT_EQ(f.ExtendZeros(records.size()), 0);
  EXPECT_EQ(std::filesystem::file_size(f.path()), 1u << 20);  // a MiB of zeros ahead
  ASSERT_EQ(f.Write(0, records.data(), records.size()), 0);
  f.Appended(records.size());
  EXPECT_EQ(f.size(), records.size());
  const std::string path = f.path();
  ASSERT_EQ(f.Seal(false), 0);
  EXPECT_FALSE(f.is_open());
  EXPECT_EQ(std::filesystem::file_size(path), records.size());
  RecordingReporter r;
  EXPECT_EQ(ParseAll(records, &r), Seqs(7, 9));
}

TEST(SegmentFile, AbandonCutsBackToTheLastRecordKeptAndRemovesAnEmptyFile) {
  ScratchDir dir;
  SegmentFile f(dir.path(), DefaultFileIo());
  ASSERT_EQ(f.Create(1), 0);
  const std::string kept = SegmentBytes(1, 2), lost = SegmentBytes(3, 2);
  ASSERT_EQ(f.Write(0, kept.data(), kept.size()), 0);
  f.Appended(kept.size());
  ASSERT_EQ(f.Write(f.size(), lost.data(), lost.size()), 0);  // its sync "failed"
  const std::string path = f.path();
  EXPECT_TRUE(f.Abandon());
  EXPECT_EQ(std::filesystem::file_size(path), kept.size());

  SegmentFile empty(dir.path(), DefaultFileIo());
  ASSERT_EQ(empty.Create(3), 0);
  const std::string empty_path = empty.path();
  ASSERT_EQ(empty.Write(0, lost.data(), lost.size()), 0);
  EXPECT_TRUE(empty.Abandon());
  EXPECT_FALSE(std::filesystem::exists(empty_path));
}

TEST(SegmentFile, CreateRefusesAnExistingFile) {
  ScratchDir dir;
  WriteFile(dir.path() + "/" + SegmentName(5), "x");
  SegmentFile f(dir.path(), DefaultFileIo());
  EXPECT_EQ(f.Create(5), EEXIST);
  EXPECT_FALSE(f.is_open());
}

}  // namespace
}  // namespace refgate::clicklog
