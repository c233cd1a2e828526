// The writer: group commit, durability modes, recovery, and what it does
// when the disk stalls or fails (faults injected through FileIo).
#include "clicklog/click_log.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>

#include "tests/clicklog/faulty_io.h"
#include "tests/clicklog/log_test_util.h"

namespace refgate::clicklog {
namespace {

using namespace std::chrono_literals;

struct Waiter : Completion {
  std::atomic<int> calls{0};
  std::atomic<Outcome> outcome{Outcome::kOk};
  void Complete(Outcome o) override {
    outcome = o;
    calls.fetch_add(1);
  }
  bool WaitFor(std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (calls.load() == 0 && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(1ms);
    }
    return calls.load() > 0;
  }
};

std::vector<uint64_t> ReadSeqs(const std::string& dir, RecordingReporter* r = nullptr) {
  LogReader reader(dir, r);
  EXPECT_TRUE(reader.Open(0).ok());
  std::vector<uint64_t> seqs;
  Record rec;
  while (reader.Next(&rec)) seqs.push_back(rec.seq);
  return seqs;
}

std::unique_ptr<ClickLog> OpenLog(Options opt, std::vector<std::string>* notes = nullptr) {
  std::unique_ptr<ClickLog> log;
  std::vector<std::string> n;
  Status s = ClickLog::Open(opt, &log, notes ? notes : &n);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return log;
}

TEST(ClickLog, ConcurrentAppendsGetDenseSequenceNumbersAndAllWaitersComplete) {
  ScratchDir dir;
  Options opt{.dir = dir.path()};
  auto log = OpenLog(opt);
  constexpr int kThreads = 4, kPer = 500;
  std::vector<Waiter> waiters(kThreads * kPer);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        EXPECT_TRUE(log->Append(MakeClick(t * kPer + i), &waiters[t * kPer + i]));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& w : waiters) ASSERT_TRUE(w.WaitFor(10s));
  EXPECT_EQ(log->durable_seq(), uint64_t{kThreads * kPer});
  log->Close();
  for (auto& w : waiters) EXPECT_EQ(w.calls.load(), 1);
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, kThreads * kPer));
}

// Click ids of every record in the log, in log order.
std::vector<std::string> ReadClickIds(const std::string& dir) {
  LogReader reader(dir, nullptr);
  EXPECT_TRUE(reader.Open(0).ok());
  std::vector<std::string> ids;
  Record rec;
  ClickRecord c;
  while (reader.Next(&rec)) {
    EXPECT_TRUE(DecodeClick(rec.payload, &c).ok());
    ids.push_back(c.click_id);
  }
  return ids;
}

TEST(ClickLog, OneThreadAppendingToTwoLogsInTurnFeedsEachItsOwn) {
  ScratchDir a_dir, b_dir;
  auto a = OpenLog({.dir = a_dir.path(), .durability = Durability::kNone});
  auto b = OpenLog({.dir = b_dir.path(), .durability = Durability::kNone});
  std::vector<std::string> want_a, want_b;
  for (int i = 0; i < 300; ++i) {
    ClickSink* to = i % 3 == 0 ? b.get() : a.get();
    (to == a.get() ? want_a : want_b).push_back(MakeClick(i).click_id);
    to->Append(MakeClick(i), nullptr);
  }
  a->Close();
  b->Close();
  EXPECT_EQ(ReadClickIds(a_dir.path()), want_a);
  EXPECT_EQ(ReadClickIds(b_dir.path()), want_b);
}

