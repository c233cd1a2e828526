// The writer thread's half of ClickLog: group commit. It takes the
// producers' chunks, numbers and checksums their records, writes them to the
// segment and syncs them (in "sync", or for a durable record), hands syncs
// to the background syncer otherwise, and seals segments.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "clicklog/click_log.h"
#include "util/coding.h"
#include "util/time.h"

namespace refgate::clicklog {
namespace {

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

}  // namespace

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
  int64_t now = SteadyNanos();
  if (now - last_complaint_ns_ < 1'000'000'000) return;  // at most once a second
  last_complaint_ns_ = now;
  std::fprintf(stderr, "refgate: click log: %s: %s; %zu clicks dropped\n", what.c_str(),
               std::strerror(err), dropped);
}

ClickLog::BatchSize ClickLog::NumberBatch() {
  BatchSize n;
  for (Chunk& c : batch_) {
    n.waited_on |= !c.waiters.empty();
    for (size_t at = 0; at < c.bytes.size();) {
      char* rec = c.bytes.data() + at;
      SealRecord(rec, next_seq_++);
      at += kHeaderSize + DecodeFixed32(rec + 8);
    }
    n.records += c.records;
    n.bytes += c.bytes.size();
  }
  return n;
}

int ClickLog::WriteAndSync(size_t bytes, const char** op) {
  const bool sync = opt_.durability == Durability::kSync;
  *op = "write";
  if (sync && bytes < kZeroAheadMaxBatch) {
    if (int err = segment_.ExtendZeros(segment_.size() + bytes); err != 0) return err;
  }
  if (int err = WriteChunks(bytes); err != 0 || !sync) return err;
  *op = "fdatasync";
  const int64_t t0 = SteadyNanos();
  if (int err = segment_.Sync(); err != 0) return err;
  const int64_t took = SteadyNanos() - t0;
  sync_ns_avg_ += (took - sync_ns_avg_) / 8;
  GlobalMetrics().log_sync_latency.Observe(took / 1000);
  return 0;
}

size_t ClickLog::WriteBatch() {
  const uint64_t first = next_seq_;
  const BatchSize n = NumberBatch();
  GlobalMetrics().log_batch_size.Observe(n.records);
  if (segment_.is_open() && segment_.size() > 0 && segment_.size() + n.bytes > opt_.segment_bytes) {
    SyncNow();
    SealSegment();
  }
  const char* op = "create";
  int err = EnsureSegment(first) ? 0 : EIO;
  busy_since_ns_.store(SteadyNanos());
  if (err == 0) err = WriteAndSync(n.bytes, &op);
  busy_since_ns_.store(0);
  batch_outcome_ = err == 0 ? Outcome::kOk : Outcome::kFailed;
  if (err != 0) {
    // Never sync this segment again: cut it back to its last good record and
    // start a fresh one. If the cut worked, the sequence numbers are reused,
    // so the log stays dense. A background sync of this segment is waited
    // for first: if it failed, it has abandoned the segment already.
    CollectBackgroundSync(true);
    bool nothing_written = !segment_.is_open();  // the segment could not even be created
    if (nothing_written || AbandonSegment()) next_seq_ = first;
    healthy_.store(false);
    GlobalMetrics().clicks_dropped.Add(n.records);
    Complain(op, err, n.records);
    return n.bytes;
  }
  Written(n);
  return n.bytes;
}

void ClickLog::Written(const BatchSize& n) {
  segment_.Appended(n.bytes);
  GlobalMetrics().log_records.Add(n.records);
  GlobalMetrics().log_bytes.Add(n.bytes);
  if (opt_.durability == Durability::kSync) {
    durable_seq_.store(next_seq_ - 1, std::memory_order_release);
    healthy_.store(true);
    return;
  }
  unsynced_records_ += n.records;
  unsynced_bytes_ += n.bytes;
  // Start the disk on what is written as it comes, as RocksDB's
  // bytes_per_sync does: the next sync (interval, seal, shutdown) then
  // finds little left to write, instead of a burst of the whole interval.
  segment_.StartWritebackEvery(kWritebackBytes);
  // A record appended with AppendDurable is synced in every mode: its
  // caller acknowledges nothing before it is on disk.
  if (n.waited_on) {
    const uint64_t last = next_seq_ - 1;
    SyncNow();
    if (durable_seq() < last) {
      batch_outcome_ = Outcome::kFailed;
      return;  // SyncFailed counted it, abandoned the segment and is unhealthy
    }
  }
  healthy_.store(true);
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
  int64_t now = SteadyNanos();
  busy_since_ns_.store(now);
  int err = segment_.Sync();
  busy_since_ns_.store(0);
  last_sync_ns_ = SteadyNanos();
  if (err != 0) {
    SyncFailed(err);
    return;
  }
  Synced(next_seq_ - 1, unsynced_records_, unsynced_bytes_, last_sync_ns_ - now);
}

void ClickLog::Synced(uint64_t seq, size_t records, uint64_t bytes, int64_t took_ns) {
  GlobalMetrics().log_sync_latency.Observe(took_ns / 1000);
  durable_seq_.store(seq, std::memory_order_release);
  // What was written after the sync began is still to be synced.
  unsynced_records_ -= records;
  unsynced_bytes_ -= bytes;
}

void ClickLog::SyncFailed(int err) {
  // What the failed sync covered may be lost: count it, keep the records
  // (they may be on disk) and never sync this segment again.
  size_t lost = unsynced_records_;
  (void)AbandonSegment();  // cut or not, the records stay: no sequence number is reused
  healthy_.store(false);
  GlobalMetrics().clicks_dropped.Add(lost);
  Complain("fdatasync", err, lost);
}

void ClickLog::MaybeSyncInBackground() {
  if (!syncer_) return;  // "sync": every batch is synced by the writer
  CollectBackgroundSync(false);
  if (bg_pending_ || !Unsynced() || !segment_.is_open()) return;
  const bool due = unsynced_bytes_ >= kSyncAheadBytes ||
                   (opt_.durability == Durability::kInterval &&
                    SteadyNanos() - last_sync_ns_ >= int64_t{opt_.interval_ms} * 1'000'000);
  if (!due) return;
  bg_pending_ = true;
  bg_records_ = unsynced_records_;
  bg_bytes_ = unsynced_bytes_;
  bg_seq_ = next_seq_ - 1;
  last_sync_ns_ = SteadyNanos();
  syncer_->Start(segment_.fd());
}

void ClickLog::CollectBackgroundSync(bool wait) {
  if (!bg_pending_) return;
  int err;
  int64_t took_ns;
  // Waiting on a sync that stalls is the writer stuck in a syscall: the
  // watchdog must see it, or records appended meanwhile would wait with it.
  if (wait) busy_since_ns_.store(SteadyNanos());
  const bool collected = syncer_->Collect(wait, &err, &took_ns);
  if (wait) busy_since_ns_.store(0);
  if (!collected) return;
  bg_pending_ = false;
  if (err != 0) {
    SyncFailed(err);
    return;
  }
  Synced(bg_seq_, bg_records_, bg_bytes_, took_ns);
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

}  // namespace refgate::clicklog
