#include "clicklog/click_log.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "clicklog/format.h"
#include "clicklog/recovery.h"
#include "util/coding.h"
#include "util/time.h"

namespace refgate::clicklog {
namespace {

int64_t SteadyNs() { return SteadyNanos(); }

Metrics& M() { return GlobalMetrics(); }

uint64_t NextLogId() {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

// Batches this big are written without zero-ahead (see click_log.h).
constexpr size_t kZeroAheadMaxBatch = 256 << 10;

// Smaller batches are joined into one buffer for one write; bigger ones are
// written a chunk at a time, as copying them would cost more than the calls.
constexpr size_t kJoinBelowBytes = 64 << 10;

// Outside "sync", how long the writer lets records gather after a small batch.
constexpr auto kGatherPause = std::chrono::milliseconds(1);

// Outside "sync", written bytes are sent on to the disk this many at a time.
constexpr uint64_t kWritebackBytes = 1 << 20;

// Outside "sync", the syncer thread syncs the segment once this many bytes
// were written since the last sync (see click_log.h).
constexpr uint64_t kSyncAheadBytes = 8 << 20;

// A batch takes at most this much of the backlog (and at least one chunk),
// so its chunks come back to be reused while a burst is still being written.
constexpr size_t kMaxBatchBytes = 8 << 20;

}  // namespace

bool ParseDurability(std::string_view s, Durability* out) {
  if (s == "sync") {
    *out = Durability::kSync;
  } else if (s == "interval") {
    *out = Durability::kInterval;
  } else if (s == "none") {
    *out = Durability::kNone;
  } else {
    return false;
  }
  return true;
}

ClickLog::ClickLog(const Options& opt, uint64_t next_seq)
    : opt_(opt),
      io_(opt.io ? opt.io : DefaultFileIo()),
      id_(NextLogId()),
      next_seq_(next_seq),
      segment_(opt.dir, io_) {}

Status ClickLog::Open(const Options& opt, std::unique_ptr<ClickLog>* out,
                      std::vector<std::string>* notes) {
  RecoveryResult r;
  Status s = Recover(opt.dir, &r);
  if (!s.ok()) return s;
  *notes = r.notes;
  std::unique_ptr<ClickLog> log(new ClickLog(opt, r.next_seq));
  log->durable_seq_ = r.next_seq - 1;
  if (!log->EnsureSegment(r.next_seq)) {
    return Status::IOError("cannot create a segment in " + opt.dir);
  }
  // Named for top -H and perf.
  log->writer_ = std::thread([p = log.get()] {
    pthread_setname_np(pthread_self(), "clicklog-write");
    p->WriterLoop();
  });
  log->watchdog_ = std::thread([p = log.get()] {
    pthread_setname_np(pthread_self(), "clicklog-watch");
    p->WatchdogLoop();
  });
  if (opt.durability != Durability::kSync) {
    log->syncer_ = std::make_unique<BackgroundSyncer>(log->io_);
  }
  *out = std::move(log);
  return Status::OK();
}

ClickLog::~ClickLog() { Close(); }

Producer* ClickLog::ThisThreadsProducer() {
  thread_local uint64_t cached_log = 0;
  thread_local Producer* cached = nullptr;
  if (cached_log == id_) return cached;
  MutexLock lock(&mu_);
  Producer*& p = by_thread_[std::this_thread::get_id()];
  if (p == nullptr) p = producers_.emplace_back(std::make_unique<Producer>()).get();
  cached_log = id_;
  cached = p;
  return p;
}

template <typename Frame>
ClickLog::Enqueued ClickLog::Enqueue(bool wait, Completion* done, Frame&& frame) {
  Producer* p = ThisThreadsProducer();
  int64_t now = wait ? SteadyNs() : 0;
  {
    MutexLock lock(&p->mu);
    // closing_ is read under the lock (see WriterLoop).
    if (p->Queued() >= opt_.max_queued || closing_.load()) return Enqueued::kDropped;
    p->appended.store(p->appended.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    frame(&p->chunk.bytes);
    ++p->chunk.records;
    if (wait) p->chunk.waiters.push_back({done, now});
    p->SwapIfFull();
  }
  // Wake the writer only if it sleeps, and only once: a futex call per
  // record would cost more than the record. (seq_cst pairs with the
  // writer's store, then its look at every chunk.)
  if (writer_asleep_.load() && writer_asleep_.exchange(false)) wake_.release();
  // The writer may be gathering records for its next sync (GatherForSync).
  if (gather_need_.load() > 0 && gather_need_.fetch_sub(1) == 1) wake_.release();
  return wait ? Enqueued::kWaiting : Enqueued::kQueued;
}

bool ClickLog::Append(const ClickRecord& rec, Completion* done) {
  const bool wait = done != nullptr && opt_.durability == Durability::kSync;
  const Enqueued q =
      Enqueue(wait, done, [&rec](std::string* chunk) { AppendUnsealedClick(chunk, rec); });
  if (q == Enqueued::kDropped) M().clicks_dropped.Add();
  return q == Enqueued::kWaiting;
}

bool ClickLog::AppendDurable(RecordType type, std::string_view payload, Completion* done) {
  const Enqueued q = Enqueue(true, done, [type, payload](std::string* chunk) {
    AppendUnsealedRecord(chunk, type, payload);
  });
  return q == Enqueued::kWaiting;
}

void ClickLog::Close() {
  std::call_once(close_once_, [this] {
    closing_.store(true);
    wake_.release();  // unconditionally: the writer may be about to sleep
    if (writer_.joinable()) writer_.join();
    {
      MutexLock lock(&mu_);
      stop_watchdog_ = true;
    }
    watchdog_cv_.SignalAll();
    if (watchdog_.joinable()) watchdog_.join();
    syncer_.reset();  // the writer has collected its last sync
  });
}

void ClickLog::StealLocked() {
  // Outside "sync" a producer with filled chunks keeps its part-filled one
  // (until closing): taking it would wait on its lock, and no one waits on it.
  const bool part_filled = opt_.durability == Durability::kSync || closing_.load();
  for (auto& p : producers_) {
    const size_t before = backlog_.size();
    p->Take(part_filled, &backlog_);
    for (size_t i = before; i < backlog_.size(); ++i) {
      Chunk& c = backlog_[i];
      c.owner = p.get();
      waiting_.insert(waiting_.end(), c.waiters.begin(), c.waiters.end());
    }
  }
}

void ClickLog::TakeBatch() {
  MutexLock lock(&mu_);
  StealLocked();
  // A batch never fills more than a segment, unless it is one chunk.
  const size_t limit = std::min<uint64_t>(kMaxBatchBytes, opt_.segment_bytes);
  size_t bytes = 0;
  while (!backlog_.empty() && (bytes == 0 || bytes + backlog_.front().bytes.size() <= limit)) {
    bytes += backlog_.front().bytes.size();
    batch_.push_back(std::move(backlog_.front()));
    backlog_.pop_front();
  }
}

bool ClickLog::HasUntaken() {
  MutexLock lock(&mu_);
  for (auto& p : producers_) {
    if (p->HasUntaken()) return true;
  }
  return !backlog_.empty();
}

void ClickLog::WriterLoop() {
  for (;;) {
    // Appends check closing_ under their producer's lock, and TakeBatch
    // takes every lock after this load: once closing, an empty take means
    // nothing more can come.
    const bool closing = closing_.load();
    if (opt_.durability == Durability::kSync && !closing) GatherForSync();
    TakeBatch();
    if (!batch_.empty()) {
      const size_t bytes = WriteBatch();
      Finish();
      MaybeSyncInBackground();  // "interval" is due by the clock, busy or not
      // Outside "sync" no visitor waits: after a small batch, let records
      // gather a moment instead of chasing the producers a few records at a
      // time (every take moves their lock and chunk to the writer's core).
      if (opt_.durability != Durability::kSync && bytes < kJoinBelowBytes && !closing_.load()) {
        (void)wake_.try_acquire_for(kGatherPause);  // only Close releases it meanwhile
      }
      continue;
    }
    if (closing) break;
    MaybeSyncInBackground();
    auto wait = std::chrono::milliseconds(100);
    if (opt_.durability == Durability::kInterval && Unsynced()) {
      wait = std::chrono::milliseconds(opt_.interval_ms);
    }
    // Announce the sleep, then look once more: a producer that appended
    // before seeing the flag is caught here, one that appended after it
    // wakes us.
    released_ = 0;  // after an idle spell the last batch says nothing of the next
    writer_asleep_.store(true);
    if (!HasUntaken() && !closing_.load()) {
      (void)wake_.try_acquire_for(wait);  // woken by work or by the timeout alike
    }
    writer_asleep_.store(false);
  }
  SyncNow();  // a clean shutdown syncs in every mode
  SealSegment();
}

bool ClickLog::EnsureSegment(uint64_t first_seq) {
  if (segment_.is_open()) return true;
  if (int err = segment_.Create(first_seq); err != 0) {
    Complain("create " + segment_.path(), err, 0);
    return false;
  }
  unsynced_bytes_ = 0;
  return true;
}

bool ClickLog::AbandonSegment() {
  unsynced_records_ = 0;
  unsynced_bytes_ = 0;
  return segment_.Abandon();
}

void ClickLog::SealSegment() {
  CollectBackgroundSync(true);
  if (!segment_.is_open()) return;
  const std::string path = segment_.path();
  if (int err = segment_.Seal(Unsynced()); err != 0) Complain("seal " + path, err, 0);
  unsynced_records_ = 0;
  unsynced_bytes_ = 0;
}

void ClickLog::Complain(const std::string& what, int err, size_t dropped) {
  int64_t now = SteadyNs();
  if (now - last_complaint_ns_ < 1'000'000'000) return;  // at most once a second
  last_complaint_ns_ = now;
  std::fprintf(stderr, "refgate: click log: %s: %s; %zu clicks dropped\n", what.c_str(),
               std::strerror(err), dropped);
}

size_t ClickLog::WriteBatch() {
  const uint64_t first = next_seq_;
  size_t records = 0, bytes = 0;
  bool waited_on = false;  // outside "sync", only a durable append waits
  for (Chunk& c : batch_) {
    waited_on |= !c.waiters.empty();
    for (size_t at = 0; at < c.bytes.size();) {
      char* rec = c.bytes.data() + at;
      SealRecord(rec, next_seq_++);
      at += kHeaderSize + DecodeFixed32(rec + 8);
    }
    records += c.records;
    bytes += c.bytes.size();
  }
  M().log_batch_size.Observe(records);
  if (segment_.is_open() && segment_.size() > 0 && segment_.size() + bytes > opt_.segment_bytes) {
    SyncNow();
    SealSegment();
  }
  int err = EnsureSegment(first) ? 0 : EIO;
  const bool sync = opt_.durability == Durability::kSync;
  busy_since_ns_.store(SteadyNs());
  if (err == 0 && sync && bytes < kZeroAheadMaxBatch) {
    err = segment_.ExtendZeros(segment_.size() + bytes);
  }
  if (err == 0) err = WriteChunks(bytes);
  const char* op = "write";
  int64_t t0 = SteadyNs();
  if (err == 0 && sync) {
    op = "fdatasync";
    err = segment_.Sync();
  }
  if (sync && err == 0) {
    const int64_t took = SteadyNs() - t0;
    sync_ns_avg_ += (took - sync_ns_avg_) / 8;
    M().log_sync_latency.Observe(took / 1000);
  }
  busy_since_ns_.store(0);
  if (err != 0) {
    // Never sync this segment again: cut it back to its last good record and
    // start a fresh one. If the cut worked, the sequence numbers are reused,
    // so the log stays dense. A background sync of this segment is waited
    // for first: if it failed, it has abandoned the segment already.
    CollectBackgroundSync(true);
    bool nothing_written = !segment_.is_open();  // the segment could not even be created
    if (nothing_written || AbandonSegment()) next_seq_ = first;
    healthy_.store(false);
    M().clicks_dropped.Add(records);
    Complain(op, err, records);
    batch_outcome_ = Outcome::kFailed;
    return bytes;
  }
  segment_.Appended(bytes);
  M().log_records.Add(records);
  M().log_bytes.Add(bytes);
  batch_outcome_ = Outcome::kOk;
  if (sync) {
    durable_seq_.store(next_seq_ - 1, std::memory_order_release);
  } else {
    unsynced_records_ += records;
    unsynced_bytes_ += bytes;
    // Start the disk on what is written as it comes, as RocksDB's
    // bytes_per_sync does: the next sync (interval, seal, shutdown) then
    // finds little left to write, instead of a burst of the whole interval.
    segment_.StartWritebackEvery(kWritebackBytes);
    // A record appended with AppendDurable is synced in every mode: its
    // caller acknowledges nothing before it is on disk.
    if (waited_on) {
      const uint64_t last = next_seq_ - 1;
      SyncNow();
      if (durable_seq() < last) {
        batch_outcome_ = Outcome::kFailed;
        return bytes;  // SyncFailed counted it and abandoned the segment
      }
    }
  }
  healthy_.store(true);
  return bytes;
}

int ClickLog::WriteChunks(size_t bytes) {
  if (batch_.size() == 1 || bytes < kJoinBelowBytes) {
    std::string_view out = batch_.front().bytes;
    if (batch_.size() > 1) {
      buf_.clear();
      for (const Chunk& c : batch_) buf_ += c.bytes;
      out = buf_;
    }
    return segment_.Write(segment_.size(), out.data(), out.size());
  }
  uint64_t at = segment_.size();
  for (Chunk& c : batch_) {
    if (int err = segment_.Write(at, c.bytes.data(), c.bytes.size()); err != 0) return err;
    at += c.bytes.size();
    // No visitor waits on it: its producer may have it back now rather
    // than once the whole batch is written, so a burst needs fewer chunks.
    if (c.waiters.empty()) c.owner->GiveBack(c);
  }
  return 0;
}

void ClickLog::SyncNow() {
  CollectBackgroundSync(true);
  if (!Unsynced() || !segment_.is_open()) return;
  int64_t now = SteadyNs();
  busy_since_ns_.store(now);
  int err = segment_.Sync();
  busy_since_ns_.store(0);
  last_sync_ns_ = SteadyNs();
  if (err != 0) {
    SyncFailed(err);
    return;
  }
  Synced(next_seq_ - 1, unsynced_records_, unsynced_bytes_, last_sync_ns_ - now);
}

void ClickLog::Synced(uint64_t seq, size_t records, uint64_t bytes, int64_t took_ns) {
  M().log_sync_latency.Observe(took_ns / 1000);
  durable_seq_.store(seq, std::memory_order_release);
  // What was written after the sync began is still to be synced.
  unsynced_records_ -= records;
  unsynced_bytes_ -= bytes;
}

void ClickLog::SyncFailed(int err) {
  // What the failed sync covered may be lost: count it, keep the records
  // (they may be on disk) and never sync this segment again.
  size_t lost = unsynced_records_;
  AbandonSegment();
  healthy_.store(false);
  M().clicks_dropped.Add(lost);
  Complain("fdatasync", err, lost);
}

void ClickLog::MaybeSyncInBackground() {
  if (!syncer_) return;  // "sync": every batch is synced by the writer
  CollectBackgroundSync(false);
  if (bg_pending_ || !Unsynced() || !segment_.is_open()) return;
  const bool due = unsynced_bytes_ >= kSyncAheadBytes ||
                   (opt_.durability == Durability::kInterval &&
                    SteadyNs() - last_sync_ns_ >= int64_t{opt_.interval_ms} * 1'000'000);
  if (!due) return;
  bg_pending_ = true;
  bg_records_ = unsynced_records_;
  bg_bytes_ = unsynced_bytes_;
  bg_seq_ = next_seq_ - 1;
  last_sync_ns_ = SteadyNs();
  syncer_->Start(segment_.fd());
}

void ClickLog::CollectBackgroundSync(bool wait) {
  if (!bg_pending_) return;
  int err;
  int64_t took_ns;
  if (!syncer_->Collect(wait, &err, &took_ns)) return;
  bg_pending_ = false;
  if (err != 0) {
    SyncFailed(err);
    return;
  }
  Synced(bg_seq_, bg_records_, bg_bytes_, took_ns);
}

size_t ClickLog::QueuedLocked(bool lock_each) {
  size_t n = 0;
  for (auto& p : producers_) {
    if (lock_each) {
      MutexLock plock(&p->mu);
      n += p->Queued();
    } else {
      n += p->Queued();
    }
  }
  return n;
}

size_t ClickLog::Queued(bool lock_each) {
  MutexLock lock(&mu_);
  return QueuedLocked(lock_each);
}

void ClickLog::GatherForSync() {
  const size_t target = released_ / 2;
  if (target == 0) return;
  size_t queued = Queued();
  if (queued >= target) return;
  // Producers count down from here and the one that reaches zero wakes us.
  // A producer counted in `queued` may count down too, so this undercounts
  // what is still needed: the wait ends early, never late. Looking at the
  // queue again after the store (every producer's lock, as in HasUntaken)
  // catches a producer that appended before it saw the store.
  gather_need_.store(static_cast<int64_t>(target - queued));
  const auto wait =
      std::chrono::nanoseconds(std::min<int64_t>(sync_ns_avg_, int64_t{opt_.max_gather_us} * 1000));
  if (Queued(true) < target && !closing_.load()) (void)wake_.try_acquire_for(wait);
  gather_need_.store(0);  // a late count-down may leave a permit: one early wake, no harm
}

void ClickLog::Finish() {
  MutexLock lock(&mu_);
  released_ = 0;
  for (Chunk& c : batch_) {
    released_ += c.waiters.size();
    // The batch's waiters were registered first and in this order; the
    // watchdog may have completed some already.
    for (size_t i = 0; i < c.waiters.size(); ++i) {
      if (Completion* done = waiting_.front().done) done->Complete(batch_outcome_);
      waiting_.pop_front();
    }
    if (c.owner != nullptr) c.owner->GiveBack(c);  // else given back once written
  }
  batch_.clear();
  M().log_queue_depth.store(static_cast<int64_t>(QueuedLocked()), std::memory_order_relaxed);
}

void ClickLog::WatchdogLoop() {
  const int64_t max_wait = int64_t{opt_.max_wait_ms} * 1'000'000;
  MutexLock lock(&mu_);
  while (!stop_watchdog_) {
    int64_t now = SteadyNs();
    // A writer stuck in write or fdatasync cannot take the queue; take it
    // here so the visitors waiting in it are seen.
    int64_t busy = busy_since_ns_.load();
    if (busy != 0 && now - busy > max_wait / 4) StealLocked();
    int64_t next = now + max_wait / 4;
    for (Waiter& w : waiting_) {  // in order per producer only, so all of them
      if (!w.done) continue;
      int64_t deadline = w.enqueued_ns + max_wait;
      if (deadline > now) {
        next = std::min(next, deadline);
        continue;
      }
      w.done->Complete(Outcome::kTimedOut);
      w.done = nullptr;
      M().log_released.Add();
    }
    watchdog_cv_.WaitFor(&mu_, std::chrono::nanoseconds(std::max<int64_t>(next - now, 100000)));
  }
}

}  // namespace refgate::clicklog