// A burst while the disk stalls: each producer fills many chunks, and the
// backlog takes several batches. Every record is kept, each producer's in
// the order it appended them, and waiters complete once each. Outside
// "sync" the writer takes filled chunks while their producer fills the
// next, and leaves it the part-filled one: the order must survive that too.
void BurstKeepsEveryProducersRecordsInOrder(Durability durability) {
  const bool sync = durability == Durability::kSync;
  ScratchDir dir;
  FaultyIo io;
  auto log =
      OpenLog({.dir = dir.path(), .durability = durability, .segment_bytes = 4 << 20, .io = &io});
  Waiter first;
  log->Append(MakeClick(-1), &first);
  if (sync) {
    ASSERT_TRUE(first.WaitFor(5s));
  }
  io.stall_ms = 300;                         // every sync from here on
  constexpr int kThreads = 2, kPer = 24000;  // ~13 MiB each: past a batch
  std::vector<std::thread> threads;
  std::vector<Waiter> waiters(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer - 1; ++i) log->Append(MakeClick(t * kPer + i, 500), nullptr);
      EXPECT_EQ(log->Append(MakeClick(t * kPer + kPer - 1, 500), &waiters[t]), sync);
    });
  }
  for (auto& t : threads) t.join();
  io.stall_ms = 0;
  if (sync) {
    for (auto& w : waiters) ASSERT_TRUE(w.WaitFor(10s));
  }
  log->Close();
  for (auto& w : waiters) EXPECT_EQ(w.calls.load(), sync ? 1 : 0);
  RecordingReporter rep;
  EXPECT_EQ(ReadSeqs(dir.path(), &rep), Seqs(1, kThreads * kPer + 1));
  EXPECT_TRUE(rep.damages.empty());
  std::vector<std::vector<std::string>> got(kThreads), want(kThreads);
  for (const std::string& id : ReadClickIds(dir.path())) {
    int i = std::stoi(id.substr(5));
    if (i >= 0) got[i / kPer].push_back(id);
  }
  for (int i = 0; i < kThreads * kPer; ++i) want[i / kPer].push_back(MakeClick(i).click_id);
  EXPECT_EQ(got, want);
  // A segment goes past segment_bytes by one producer's chunk at most.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_LE(e.file_size(), (4u << 20) + (256u << 10) + 1024) << e.path();
  }
}

TEST(ClickLog, BurstDuringAStallKeepsEveryProducersRecordsInOrder) {
  BurstKeepsEveryProducersRecordsInOrder(Durability::kSync);
}

TEST(ClickLog, BurstWithoutSyncKeepsEveryProducersRecordsInOrder) {
  BurstKeepsEveryProducersRecordsInOrder(Durability::kNone);
}

// A batch too big for zero-ahead extends the file itself; the next small
// batch must zero ahead from the new end, never over the records.
TEST(ClickLog, BigBatchThenSmallBatchesKeepEveryRecord) {
  ScratchDir dir;
  FaultyIo io;
  const uint64_t bytes_before = GlobalMetrics().log_bytes.Value();
  auto log = OpenLog({.dir = dir.path(), .io = &io});
  GateGuard guard{io};
  io.Hold();
  Waiter first;
  ASSERT_TRUE(log->Append(MakeClick(0), &first));
  ASSERT_TRUE(io.WaitForSyncs(1));  // the writer is in fdatasync now, and stays there
  constexpr int kBig = 2500;  // ~1.3 MiB in one batch: past the zero-ahead limit and the zeros
  for (int i = 1; i <= kBig; ++i) log->Append(MakeClick(i, 500), nullptr);
  // All 2500 are queued behind the held sync, so the next take is one batch
  // of them: log_batch_size's bucket (1024, 4096] sees it.
  const uint64_t big_batches = GlobalMetrics().log_batch_size.BucketCount(10);
  io.Release();
  ASSERT_TRUE(first.WaitFor(20s));
  ASSERT_TRUE(io.WaitForSyncs(2));
  EXPECT_EQ(GlobalMetrics().log_batch_size.BucketCount(10), big_batches + 1);
  for (int i = kBig + 1; i <= kBig + 20; ++i) {
    Waiter w;
    ASSERT_TRUE(log->Append(MakeClick(i), &w));
    ASSERT_TRUE(w.WaitFor(5s));
  }
  log->Close();
  RecordingReporter rep;
  EXPECT_EQ(ReadSeqs(dir.path(), &rep), Seqs(1, kBig + 21));
  EXPECT_TRUE(rep.damages.empty());
  uint64_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) bytes += e.file_size();
  EXPECT_EQ(bytes, GlobalMetrics().log_bytes.Value() - bytes_before);
}

TEST(ClickLog, SyncModeAnswersOnlyAfterTheSync) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .io = &io});
  GateGuard guard{io};
  io.Hold();
  Waiter w;
  ASSERT_TRUE(log->Append(MakeClick(1), &w));
  ASSERT_TRUE(io.WaitForSyncs(1));
  EXPECT_EQ(w.calls.load(), 0);  // the record is written; its sync has not returned
  EXPECT_EQ(log->durable_seq(), 0u);
  io.Release();
  ASSERT_TRUE(w.WaitFor(20s));
  EXPECT_EQ(log->durable_seq(), 1u);
}

