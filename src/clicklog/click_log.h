// ClickLog: the durable, segmented, checksummed click log (SPEC §4); a
// ClickSink for the redirect path, and AppendDurable for records that must
// be on disk before their caller answers.
//
// Pieces: each producer thread frames its records into chunks of its own
// (producer.h), never blocking on disk. One writer thread (writer.cc) takes
// every chunk, numbers and checksums the records in place, writes them to
// the segment (segment_file.h; one write(2) for a small batch, one per
// chunk for a big one) and, in "sync" mode or for a durable record, syncs
// once for the whole batch: group commit. Outside "sync" the writer lets
// records gather for 1 ms after a small batch, starts the disk on every MiB
// written (sync_file_range), and hands an fdatasync to the background
// syncer (syncer.h) every kSyncAheadBytes (8 MiB) written and, in
// "interval", every interval_ms, going on writing meanwhile; it collects
// that sync before it seals or abandons the segment. A watchdog thread
// completes waiters whose record has waited max_wait_ms (a stalled disk)
// with kTimedOut; the log's mutex, shared only by the writer and the
// watchdog, makes each completion happen once.
//
// Zero-ahead, in "sync" mode: the segment is extended with zeros ahead of
// the records (segment_file.h), so an fdatasync has no file size to
// journal. A batch of kZeroAheadMaxBatch bytes or more just extends the
// file, as does every batch in the other modes, which sync seldom.
//
// Gathering, in "sync" mode: when fewer records wait than half the visitors
// the last batch released, the writer waits for that many, for no longer
// than a sync takes on average (and max_gather_us); a producer counts down
// what is still needed and wakes the writer at zero. Closed-loop clients
// (keep-alive visitors, crawlers, load tests) then share a sync instead of
// alternating between small and big batches. Why each of these exists, and
// what it measured, is in bench/PROFILE.md.
//
// Failures: a failed write or fdatasync (the writer's or the syncer's)
// abandons the segment (it is cut back to its last good record and never
// synced again: after a failed fsync the page cache cannot be trusted), what
// may be lost is counted in refgate_clicks_dropped_total (the batch, or for
// a sync every record written since the last good one), its waiters
// complete with kFailed, and Healthy() is false until a batch is written
// again. The next batch starts a new segment.
//
// Thread-safety: Append, AppendDurable, Healthy and durable_seq from any
// thread; Close from one. The lock rules are GUARDED_BY / REQUIRES below.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "clicklog/click_sink.h"
#include "clicklog/format.h"
#include "clicklog/producer.h"
#include "clicklog/segment_file.h"
#include "clicklog/syncer.h"
#include "refgate/status.h"
#include "util/file_io.h"
#include "util/metrics.h"

namespace refgate::clicklog {

enum class Durability { kSync, kInterval, kNone };

// "sync", "interval" or "none".
[[nodiscard]] bool ParseDurability(std::string_view s, Durability* out);

struct Options {
  std::string dir;  // <data-dir>/clicks
  Durability durability = Durability::kSync;
  int interval_ms = 50;
  uint64_t segment_bytes = 64 << 20;
  int max_wait_ms = 1000;
  size_t max_queued = 1 << 20;  // per producer thread: records beyond this are dropped at once
  int max_gather_us = 1000;     // "sync": the longest a batch waits for more (GatherForSync)
  FileIo* io = nullptr;         // null: the real system calls
};

class ClickLog : public ClickSink {
 public:
  // Recovers the directory (see Recover), opens a fresh segment and starts
  // the writer. `notes` gets what recovery cut or removed.
  static Status Open(const Options& opt, std::unique_ptr<ClickLog>* out,
                     std::vector<std::string>* notes);
  ~ClickLog() override;  // Close()

  // A click. In "sync", with `done`, returns true and completes done with
  // the outcome (ClickSink); in the other modes nothing waits. rec.seq is
  // ignored. A record dropped at once (max_queued, closed) is counted in
  // refgate_clicks_dropped_total.
  bool Append(const ClickRecord& rec, Completion* done) override;

