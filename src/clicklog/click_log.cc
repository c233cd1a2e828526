#include "clicklog/click_log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "clicklog/format.h"
#include "clicklog/recovery.h"

namespace refgate::clicklog {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Metrics& M() { return GlobalMetrics(); }

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

ClickLog::Node* ClickLog::Node::Make(std::string_view payload, Completion* done, int64_t now_ns) {
  void* mem = ::operator new(sizeof(Node) + payload.size());
  Node* n = new (mem) Node{done, now_ns, nullptr, static_cast<uint32_t>(payload.size())};
  std::memcpy(n->payload(), payload.data(), payload.size());
  return n;
}

void ClickLog::Node::Free(Node* n) {
  n->~Node();
  ::operator delete(n);
}

ClickLog::ClickLog(const Options& opt, uint64_t next_seq)
    : opt_(opt), io_(opt.io ? opt.io : DefaultSegmentIo()), next_seq_(next_seq) {}

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
  log->writer_ = std::thread([p = log.get()] { p->WriterLoop(); });
  log->watchdog_ = std::thread([p = log.get()] { p->WatchdogLoop(); });
  *out = std::move(log);
  return Status::OK();
}

ClickLog::~ClickLog() { Close(); }

bool ClickLog::Append(ClickRecord&& rec, Completion* done) {
  // queued_ counts records from here until the writer finishes them, so the
  // writer's final drain waits for an Append that has passed this check.
  if (queued_.fetch_add(1) >= opt_.max_queued || closing_.load()) {
    queued_.fetch_sub(1);
    M().clicks_dropped.Add();
    return false;
  }
  bool wait = done != nullptr && opt_.durability == Durability::kSync;
  // Encode here, on the producer: the record's strings are freed on the
  // thread that made them and one block crosses to the writer.
  thread_local std::string payload;
  EncodeClick(rec, &payload);
  Node* n = Node::Make(payload, wait ? done : nullptr, SteadyNs());
  Node* old = head_.load(std::memory_order_relaxed);
  do {
    n->next = old;
  } while (!head_.compare_exchange_weak(old, n, std::memory_order_release,
                                        std::memory_order_relaxed));
  // Wake the writer only if it sleeps: a futex call per record would cost
  // more than the record. (seq_cst pairs with the writer's store and load.)
  if (old == nullptr && writer_asleep_.load()) wake_.release();
  return wait;
}

void ClickLog::Close() {
  std::call_once(close_once_, [this] {
    closing_.store(true);
    wake_.release();  // unconditionally: the writer may be about to sleep
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard lock(mu_);
      stop_watchdog_ = true;
    }
    watchdog_cv_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
  });
}

void ClickLog::StealLocked() {
  Node* list = head_.exchange(nullptr, std::memory_order_acquire);
  Node* fifo = nullptr;
  while (list) {
    Node* next = list->next;
    list->next = fifo;
    fifo = list;
    list = next;
  }
  for (Node* n = fifo; n; n = n->next) {
    backlog_.push_back(n);
    if (n->done) waiting_.push_back(n);
  }
}

std::vector<ClickLog::Node*> ClickLog::TakeBatch() {
  std::lock_guard lock(mu_);
  StealLocked();
  std::vector<Node*> batch(backlog_.begin(), backlog_.end());
  backlog_.clear();
  return batch;
}

void ClickLog::WriterLoop() {
  for (;;) {
    std::vector<Node*> batch = TakeBatch();
    if (!batch.empty()) {
      WriteBatch(batch);
      Finish(batch);
      continue;
    }
    if (closing_.load()) {
      if (queued_.load() == 0) break;
      std::this_thread::yield();  // an Append is between its check and its push
      continue;
    }
    SyncIfDue(false);
    auto wait = std::chrono::milliseconds(100);
    if (opt_.durability == Durability::kInterval && unsynced_) {
      wait = std::chrono::milliseconds(opt_.interval_ms);
    }
    // Announce the sleep, then look once more: a producer that pushed before
    // seeing the flag is caught here, one that pushed after it wakes us.
    writer_asleep_.store(true);
    if (head_.load() == nullptr && !closing_.load()) {
      (void)wake_.try_acquire_for(wait);  // woken by work or by the timeout alike
    }
    writer_asleep_.store(false);
  }
  SyncIfDue(true);  // a clean shutdown syncs in every mode
  SealSegment();
}

bool ClickLog::EnsureSegment(uint64_t first_seq) {
  if (fd_ >= 0) return true;
  segment_path_ = opt_.dir + "/" + SegmentName(first_seq);
  int err = io_->Create(segment_path_, &fd_);
  if (err == 0) err = io_->SyncDir(opt_.dir);
  if (err != 0) {
    if (fd_ >= 0) io_->Close(fd_);
    fd_ = -1;
    Complain("create " + segment_path_, err, 0);
    return false;
  }
  segment_size_ = 0;
  zeroed_ = 0;
  return true;
}

bool ClickLog::AbandonSegment() {
  bool cut = io_->Truncate(fd_, segment_size_) == 0;
  io_->Close(fd_);
  fd_ = -1;
  if (cut && segment_size_ == 0) unlink(segment_path_.c_str());
  unsynced_ = false;
  unsynced_records_ = 0;
  return cut;
}

void ClickLog::SealSegment() {
  if (fd_ < 0) return;
  int err = zeroed_ > segment_size_ ? io_->Truncate(fd_, segment_size_) : 0;
  if (err == 0) err = io_->Sync(fd_);
  if (err != 0) Complain("seal " + segment_path_, err, 0);
  io_->Close(fd_);
  fd_ = -1;
  unsynced_ = false;
}