// Brings a sync-mode log to where its last batch released 8 visitors and
// one more record waits: the writer is gathering 4 for its next sync, and
// may wait for them as long as a sync has taken (~90 ms here).
void ReleaseEightThenAppendOne(ClickLog* log, FaultyIo* io, std::vector<Waiter>* eight,
                               Waiter* next) {
  io->stall_ms = 400;  // slow syncs: the writer may gather as long as one takes
  io->Hold();
  Waiter first;
  ASSERT_TRUE(log->Append(MakeClick(0), &first));  // a batch of one: nothing to gather after it
  ASSERT_TRUE(io->WaitForSyncs(1));
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(log->Append(MakeClick(1 + i), &(*eight)[i]));
  io->Release();
  ASSERT_TRUE(first.WaitFor(20s));
  ASSERT_TRUE(io->WaitForSyncs(2));  // the 8 are in their sync now
  io->stall_ms = 0;
  ASSERT_TRUE(log->Append(MakeClick(9), next));
  for (auto& w : *eight) ASSERT_TRUE(w.WaitFor(20s));
}

// Closed-loop clients: the visitors a sync released click again a moment
// later. The writer waits for half of them rather than sync a lone record,
// and syncs as soon as they are there.
TEST(ClickLog, SyncModeGathersHalfTheVisitorsTheLastSyncReleased) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .max_gather_us = 10'000'000, .io = &io});
  std::vector<Waiter> eight(8);
  Waiter w[4];
  ReleaseEightThenAppendOne(log.get(), &io, &eight, &w[0]);
  const int syncs = io.syncs.load();
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(w[0].calls.load(), 0);  // gathering, not syncing one record
  EXPECT_EQ(io.syncs.load(), syncs);
  for (int i = 1; i < 4; ++i) ASSERT_TRUE(log->Append(MakeClick(9 + i), &w[i]));
  for (auto& x : w) ASSERT_TRUE(x.WaitFor(5s));
  EXPECT_EQ(io.syncs.load(), syncs + 1);  // all four in one sync
  EXPECT_EQ(log->durable_seq(), 13u);
  log->Close();
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 13));
}

TEST(ClickLog, IntervalAndNoneDoNotMakeVisitorsWaitButCloseSyncsEverything) {
  for (Durability d : {Durability::kInterval, Durability::kNone}) {
    ScratchDir dir;
    FaultyIo io;
    auto log = OpenLog({.dir = dir.path(), .durability = d, .io = &io});
    Waiter w;
    for (int i = 0; i < 1000; ++i) EXPECT_FALSE(log->Append(MakeClick(i), &w));
    log->Close();
    EXPECT_EQ(w.calls.load(), 0);
    EXPECT_GE(io.syncs.load(), 1);  // the clean shutdown synced
    EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 1000));
  }
}

// Outside "sync" the writer starts the disk on each MiB written (and never
// in "sync", where every batch is synced anyway): one segment's ranges
// follow each other from its start and stay within what was written.
TEST(ClickLog, WritebackIsStartedAMebibyteAtATimeOutsideSync) {
  for (Durability d : {Durability::kInterval, Durability::kNone, Durability::kSync}) {
    ScratchDir dir;
    FaultyIo io;
    auto log = OpenLog({.dir = dir.path(), .durability = d, .io = &io});
    Waiter w;
    for (int i = 0; i < 8000; ++i) {
      log->Append(MakeClick(i, 500), d == Durability::kSync ? nullptr : &w);
      if (i % 1000 == 999) std::this_thread::sleep_for(10ms);  // batches of ~0.5 MiB, most likely
    }
    log->Close();
    uint64_t size = std::filesystem::directory_iterator(dir.path())->file_size();
    ASSERT_GT(size, 4u << 20);
    std::lock_guard lock(io.mu);
    if (d == Durability::kSync) {
      EXPECT_TRUE(io.writebacks.empty());
      continue;
    }
    ASSERT_FALSE(io.writebacks.empty()) << static_cast<int>(d);  // one batch may hold it all
    uint64_t next = 0;
    for (auto [offset, n] : io.writebacks) {
      EXPECT_EQ(offset, next);
      EXPECT_GE(n, 1u << 20);
      next = offset + n;
    }
    EXPECT_LE(next, size);
    EXPECT_GT(next, size - (1 << 20) - (256 << 10));  // only the last MiB or so was left
  }
}

