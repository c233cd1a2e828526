// A producer's chunks: when one is full, what the writer takes, and what
// giving chunks back does to the queue and to the spares.
#include "clicklog/producer.h"

#include <algorithm>

#include "tests/clicklog/log_test_util.h"

namespace refgate::clicklog {
namespace {

// Frames one record of `framed` bytes, its payload all `fill`, as
// ClickLog::Enqueue does.
void FrameLocked(Producer& p, size_t framed, char fill) REQUIRES(p.mu) {
  p.appended.store(p.appended.load() + 1);
  (void)AppendUnsealedRecord(&p.chunk.bytes, kClick, std::string(framed - kHeaderSize, fill));
  ++p.chunk.records;
  p.SwapIfFull();
}

void Add(Producer& p, size_t framed, char fill = 'x') {
  MutexLock lock(&p.mu);
  FrameLocked(p, framed, fill);
}

// Tops the chunk being filled up to kChunkBytes with one record.
void FillChunk(Producer& p, char fill = 'x') {
  MutexLock lock(&p.mu);
  FrameLocked(p, std::max(kHeaderSize, kChunkBytes - p.chunk.bytes.size()), fill);
}

size_t PartFilledRecords(Producer& p) {
  MutexLock lock(&p.mu);
  return p.chunk.records;
}

char FirstPayloadByte(const Chunk& c) {
  return c.bytes.size() > kHeaderSize ? c.bytes[kHeaderSize] : 0;
}

TEST(Producer, ChunkJoinsTheFilledOnesOnceItHoldsKChunkBytes) {
  Producer p;
  Add(p, kChunkBytes - 1);
  EXPECT_EQ(PartFilledRecords(p), 1u);  // one byte short: still being filled
  Add(p, kHeaderSize + 19);             // the last record may overshoot
  EXPECT_EQ(PartFilledRecords(p), 0u);
  {
    MutexLock lock(&p.mu);
    EXPECT_TRUE(p.chunk.bytes.empty());
    EXPECT_GE(p.chunk.bytes.capacity(), kChunkBytes + kChunkSlack);
  }
  std::deque<Chunk> out;
  EXPECT_EQ(p.Take(false, &out), 1u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].records, 2u);
  EXPECT_EQ(out[0].bytes.size(), (kChunkBytes - 1) + (kHeaderSize + 19));
}

TEST(Producer, EmptyProducerHasNothingToTake) {
  Producer p;
  EXPECT_FALSE(p.HasUntaken());
  std::deque<Chunk> out;
  EXPECT_EQ(p.Take(false, &out), 0u);
  EXPECT_EQ(p.Take(true, &out), 0u);
  EXPECT_TRUE(out.empty());
}

TEST(Producer, TakeWithoutPartFilledLeavesThePartFilledChunkWhileFilledOnesWait) {
  Producer p;
  FillChunk(p, 'a');
  Add(p, 100, 'b');
  std::deque<Chunk> out;
  EXPECT_EQ(p.Take(false, &out), 1u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(FirstPayloadByte(out[0]), 'a');
  EXPECT_EQ(PartFilledRecords(p), 1u);
  EXPECT_TRUE(p.HasUntaken());
  EXPECT_EQ(p.Take(false, &out), 1u);  // none filled now: the part-filled one goes
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(FirstPayloadByte(out[1]), 'b');
  EXPECT_FALSE(p.HasUntaken());
}

TEST(Producer, TakeWithPartFilledAppendsEveryChunkOldestFirst) {
  Producer p;
  FillChunk(p, 'a');
  FillChunk(p, 'b');
  Add(p, 100, 'c');
  std::deque<Chunk> out(1);
  out[0].records = 99;  // already there: kept in front
  EXPECT_EQ(p.Take(true, &out), 3u);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].records, 99u);
  EXPECT_EQ(FirstPayloadByte(out[1]), 'a');
  EXPECT_EQ(FirstPayloadByte(out[2]), 'b');
  EXPECT_EQ(FirstPayloadByte(out[3]), 'c');
  EXPECT_EQ(PartFilledRecords(p), 0u);
  EXPECT_FALSE(p.HasUntaken());
}

TEST(Producer, GiveBackCountsTheChunksRecordsOffTheQueue) {
  Producer p;
  for (int i = 0; i < 3; ++i) Add(p, 100);
  FillChunk(p);  // the first chunk: 4 records
  Add(p, 100);
  Add(p, 100);
  EXPECT_EQ(p.Queued(), 6u);
  std::deque<Chunk> out;
  ASSERT_EQ(p.Take(true, &out), 2u);
  EXPECT_EQ(p.Queued(), 6u);  // taken is not written
  p.GiveBack(out[0]);
  EXPECT_EQ(p.Queued(), 2u);
  p.GiveBack(out[1]);
  EXPECT_EQ(p.Queued(), 0u);
}

// Takes `taken` filled chunks and gives `given` of them back, each marked
// with a capacity no fresh chunk has; returns how many marked spares the
// producer then fills, one after another.
size_t SparesKept(size_t taken, size_t given) {
  constexpr size_t kMarked = 4 * kChunkBytes;
  Producer p;
  for (size_t i = 0; i < taken; ++i) FillChunk(p);
  std::deque<Chunk> out;
  EXPECT_EQ(p.Take(false, &out), taken);
  for (size_t i = 0; i < given; ++i) {
    out[i].bytes.reserve(kMarked);
    p.GiveBack(out[i]);
  }
  size_t reused = 0;
  while (reused <= taken) {
    FillChunk(p);
    MutexLock lock(&p.mu);
    if (p.chunk.bytes.capacity() < kMarked) break;
    ++reused;
  }
  return reused;
}

TEST(Producer, GiveBackKeepsEveryChunkAsASpareUpToTheLimit) { EXPECT_EQ(SparesKept(3, 3), 3u); }

TEST(Producer, GiveBackKeepsKSparesPerProducerOnceNothingIsInFlight) {
  EXPECT_EQ(SparesKept(kSparesPerProducer + 4, kSparesPerProducer + 4), kSparesPerProducer);
}

TEST(Producer, GiveBackKeepsASpareMoreForEachChunkStillInFlight) {
  EXPECT_EQ(SparesKept(kSparesPerProducer + 4, kSparesPerProducer + 3), kSparesPerProducer + 1);
  EXPECT_EQ(SparesKept(kSparesPerProducer + 4, kSparesPerProducer + 2), kSparesPerProducer + 2);
}

}  // namespace
}  // namespace refgate::clicklog