  // A record of any type that must be durable before its caller answers
  // (a conversion event), whatever the durability mode: the writer syncs
  // every batch that holds one. Returns true and later completes `done`
  // once, from the writer or the watchdog: kOk once the record is on disk,
  // kFailed if its write or sync failed (it may be lost), kTimedOut after
  // max_wait_ms (it may still be written) unless `until_outcome`, which
  // waits as long as the disk takes to say kOk or kFailed (a caller that
  // must know whether the record exists, and answers its own client in
  // time). Returns false, never touching `done`, when the record was
  // dropped at once (max_queued, closed).
  // REQUIRES: done != nullptr, payload.size() <= kMaxPayload.
  [[nodiscard]] bool AppendDurable(RecordType type, std::string_view payload, Completion* done,
                                   bool until_outcome = false);
  bool Healthy() const override { return healthy_.load(std::memory_order_relaxed); }

  // Writes and syncs everything appended so far, completes every waiter and
  // stops the threads. Idempotent. Appends after Close are dropped.
  void Close();

  // Sequence number of the last record written and synced (0: none yet).
  uint64_t durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }

 private:
  explicit ClickLog(const Options& opt, uint64_t next_seq);
  Producer* ThisThreadsProducer() EXCLUDES(mu_);
  enum class Enqueued { kDropped, kQueued, kWaiting };
  // Frames one record into this thread's chunk with frame(&chunk_bytes),
  // registering `done` when `wait`.
  template <typename Frame>
  Enqueued Enqueue(bool wait, Completion* done, bool until_outcome, Frame&& frame);
  void WriterLoop();
  void WatchdogLoop() EXCLUDES(mu_);
  bool HasUntaken() EXCLUDES(mu_);
  // Moves every producer's chunks to the backlog, then up to
  // kMaxBatchBytes of it (one chunk at least) into batch_, oldest first.
  void TakeBatch() EXCLUDES(mu_);
  // Producers' chunks -> backlog_, registering their waiters. Outside
  // "sync" a producer with filled chunks keeps its part-filled one (taking
  // it would wait on its lock), until closing. REQUIRES mu_.
  void StealLocked(bool part_filled = false) REQUIRES(mu_);
  struct BatchSize {
    size_t records = 0, bytes = 0;
    bool waited_on = false;  // someone waits on a record of it
  };
  // Numbers and checksums the batch's records in place.
  BatchSize NumberBatch();
  // Writes and syncs the batch; sets batch_outcome_ and what is durable.
  // Returns the batch's size in bytes, written or not.
  size_t WriteBatch();
  // The batch at the end of the segment (zeros ahead, in "sync", for a
  // small one) and, in "sync", its fdatasync. Returns 0 or an errno, with
  // *op the call that failed.
  [[nodiscard]] int WriteAndSync(size_t bytes, const char** op);
  // Bookkeeping once a batch is written: the segment's size, durability
  // ("sync"), or what is left to sync (a durable record syncs it at once).
  void Written(const BatchSize& n);
  // The batch's `bytes` at the end of the segment. Returns 0 or an errno.
  [[nodiscard]] int WriteChunks(size_t bytes);
  [[nodiscard]] bool EnsureSegment(uint64_t first_seq);
  // Closes a segment after a failure, cut to its last good record (which
  // also drops the zeros ahead). Returns whether the cut worked.
  [[nodiscard]] bool AbandonSegment();
  // Cuts the zeros ahead, syncs (if that cut or anything written is not
  // synced yet) and closes: the segment is sealed.
  void SealSegment();
  // Syncs what is written, after the background sync if one runs.
  void SyncNow();
  // A sync that took took_ns made records up to `seq` durable, `records` and
  // `bytes` of what was unsynced when it began.
  void Synced(uint64_t seq, size_t records, uint64_t bytes, int64_t took_ns);
  // Abandons the segment and counts what the failed sync covered as dropped.
  void SyncFailed(int err);
  bool Unsynced() const { return unsynced_records_ > 0; }
  // Outside "sync", after a batch or an idle spell: hands the syncer thread
  // a sync once kSyncAheadBytes are written unsynced, or in "interval" once
  // interval_ms have passed since the last sync began.
  void MaybeSyncInBackground();
  // Takes the background sync's outcome once it is done (waiting for it if
  // `wait`): a failed one is handled as SyncNow's would be.
  void CollectBackgroundSync(bool wait);
  // In "sync", before a batch: waits for half as many records as the last
  // batch released visitors, for at most a sync's time (see above).
  void GatherForSync();
  // Records appended and not yet written, all producers. With `lock_each`,
  // under each producer's lock, so that it counts every append that came
  // before (GatherForSync needs that). REQUIRES mu_ for QueuedLocked.
  size_t Queued(bool lock_each = false) EXCLUDES(mu_);
  size_t QueuedLocked(bool lock_each = false) REQUIRES(mu_);
  void Complain(const std::string& what, int err, size_t dropped);
  // Completes the batch's waiters and gives its chunks back.
  void Finish() EXCLUDES(mu_);