// Outside "sync" a helper thread syncs every 8 MiB written, so a seal or a
// shutdown never has a whole segment's worth for the disk to flush, and the
// writer goes on writing while that sync runs.
TEST(ClickLog, NoneSyncsEveryFewMebibytesWithoutStoppingTheWriter) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .durability = Durability::kNone, .io = &io});
  GateGuard guard{io};
  io.Hold();  // the first background sync holds on until released
  const uint64_t written = GlobalMetrics().log_records.Value();
  int n = 0;
  for (; n < 20000; ++n) log->Append(MakeClick(n, 500), nullptr);  // ~12 MiB
  ASSERT_TRUE(io.WaitForSyncs(1));
  EXPECT_EQ(io.syncs.load(), 1);  // began, and is held
  for (int i = 0; i < 4000; ++i, ++n) log->Append(MakeClick(n, 500), nullptr);
  // All of it is written while the sync is still held.
  EXPECT_TRUE(
      WaitUntil([&] { return GlobalMetrics().log_records.Value() - written >= uint64_t(n); }));
  EXPECT_EQ(GlobalMetrics().log_records.Value() - written, static_cast<uint64_t>(n));
  EXPECT_EQ(log->durable_seq(), 0u);  // and it has not returned
  // Once it has, what it covered is durable, before any Close.
  io.Release();
  EXPECT_TRUE(WaitUntil([&] { return log->durable_seq() > 0; }));
  EXPECT_GE(log->durable_seq(), 13000u);  // at least the first 8 MiB (~610 bytes a record)
  log->Close();
  EXPECT_EQ(log->durable_seq(), static_cast<uint64_t>(n));
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, n));
}

// A background sync that fails is handled as the writer's own: the segment
// is abandoned (never synced again), what it had not synced is counted as
// dropped but kept, and the next records go to a new segment.
TEST(ClickLog, FailedBackgroundSyncAbandonsTheSegment) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .durability = Durability::kNone, .io = &io});
  const uint64_t dropped = GlobalMetrics().clicks_dropped.Value();
  io.fail_syncs = 1;
  int n = 0;
  for (; n < 20000; ++n) log->Append(MakeClick(n, 500), nullptr);  // ~12 MiB
  // Healthy() is false only until the next batch is written, which may
  // come at once: the dropped count is what stays.
  const auto t0 = std::chrono::steady_clock::now();
  while (GlobalMetrics().clicks_dropped.Value() == dropped &&
         std::chrono::steady_clock::now() - t0 < 5s) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(GlobalMetrics().clicks_dropped.Value() - dropped, 13000u);  // 8 MiB at least
  for (int i = 0; i < 100; ++i, ++n) log->Append(MakeClick(n, 500), nullptr);
  log->Close();
  EXPECT_TRUE(log->Healthy());
  EXPECT_EQ(io.syncs_of_failed_fd.load(), 0);
  std::vector<std::pair<uint64_t, std::string>> segs;
  ASSERT_TRUE(ListSegments(dir.path(), &segs).ok());
  EXPECT_EQ(segs.size(), 2u);
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, n));
}

// A clean shutdown outside "sync" syncs once: the seal that follows has
// nothing left to sync (a second fdatasync is a second device flush).
TEST(ClickLog, CloseOutsideSyncSyncsOnce) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .durability = Durability::kNone, .io = &io});
  for (int i = 0; i < 100; ++i) log->Append(MakeClick(i), nullptr);
  log->Close();
  EXPECT_EQ(io.syncs.load(), 1);
  EXPECT_EQ(log->durable_seq(), 100u);
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 100));
}

// "interval" syncs every interval_ms while clicks keep coming, not only
// when the writer finds nothing to write.
// Traffic here is one record at a time, each appended once the last is
// written, so the writer is never idle and never has 8 MiB unsynced: every
// sync seen before Close is one that interval_ms made due.
TEST(ClickLog, IntervalSyncsUnderSteadyTraffic) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog(
      {.dir = dir.path(), .durability = Durability::kInterval, .interval_ms = 20, .io = &io});
  int appended = 0;
  for (int want = 1; want <= 3; ++want) {
    ASSERT_TRUE(WaitUntil([&] {
      const int writes = io.writes.load();
      log->Append(MakeClick(appended++, 100), nullptr);
      WaitUntil([&] { return io.writes.load() > writes; });
      return io.syncs.load() >= want;
    })) << "no interval sync while clicks kept coming ("
        << want << ")";
    ASSERT_LT(appended, 20000);  // ~4 MiB at most: below the 8 MiB sync-ahead
  }
  log->Close();
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, appended));
}

