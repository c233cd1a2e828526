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

uint64_t NextLogId() {
  static std::atomic<uint64_t> last{0};
  return ++last;
}

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
  // Before the writer starts: it reads syncer_ from its first batch on.
  if (opt.durability != Durability::kSync) {
    log->syncer_ = std::make_unique<BackgroundSyncer>(log->io_);
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
ClickLog::Enqueued ClickLog::Enqueue(bool wait, Completion* done, bool until_outcome,
                                     Frame&& frame) {
  Producer* p = ThisThreadsProducer();
  int64_t now = wait ? SteadyNanos() : 0;
  {
    MutexLock lock(&p->mu);
    // closing_ is read under the lock (see WriterLoop).
    if (p->Queued() >= opt_.max_queued || closing_.load()) return Enqueued::kDropped;
    p->appended.store(p->appended.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    frame(&p->chunk.bytes);
    ++p->chunk.records;
    if (wait) p->chunk.waiters.push_back({done, now, until_outcome});
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
      Enqueue(wait, done, false, [&rec](std::string* chunk) { AppendUnsealedClick(chunk, rec); });
  if (q == Enqueued::kDropped) GlobalMetrics().clicks_dropped.Add();
  return q == Enqueued::kWaiting;
}

bool ClickLog::AppendDurable(RecordType type, std::string_view payload, Completion* done,
                             bool until_outcome) {
  const Enqueued q = Enqueue(true, done, until_outcome, [type, payload](std::string* chunk) {
    AppendUnsealedRecord(chunk, type, payload);
  });
  return q == Enqueued::kWaiting;
}

Status AppendAllDurable(ClickLog* log, RecordType type, const std::vector<std::string>& payloads,
                        bool until_outcome) {
  struct Wait final : Completion {
    Mutex mu;
    CondVar cv;
    size_t left GUARDED_BY(mu) = 0;
    bool failed GUARDED_BY(mu) = false;
    void Complete(Outcome o) override {
      MutexLock lock(&mu);
      failed |= o != Outcome::kOk;
      if (--left == 0) cv.SignalAll();
    }
  } wait;
  {
    MutexLock lock(&wait.mu);
    wait.left = payloads.size();
  }
  if (payloads.empty()) return Status::OK();
  for (const std::string& payload : payloads) {
    if (!log->AppendDurable(type, payload, &wait, until_outcome)) wait.Complete(Outcome::kFailed);
  }
  MutexLock lock(&wait.mu);
  while (wait.left > 0) wait.cv.Wait(&wait.mu);
  return wait.failed ? Status::IOError("click log: a record could not be written") : Status::OK();
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

void ClickLog::StealLocked(bool part_filled) {
  // Outside "sync" a producer with filled chunks keeps its part-filled one
  // (until closing): taking it would wait on its lock, and seldom does
  // anyone wait on it.
  part_filled |= opt_.durability == Durability::kSync || closing_.load();
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
  GlobalMetrics().log_queue_depth.store(static_cast<int64_t>(QueuedLocked()),
                                        std::memory_order_relaxed);
}

void ClickLog::WatchdogLoop() {
  const int64_t max_wait = int64_t{opt_.max_wait_ms} * 1'000'000;
  MutexLock lock(&mu_);
  while (!stop_watchdog_) {
    int64_t now = SteadyNanos();
    // A writer stuck in write or fdatasync cannot take the queue; take it
    // here so the visitors waiting in it are seen.
    int64_t busy = busy_since_ns_.load();
    // Every chunk: a durable record outside "sync" may wait in a part-filled one.
    if (busy != 0 && now - busy > max_wait / 4) StealLocked(/*part_filled=*/true);
    int64_t next = now + max_wait / 4;
    for (Waiter& w : waiting_) {  // in order per producer only, so all of them
      if (!w.done || w.until_outcome) continue;
      int64_t deadline = w.enqueued_ns + max_wait;
      if (deadline > now) {
        next = std::min(next, deadline);
        continue;
      }
      w.done->Complete(Outcome::kTimedOut);
      w.done = nullptr;
      GlobalMetrics().log_released.Add();
    }
    watchdog_cv_.WaitFor(&mu_, std::chrono::nanoseconds(std::max<int64_t>(next - now, 100000)));
  }
}

}  // namespace refgate::clicklog
