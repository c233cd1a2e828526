// Recover on a log directory damaged on purpose: what it cuts, what it
// keeps, and where the sequence goes on.
#include "clicklog/recovery.h"

#include <algorithm>

#include "tests/clicklog/log_test_util.h"

namespace refgate::clicklog {
namespace {

std::string SegPath(const ScratchDir& dir, uint64_t first_seq) {
  return dir.path() + "/" + SegmentName(first_seq);
}

std::string Contents(const std::string& path) {
  std::string data;
  EXPECT_TRUE(ReadFile(path, &data).ok()) << path;
  return data;
}

bool AnyNoteHas(const RecoveryResult& r, const std::string& text) {
  return std::any_of(r.notes.begin(), r.notes.end(),
                     [&](const std::string& n) { return n.find(text) != std::string::npos; });
}

TEST(Recovery, MissingDirectoryIsCreatedAndTheSequenceStartsAtOne) {
  ScratchDir dir;
  const std::string clicks = dir.path() + "/data/clicks";
  RecoveryResult r{.next_seq = 99, .notes = {"left from before"}};
  ASSERT_TRUE(Recover(clicks, &r).ok());
  EXPECT_TRUE(std::filesystem::is_directory(clicks));
  EXPECT_EQ(r.next_seq, 1u);
  EXPECT_TRUE(r.notes.empty());
}

TEST(Recovery, IntactLogIsLeftAsItIsAndTheSequenceGoesOn) {
  ScratchDir dir;
  WriteFile(SegPath(dir, 1), SegmentBytes(1, 3));
  WriteFile(SegPath(dir, 4), SegmentBytes(4, 3));
  RecoveryResult r;
  ASSERT_TRUE(Recover(dir.path(), &r).ok());
  EXPECT_EQ(r.next_seq, 7u);
  EXPECT_TRUE(r.notes.empty());
  EXPECT_EQ(Contents(SegPath(dir, 1)), SegmentBytes(1, 3));
  EXPECT_EQ(Contents(SegPath(dir, 4)), SegmentBytes(4, 3));
}

TEST(Recovery, TornTailIsCutAtTheLastWholeRecord) {
  const std::string whole = SegmentBytes(1, 3), kept = SegmentBytes(1, 2);
  for (size_t cut : {kept.size() + 1, kept.size() + kHeaderSize, whole.size() - 1}) {
    ScratchDir dir;
    WriteFile(SegPath(dir, 1), whole.substr(0, cut));
    RecoveryResult r;
    ASSERT_TRUE(Recover(dir.path(), &r).ok()) << cut;
    EXPECT_EQ(Contents(SegPath(dir, 1)), kept) << cut;
    EXPECT_EQ(r.next_seq, 3u) << cut;
    ASSERT_EQ(r.notes.size(), 1u) << cut;
    EXPECT_TRUE(AnyNoteHas(r, SegmentName(1))) << r.notes[0];
    EXPECT_TRUE(AnyNoteHas(r, std::to_string(cut - kept.size()) + " bytes")) << r.notes[0];
  }
}

TEST(Recovery, ZeroFilledTailIsCut) {
  ScratchDir dir;
  WriteFile(SegPath(dir, 1), SegmentBytes(1, 4) + std::string(8192, '\0'));
  RecoveryResult r;
  ASSERT_TRUE(Recover(dir.path(), &r).ok());
  EXPECT_EQ(Contents(SegPath(dir, 1)), SegmentBytes(1, 4));
  EXPECT_EQ(r.next_seq, 5u);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_TRUE(AnyNoteHas(r, "zero")) << r.notes[0];
}

TEST(Recovery, MidFileDamageIsKeptForReadersAndNoted) {
  ScratchDir dir;
  std::string data = SegmentBytes(1, 4);
  data[SegmentBytes(1, 1).size() + 30] ^= 0x04;  // inside record 2
  WriteFile(SegPath(dir, 1), data);
  RecoveryResult r;
  ASSERT_TRUE(Recover(dir.path(), &r).ok());
  EXPECT_EQ(Contents(SegPath(dir, 1)), data);
  EXPECT_EQ(r.next_seq, 5u);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_TRUE(AnyNoteHas(r, SegmentName(1))) << r.notes[0];
}

TEST(Recovery, MidFileDamageStaysWhenATornTailIsCut) {
  ScratchDir dir;
  std::string data = SegmentBytes(1, 4);
  data[SegmentBytes(1, 1).size() + 30] ^= 0x04;
  const std::string tail = SegmentBytes(5, 1);
  WriteFile(SegPath(dir, 1), data + tail.substr(0, tail.size() / 2));
  RecoveryResult r;
  ASSERT_TRUE(Recover(dir.path(), &r).ok());
  EXPECT_EQ(Contents(SegPath(dir, 1)), data);
  EXPECT_EQ(r.next_seq, 5u);
  EXPECT_EQ(r.notes.size(), 2u);
}

TEST(Recovery, DamagedTailOfAnOlderSegmentIsNotCut) {
  ScratchDir dir;  // sealed segments never change; readers report their damage
  const std::string older = SegmentBytes(1, 3) + "torn!";
  WriteFile(SegPath(dir, 1), older);
  WriteFile(SegPath(dir, 4), SegmentBytes(4, 2));
  RecoveryResult r;
  ASSERT_TRUE(Recover(dir.path(), &r).ok());
  EXPECT_EQ(Contents(SegPath(dir, 1)), older);
  EXPECT_EQ(r.next_seq, 6u);
  EXPECT_TRUE(r.notes.empty());
}

TEST(Recovery, EmptyNewestSegmentIsRemovedAndTheOneBeforeGivesTheSequence) {
  ScratchDir dir;
  WriteFile(SegPath(dir, 1), SegmentBytes(1, 3));
  WriteFile(SegPath(dir, 4), "");
  RecoveryResult r;
  ASSERT_TRUE(Recover(dir.path(), &r).ok());
  EXPECT_FALSE(std::filesystem::exists(SegPath(dir, 4)));
  EXPECT_EQ(r.next_seq, 4u);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_TRUE(AnyNoteHas(r, "removed")) << r.notes[0];
}

TEST(Recovery, SegmentOfOnlyGarbageIsCutAndRemoved) {
  ScratchDir dir;
  WriteFile(SegPath(dir, 1), SegmentBytes(1, 3));
  WriteFile(SegPath(dir, 4), std::string(100, 'x'));
  RecoveryResult r;
  ASSERT_TRUE(Recover(dir.path(), &r).ok());
  EXPECT_FALSE(std::filesystem::exists(SegPath(dir, 4)));
  EXPECT_EQ(Contents(SegPath(dir, 1)), SegmentBytes(1, 3));
  EXPECT_EQ(r.next_seq, 4u);
  EXPECT_TRUE(AnyNoteHas(r, "removed"));
}

TEST(Recovery, RemovedSoleSegmentStillKeepsItsNumbersFromBeingReused) {
  ScratchDir dir;  // records 1..9 are gone (retention); their numbers must not come back
  WriteFile(SegPath(dir, 10), "");
  RecoveryResult r;
  ASSERT_TRUE(Recover(dir.path(), &r).ok());
  EXPECT_FALSE(std::filesystem::exists(SegPath(dir, 10)));
  EXPECT_EQ(r.next_seq, 10u);
}

TEST(Recovery, SecondRecoveryFindsNothingToDo) {
  ScratchDir dir;
  const std::string whole = SegmentBytes(1, 3);
  WriteFile(SegPath(dir, 1), whole.substr(0, whole.size() - 5) + std::string(64, '\0'));
  RecoveryResult first, second;
  ASSERT_TRUE(Recover(dir.path(), &first).ok());
  ASSERT_EQ(first.notes.size(), 1u);
  ASSERT_TRUE(Recover(dir.path(), &second).ok());
  EXPECT_TRUE(second.notes.empty());
  EXPECT_EQ(second.next_seq, first.next_seq);
  EXPECT_EQ(Contents(SegPath(dir, 1)), SegmentBytes(1, 2));
}

}  // namespace
}  // namespace refgate::clicklog