TEST(ClickLog, SegmentsRollAndRecordsNeverSpanThem) {
  ScratchDir dir;
  auto log = OpenLog({.dir = dir.path(), .segment_bytes = 4096});
  for (int i = 0; i < 200; ++i) {
    Waiter w;
    ASSERT_TRUE(log->Append(MakeClick(i), &w));
    ASSERT_TRUE(w.WaitFor(5s));
  }
  log->Close();
  std::vector<std::pair<uint64_t, std::string>> segs;
  ASSERT_TRUE(ListSegments(dir.path(), &segs).ok());
  EXPECT_GT(segs.size(), 5u);
  RecordingReporter r;
  EXPECT_EQ(ReadSeqs(dir.path(), &r), Seqs(1, 200));
  EXPECT_TRUE(r.damages.empty());
  for (auto& [first, name] : segs) {
    EXPECT_LE(std::filesystem::file_size(dir.path() + "/" + name), 4096u + 200u);
  }
}

TEST(ClickLog, ReopenContinuesTheSequenceInANewSegment) {
  ScratchDir dir;
  OpenLog({.dir = dir.path(), .durability = Durability::kNone}).reset();  // empty: removed again
  auto log = OpenLog({.dir = dir.path(), .durability = Durability::kNone});
  for (int i = 0; i < 5; ++i) log->Append(MakeClick(i), nullptr);
  log->Close();
  log = OpenLog({.dir = dir.path(), .durability = Durability::kNone});
  for (int i = 0; i < 5; ++i) log->Append(MakeClick(i), nullptr);
  log->Close();
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 10));
  std::vector<std::pair<uint64_t, std::string>> segs;
  ASSERT_TRUE(ListSegments(dir.path(), &segs).ok());
  ASSERT_EQ(segs.size(), 2u);  // the empty first one was removed on reopen
  EXPECT_EQ(segs[0].first, 1u);
  EXPECT_EQ(segs[1].first, 6u);
}

TEST(ClickLog, RecoveryCutsATornTailAndTheSequenceGoesOn) {
  ScratchDir dir;
  std::string full = SegmentBytes(1, 3);
  std::string path = dir.path() + "/" + SegmentName(1);
  WriteFile(path, full.substr(0, full.size() - 7));  // record 3 torn
  std::vector<std::string> notes;
  auto log = OpenLog({.dir = dir.path()}, &notes);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("cut torn tail"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("at offset " + std::to_string(SegmentBytes(1, 2).size())),
            std::string::npos)
      << notes[0];
  EXPECT_EQ(std::filesystem::file_size(path), SegmentBytes(1, 2).size());
  Waiter w;
  log->Append(MakeClick(9), &w);
  ASSERT_TRUE(w.WaitFor(5s));
  log->Close();
  RecordingReporter r;
  EXPECT_EQ(ReadSeqs(dir.path(), &r), Seqs(1, 3));
  EXPECT_TRUE(r.damages.empty());
}

TEST(ClickLog, SealedSegmentsHaveNoZeroTailAndTheNewestReadsCleanWhileOpen) {
  ScratchDir dir;
  auto log = OpenLog({.dir = dir.path(), .segment_bytes = 4096});
  for (int i = 0; i < 40; ++i) {
    Waiter w;
    ASSERT_TRUE(log->Append(MakeClick(i), &w));
    ASSERT_TRUE(w.WaitFor(5s));
  }
  // While open, the newest segment runs on into zeros: readers see its end.
  RecordingReporter open_r;
  EXPECT_EQ(ReadSeqs(dir.path(), &open_r), Seqs(1, 40));
  EXPECT_TRUE(open_r.damages.empty());
  log->Close();
  std::vector<std::pair<uint64_t, std::string>> segs;
  ASSERT_TRUE(ListSegments(dir.path(), &segs).ok());
  for (auto& [first, name] : segs) {
    std::string data;
    ASSERT_TRUE(ReadFile(dir.path() + "/" + name, &data).ok());
    ASSERT_FALSE(data.empty());
    EXPECT_NE(data.back(), '\0') << name;  // every segment ends with a record
  }
}

TEST(ClickLog, ZeroTailOfASealedSegmentIsDamage) {
  ScratchDir dir;
  WriteFile(dir.path() + "/" + SegmentName(1), SegmentBytes(1, 3) + std::string(100, '\0'));
  WriteFile(dir.path() + "/" + SegmentName(4), SegmentBytes(4, 2));
  RecordingReporter r;
  EXPECT_EQ(ReadSeqs(dir.path(), &r), Seqs(1, 5));
  ASSERT_EQ(r.damages.size(), 1u);
  EXPECT_EQ(r.damages[0].segment, SegmentName(1));
}

