// ClickLog: the durable, segmented, checksummed click log (SPEC §4); a
// ClickSink for the redirect path.
//
// Threads: any number of producers call Append; it pushes onto a lock-free
// multi-producer stack and never blocks. One writer thread takes everything
// queued, assigns sequence numbers, and writes it with one write(2) and, in
// "sync" mode, one fdatasync(2): group commit. A watchdog thread releases
// visitors whose record has waited max_wait_ms (a stalled disk); a mutex
// shared only by the writer and the watchdog makes each release happen once.
//
// Zero-ahead: the segment is extended with zeros 1 MiB at a time ahead of
// the records, and records overwrite them in place. An fdatasync then has
// no file size to journal (on ext4 that halved the I/Os per sync). Sealing
// cuts the unused zeros off, so only the newest segment ever ends in zeros,
// and readers take that as its end.
//
// Failures: a failed write or fdatasync abandons the segment (it is cut
// back to its last good record and never synced again: after a failed fsync
// the page cache cannot be trusted), the batch is counted in
// refgate_clicks_dropped_total, and Healthy() is false until a batch is
// written and synced again. The next batch starts a new segment.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "clicklog/click_sink.h"
#include "clicklog/segment_io.h"
#include "refgate/status.h"
#include "util/metrics.h"

namespace refgate::clicklog {

enum class Durability { kSync, kInterval, kNone };

// "sync", "interval" or "none".
bool ParseDurability(std::string_view s, Durability* out);

struct Options {
  std::string dir;  // <data-dir>/clicks
  Durability durability = Durability::kSync;
  int interval_ms = 50;
  uint64_t segment_bytes = 64 << 20;
  int max_wait_ms = 1000;
  size_t max_queued = 1 << 20;  // records beyond this are dropped at once
  SegmentIo* io = nullptr;      // null: the real system calls
};

class ClickLog : public ClickSink {
 public:
  // Recovers the directory (see Recover), opens a fresh segment and starts
  // the writer. `notes` gets what recovery cut or removed.
  static Status Open(const Options& opt, std::unique_ptr<ClickLog>* out,
                     std::vector<std::string>* notes);
  ~ClickLog() override;  // Close()

  bool Append(ClickRecord&& rec, Completion* done) override;  // rec.seq is not set
  bool Healthy() const override { return healthy_.load(std::memory_order_relaxed); }

  // Writes and syncs everything appended so far, completes every waiter and
  // stops the threads. Idempotent. Appends after Close are dropped.
  void Close();

  // Sequence number of the last record written and synced (0: none yet).
  uint64_t durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }

 private:
  // One allocation per record: this header, then the encoded payload.
  struct Node {
    Completion* done;  // guarded by mu_ once registered
    int64_t enqueued_ns;
    Node* next;
    uint32_t size;
    char* payload() { return reinterpret_cast<char*>(this + 1); }
    static Node* Make(std::string_view payload, Completion* done, int64_t now_ns);
    static void Free(Node* n);
  };

  explicit ClickLog(const Options& opt, uint64_t next_seq);
  void WriterLoop();
  void WatchdogLoop();
  // Takes the backlog and the queue, oldest first, registering waiters.
  std::vector<Node*> TakeBatch();
  void StealLocked();  // queue -> backlog_, REQUIRES mu_
  void WriteBatch(const std::vector<Node*>& batch);
  bool EnsureSegment(uint64_t first_seq);
  // Closes a segment after a failure, cut to its last good record (which
  // also drops the zeros ahead). Returns whether the cut worked.
  bool AbandonSegment();
  // Cuts the zeros ahead, syncs and closes: the segment is sealed.
  void SealSegment();
  int ExtendZeros(uint64_t needed);
  void SyncIfDue(bool force);
  void Complain(const std::string& what, int err, size_t dropped);
  void Finish(const std::vector<Node*>& batch);

  const Options opt_;
  SegmentIo* const io_;
  uint64_t next_seq_;

  // Producers.
  std::atomic<Node*> head_{nullptr};
  std::atomic<size_t> queued_{0};
  std::counting_semaphore<> wake_{0};
  std::atomic<bool> closing_{false};
  std::atomic<bool> writer_asleep_{false};

  // Writer and watchdog.
  std::mutex mu_;
  std::condition_variable watchdog_cv_;
  std::deque<Node*> backlog_;  // stolen from the queue while the writer was busy
  std::deque<Node*> waiting_;  // nodes with a waiter, oldest first
  std::atomic<int64_t> busy_since_ns_{0};  // writer inside a syscall since; 0: idle
  bool stop_watchdog_ = false;

  // Writer only.
  int fd_ = -1;
  std::string segment_path_;
  uint64_t segment_size_ = 0;  // bytes of records
  uint64_t zeroed_ = 0;        // bytes the file has: records, then zeros
  bool unsynced_ = false;
  size_t unsynced_records_ = 0;
  int64_t last_sync_ns_ = 0;
  int64_t last_complaint_ns_ = -2'000'000'000;
  std::string buf_;

  std::atomic<bool> healthy_{true};
  std::atomic<uint64_t> durable_seq_{0};

  std::thread writer_, watchdog_;
  std::once_flag close_once_;
};

}  // namespace refgate::clicklog