int ClickLog::ExtendZeros(uint64_t needed) {
  static const std::string kZeros(1 << 20, '\0');
  while (zeroed_ < needed) {
    int err = io_->Write(fd_, kZeros.data(), kZeros.size(), zeroed_);
    if (err != 0) return err;
    zeroed_ += kZeros.size();
  }
  return 0;
}

void ClickLog::Complain(const std::string& what, int err, size_t dropped) {
  int64_t now = SteadyNs();
  if (now - last_complaint_ns_ < 1'000'000'000) return;  // at most once a second
  last_complaint_ns_ = now;
  std::fprintf(stderr, "refgate: click log: %s: %s; %zu clicks dropped\n", what.c_str(),
               std::strerror(err), dropped);
}

void ClickLog::WriteBatch(const std::vector<Node*>& batch) {
  const uint64_t first = next_seq_;
  buf_.clear();
  for (Node* n : batch) {
    AppendRecord(&buf_, kClick, next_seq_++, std::string_view(n->payload(), n->size));
  }
  M().log_batch_size.Observe(batch.size());
  if (fd_ >= 0 && segment_size_ > 0 && segment_size_ + buf_.size() > opt_.segment_bytes) {
    SyncIfDue(true);
    SealSegment();
  }
  int err = EnsureSegment(first) ? 0 : EIO;
  const bool sync = opt_.durability == Durability::kSync;
  busy_since_ns_.store(SteadyNs());
  if (err == 0) err = ExtendZeros(segment_size_ + buf_.size());
  if (err == 0) err = io_->Write(fd_, buf_.data(), buf_.size(), segment_size_);
  const char* op = "write";
  int64_t t0 = SteadyNs();
  if (err == 0 && sync) {
    op = "fdatasync";
    err = io_->Sync(fd_);
  }
  if (sync && err == 0) M().log_sync_latency.Observe((SteadyNs() - t0) / 1000);
  busy_since_ns_.store(0);
  if (err != 0) {
    // Never sync this segment again: cut it back to its last good record and
    // start a fresh one. If the cut worked, the sequence numbers are reused,
    // so the log stays dense.
    bool nothing_written = fd_ < 0;  // the segment could not even be created
    if (nothing_written || AbandonSegment()) next_seq_ = first;
    healthy_.store(false);
    M().clicks_dropped.Add(batch.size());
    Complain(op, err, batch.size());
    return;
  }
  segment_size_ += buf_.size();
  M().log_records.Add(batch.size());
  M().log_bytes.Add(buf_.size());
  if (sync) {
    durable_seq_.store(next_seq_ - 1, std::memory_order_release);
  } else {
    unsynced_ = true;
    unsynced_records_ += batch.size();
  }
  healthy_.store(true);
}

void ClickLog::SyncIfDue(bool force) {
  if (!unsynced_ || fd_ < 0) return;
  int64_t now = SteadyNs();
  if (!force) {
    if (opt_.durability != Durability::kInterval) return;
    if (now - last_sync_ns_ < int64_t{opt_.interval_ms} * 1'000'000) return;
  }
  busy_since_ns_.store(now);
  int err = io_->Sync(fd_);
  busy_since_ns_.store(0);
  last_sync_ns_ = SteadyNs();
  if (err != 0) {
    // What the failed sync covered may be lost: count it, keep the records
    // (they may be on disk) and never sync this segment again.
    size_t lost = unsynced_records_;
    AbandonSegment();
    healthy_.store(false);
    M().clicks_dropped.Add(lost);
    Complain("fdatasync", err, lost);
    return;
  }
  M().log_sync_latency.Observe((last_sync_ns_ - now) / 1000);
  durable_seq_.store(next_seq_ - 1, std::memory_order_release);
  unsynced_ = false;
  unsynced_records_ = 0;
}

void ClickLog::Finish(const std::vector<Node*>& batch) {
  {
    std::lock_guard lock(mu_);
    for (Node* n : batch) {
      if (waiting_.empty() || waiting_.front() != n) continue;
      waiting_.pop_front();
      if (n->done) n->done->Complete();
      n->done = nullptr;
    }
  }
  for (Node* n : batch) Node::Free(n);
  queued_.fetch_sub(batch.size());
  M().log_queue_depth.store(static_cast<int64_t>(queued_.load()), std::memory_order_relaxed);
}

void ClickLog::WatchdogLoop() {
  const int64_t max_wait = int64_t{opt_.max_wait_ms} * 1'000'000;
  std::unique_lock lock(mu_);
  while (!stop_watchdog_) {
    int64_t now = SteadyNs();
    // A writer stuck in write or fdatasync cannot take the queue; take it
    // here so the visitors waiting in it are seen.
    int64_t busy = busy_since_ns_.load();
    if (busy != 0 && now - busy > max_wait / 4) StealLocked();
    int64_t next = now + max_wait / 4;
    for (Node* n : waiting_) {
      if (!n->done) continue;
      int64_t deadline = n->enqueued_ns + max_wait;
      if (deadline > now) {  // FIFO: every later one is later still
        next = std::min(next, deadline);
        break;
      }
      n->done->Complete();
      n->done = nullptr;
      M().log_released.Add();
    }
    watchdog_cv_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(next - now, 100000)));
  }
}

}  // namespace refgate::clicklog