TEST(ClickLog, RecoveryCutsAZeroFilledTail) {
  ScratchDir dir;
  WriteFile(dir.path() + "/" + SegmentName(1), SegmentBytes(1, 4) + std::string(8192, '\0'));
  std::vector<std::string> notes;
  auto log = OpenLog({.dir = dir.path()}, &notes);
  log->Close();
  EXPECT_EQ(notes.size(), 1u);
  RecordingReporter r;
  EXPECT_EQ(ReadSeqs(dir.path(), &r), Seqs(1, 4));
  EXPECT_TRUE(r.damages.empty());
}

TEST(ClickLog, RecoveryKeepsRecordsAfterMidFileDamage) {
  ScratchDir dir;
  std::string data = SegmentBytes(1, 4);
  data[SegmentBytes(1, 1).size() + 30] ^= 1;  // inside record 2
  WriteFile(dir.path() + "/" + SegmentName(1), data);
  std::vector<std::string> notes;
  auto log = OpenLog({.dir = dir.path()}, &notes);
  Waiter w;
  log->Append(MakeClick(9), &w);
  ASSERT_TRUE(w.WaitFor(5s));
  log->Close();
  EXPECT_EQ(ReadSeqs(dir.path()), (std::vector<uint64_t>{1, 3, 4, 5}));
}

TEST(ClickLog, StalledDiskReleasesVisitorsAfterMaxWait) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .max_wait_ms = 200, .io = &io});
  GateGuard guard{io};
  io.Hold();  // the disk stalls until released: only the watchdog can answer
  Waiter first, second;
  ASSERT_TRUE(log->Append(MakeClick(1), &first));
  ASSERT_TRUE(io.WaitForSyncs(1));  // the writer is now stuck in fdatasync
  ASSERT_TRUE(log->Append(MakeClick(2), &second));
  ASSERT_TRUE(first.WaitFor(20s));
  ASSERT_TRUE(second.WaitFor(20s));
  EXPECT_EQ(log->durable_seq(), 0u);  // released by the watchdog, not by a sync
  io.Release();
  log->Close();
  EXPECT_EQ(first.calls.load(), 1);  // released once, never again by the writer
  EXPECT_EQ(second.calls.load(), 1);
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 2));  // and still written
}

TEST(ClickLog, FailedWriteDropsTheBatchCutsBackAndRecovers) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .io = &io});
  Waiter ok1;
  log->Append(MakeClick(1), &ok1);
  ASSERT_TRUE(ok1.WaitFor(5s));
  uint64_t dropped = GlobalMetrics().clicks_dropped.Value();
  io.fail_writes = 1;
  Waiter lost;
  ASSERT_TRUE(log->Append(MakeClick(2), &lost));
  ASSERT_TRUE(lost.WaitFor(5s));  // the visitor is still answered
  EXPECT_EQ(GlobalMetrics().clicks_dropped.Value(), dropped + 1);
  EXPECT_FALSE(log->Healthy());
  Waiter ok2;
  log->Append(MakeClick(3), &ok2);
  ASSERT_TRUE(ok2.WaitFor(5s));
  EXPECT_TRUE(log->Healthy());
  log->Close();
  RecordingReporter r;
  EXPECT_EQ(ReadSeqs(dir.path(), &r), Seqs(1, 2));  // dense: the lost seq was reused
  EXPECT_TRUE(r.damages.empty());                   // the partial write was cut back
}

TEST(ClickLog, FailedFsyncIsNeverRetriedOnThatSegment) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .io = &io});
  io.fail_syncs = 1;
  Waiter w1;
  log->Append(MakeClick(1), &w1);
  ASSERT_TRUE(w1.WaitFor(5s));
  EXPECT_FALSE(log->Healthy());
  for (int i = 0; i < 3; ++i) {
    Waiter w;
    log->Append(MakeClick(2 + i), &w);
    ASSERT_TRUE(w.WaitFor(5s));
  }
  EXPECT_TRUE(log->Healthy());
  log->Close();
  EXPECT_EQ(io.syncs_of_failed_fd.load(), 0);  // no sync after the failed one
  std::vector<std::pair<uint64_t, std::string>> segs;
  ASSERT_TRUE(ListSegments(dir.path(), &segs).ok());
  EXPECT_EQ(segs.size(), 1u);  // the failed one was cut back to nothing and removed
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 3));
}