  // Read by every Append; written seldom (cache lines apart from the
  // writer's state, which changes with every record).
  const Options opt_;
  FileIo* const io_;
  const uint64_t id_;  // tells this log from an earlier one at the same address
  std::atomic<bool> closing_{false};
  std::atomic<bool> writer_asleep_{false};
  std::atomic<int64_t> gather_need_{0};
  std::counting_semaphore<> wake_{0};

  // Registry, writer and watchdog.
  alignas(64) Mutex mu_ ACQUIRED_BEFORE(Producer::mu);
  CondVar watchdog_cv_;
  std::vector<std::unique_ptr<Producer>> producers_ GUARDED_BY(mu_);  // grows only
  std::unordered_map<std::thread::id, Producer*> by_thread_ GUARDED_BY(mu_);
  std::deque<Chunk> backlog_ GUARDED_BY(mu_);   // taken from producers, not yet in a batch
  std::deque<Waiter> waiting_ GUARDED_BY(mu_);  // registered waiters, in batch order
  std::atomic<int64_t> busy_since_ns_{0};       // writer inside a syscall since; 0: idle
  bool stop_watchdog_ GUARDED_BY(mu_) = false;

  // Writer only.
  alignas(64) uint64_t next_seq_;
  SegmentFile segment_;
  size_t unsynced_records_ = 0;  // written since the last sync (every batch has one)
  uint64_t unsynced_bytes_ = 0;
  // The background sync asked for and not yet collected, and what it covers.
  bool bg_pending_ = false;
  size_t bg_records_ = 0;
  uint64_t bg_bytes_ = 0;
  uint64_t bg_seq_ = 0;
  int64_t last_sync_ns_ = 0;
  int64_t sync_ns_avg_ = 0;  // fdatasync's wall time, moving average
  size_t released_ = 0;      // visitors the last batch released
  int64_t last_complaint_ns_ = -2'000'000'000;
  std::vector<Chunk> batch_;
  Outcome batch_outcome_ = Outcome::kOk;  // what Finish tells the batch's waiters
  std::string buf_;                       // a small batch's chunks joined, for one write

  // Outside "sync": the syncer thread. The writer never closes fd_ while a
  // sync of it runs: SyncNow, SealSegment and a failed write collect that
  // sync first.
  std::unique_ptr<BackgroundSyncer> syncer_;

  std::atomic<bool> healthy_{true};
  std::atomic<uint64_t> durable_seq_{0};

  std::thread writer_, watchdog_;
  std::once_flag close_once_;
};

// Appends the records with AppendDurable (until_outcome as there) and waits
// until the log has all of them on disk: IOError when one failed or timed
// out (it may be lost, or written later).
Status AppendAllDurable(ClickLog* log, RecordType type, const std::vector<std::string>& payloads,
                        bool until_outcome = false);

}  // namespace refgate::clicklog