// Close while producers append: each record is either in the log or
// counted as dropped, never both and never neither.
TEST(ClickLog, CloseDuringAppendsWritesOrCountsEveryRecord) {
  for (Durability d : {Durability::kSync, Durability::kNone}) {
    ScratchDir dir;
    auto log = OpenLog({.dir = dir.path(), .durability = d});
    const uint64_t dropped_before = GlobalMetrics().clicks_dropped.Value();
    std::atomic<bool> closed{false};
    std::atomic<int> appended{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        std::deque<Waiter> waiters;  // Close completes those it took
        for (int i = 0; !closed.load(); ++i) {
          log->Append(MakeClick(i), &waiters.emplace_back());
          appended.fetch_add(1);
        }
        log->Append(MakeClick(-1), &waiters.emplace_back());  // after Close
        appended.fetch_add(1);
      });
    }
    ASSERT_TRUE(WaitUntil([&] { return appended.load() >= 2000; }));  // both well under way
    log->Close();
    closed = true;
    for (auto& t : threads) t.join();
    const uint64_t dropped = GlobalMetrics().clicks_dropped.Value() - dropped_before;
    EXPECT_GE(dropped, 2u);  // the appends after Close at least
    const std::vector<uint64_t> seqs = ReadSeqs(dir.path());
    ASSERT_FALSE(seqs.empty());
    EXPECT_EQ(seqs, Seqs(1, seqs.size()));
    EXPECT_EQ(seqs.size() + dropped, static_cast<uint64_t>(appended.load()));
  }
}

// A producer with max_queued records not yet written drops the next ones
// at once (counted, the visitor not made to wait), and takes records again
// once the writer has caught up.
TEST(ClickLog, AProducerPastMaxQueuedDropsAndCountsUntilTheWriterCatchesUp) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .max_queued = 100, .io = &io});
  GateGuard guard{io};
  io.Hold();
  Waiter first;
  ASSERT_TRUE(log->Append(MakeClick(0), &first));
  ASSERT_TRUE(io.WaitForSyncs(1));  // the writer is held in its sync
  const uint64_t dropped_before = GlobalMetrics().clicks_dropped.Value();
  std::deque<Waiter> waiters(150);
  int accepted = 0;
  for (int i = 1; i <= 150; ++i) accepted += log->Append(MakeClick(i), &waiters[i - 1]);
  EXPECT_EQ(accepted, 99);  // the first record is still queued
  EXPECT_EQ(GlobalMetrics().clicks_dropped.Value() - dropped_before, 51u);
  for (int i = 99; i < 150; ++i) EXPECT_EQ(waiters[i].calls.load(), 0);
  io.Release();
  ASSERT_TRUE(waiters[98].WaitFor(20s));
  Waiter later;
  ASSERT_TRUE(log->Append(MakeClick(151), &later));
  ASSERT_TRUE(later.WaitFor(5s));
  log->Close();
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 101));
}

// --- Records that must be durable, in every mode ----------------------------

constexpr auto kTestType = static_cast<RecordType>(kIgnorableBit | 0x7e);

const Durability kModes[] = {Durability::kSync, Durability::kInterval, Durability::kNone};

TEST(ClickLog, ADurableAppendCompletesOkOnlyOnceItsRecordIsSyncedInEveryMode) {
  for (Durability d : kModes) {
    ScratchDir dir;
    FaultyIo io;
    auto log = OpenLog({.dir = dir.path(), .durability = d, .interval_ms = 60000, .io = &io});
    GateGuard guard{io};
    // The first record: the first sync there is must be its own.
    io.Hold();
    Waiter w;
    ASSERT_TRUE(log->AppendDurable(kTestType, "an event", &w));
    ASSERT_TRUE(io.WaitForSyncs(1)) << static_cast<int>(d);
    EXPECT_EQ(w.calls.load(), 0);  // written, its sync held: not acknowledged
    EXPECT_EQ(log->durable_seq(), 0u);
    io.Release();
    ASSERT_TRUE(w.WaitFor(20s));
    EXPECT_EQ(w.outcome.load(), Outcome::kOk);
    EXPECT_EQ(log->durable_seq(), 1u) << static_cast<int>(d);
    // After clicks that nothing waits for, the next durable record syncs them too.
    for (int i = 0; i < 10; ++i) log->Append(MakeClick(i), nullptr);
    Waiter after;
    ASSERT_TRUE(log->AppendDurable(kTestType, "another", &after));
    ASSERT_TRUE(after.WaitFor(20s));
    EXPECT_EQ(after.outcome.load(), Outcome::kOk);
    EXPECT_EQ(log->durable_seq(), 12u) << static_cast<int>(d);
    log->Close();
    EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 12));
  }
}

// "interval": the writer waits on a background sync that stalls (to sync a
// durable record after it); a durable record appended meanwhile must still
// time out after max_wait_ms, not wait for the disk.
TEST(ClickLog, ADurableAppendTimesOutWhileTheWriterWaitsOnAStalledBackgroundSync) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(),
                      .durability = Durability::kInterval,
                      .interval_ms = 1,
                      .max_wait_ms = 100,
                      .io = &io});
  GateGuard guard{io};
  io.Hold();
  log->Append(MakeClick(1), nullptr);
  ASSERT_TRUE(io.WaitForSyncs(1));  // a background sync of it, held
  Waiter first, second;
  ASSERT_TRUE(log->AppendDurable(kTestType, "first", &first));
  ASSERT_TRUE(first.WaitFor(20s));  // the writer is stuck behind the held sync now
  ASSERT_TRUE(log->AppendDurable(kTestType, "second", &second));
  ASSERT_TRUE(second.WaitFor(20s));
  EXPECT_EQ(first.outcome.load(), Outcome::kTimedOut);
  EXPECT_EQ(second.outcome.load(), Outcome::kTimedOut);
  io.Release();
  log->Close();
  EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 3));  // all written in the end
}

TEST(ClickLog, ADurableAppendIntoAFailingDiskCompletesFailed) {
  for (Durability d : kModes) {
    for (bool fail_sync : {false, true}) {
      ScratchDir dir;
      FaultyIo io;
      auto log = OpenLog({.dir = dir.path(), .durability = d, .io = &io});
      (fail_sync ? io.fail_syncs : io.fail_writes) = 1;
      Waiter w;
      ASSERT_TRUE(log->AppendDurable(kTestType, "lost?", &w));
      ASSERT_TRUE(w.WaitFor(20s));
      EXPECT_EQ(w.outcome.load(), Outcome::kFailed)
          << static_cast<int>(d) << (fail_sync ? " sync" : " write");
      EXPECT_EQ(w.calls.load(), 1);
      // The disk is back: the next one is durable.
      Waiter again;
      ASSERT_TRUE(log->AppendDurable(kTestType, "kept", &again));
      ASSERT_TRUE(again.WaitFor(20s));
      EXPECT_EQ(again.outcome.load(), Outcome::kOk) << static_cast<int>(d);
      log->Close();
    }
  }
}

TEST(ClickLog, ADurableAppendIntoAStalledDiskCompletesTimedOut) {
  for (Durability d : kModes) {
    ScratchDir dir;
    FaultyIo io;
    auto log = OpenLog({.dir = dir.path(), .durability = d, .max_wait_ms = 100, .io = &io});
    GateGuard guard{io};
    io.Hold();  // the disk never answers until released
    Waiter w;
    ASSERT_TRUE(log->AppendDurable(kTestType, "waiting", &w));
    ASSERT_TRUE(w.WaitFor(20s));
    EXPECT_EQ(w.outcome.load(), Outcome::kTimedOut) << static_cast<int>(d);
    EXPECT_EQ(log->durable_seq(), 0u);
    io.Release();
    log->Close();
    EXPECT_EQ(w.calls.load(), 1);                 // never completed twice
    EXPECT_EQ(ReadSeqs(dir.path()), Seqs(1, 1));  // and still written
  }
}

TEST(ClickLog, AVisitorsWaitSaysWhetherItsClickWasWritten) {
  ScratchDir dir;
  FaultyIo io;
  auto log = OpenLog({.dir = dir.path(), .io = &io});
  io.fail_writes = 1;
  Waiter lost, kept;
  ASSERT_TRUE(log->Append(MakeClick(1), &lost));
  ASSERT_TRUE(lost.WaitFor(20s));
  EXPECT_EQ(lost.outcome.load(), Outcome::kFailed);
  ASSERT_TRUE(log->Append(MakeClick(2), &kept));
  ASSERT_TRUE(kept.WaitFor(20s));
  EXPECT_EQ(kept.outcome.load(), Outcome::kOk);
}

TEST(ClickLog, AppendAfterCloseIsDroppedNotLost) {
  ScratchDir dir;
  auto log = OpenLog({.dir = dir.path()});
  log->Close();
  Waiter w;
  uint64_t dropped = GlobalMetrics().clicks_dropped.Value();
  EXPECT_FALSE(log->Append(MakeClick(1), &w));
  EXPECT_EQ(GlobalMetrics().clicks_dropped.Value(), dropped + 1);
  EXPECT_EQ(w.calls.load(), 0);
}

}  // namespace
}  // namespace refgate::clicklog
