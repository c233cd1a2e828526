// BackgroundSyncer: the click log's "clicklog-sync" thread. Outside "sync"
// the writer hands it an fdatasync of the segment (every 8 MiB, and every
// interval_ms in "interval") and goes on writing; the disk's write cache
// then never holds a whole segment when the segment is sealed.
//
// One sync at a time: the writer Starts one, and Collects it before it
// starts another or closes the file (a file is never closed under a sync).
// Thread-safety: Start and Collect are called by one thread (the writer);
// the syncer thread is this object's own.
#pragma once

#include <cstdint>
#include <thread>

#include "util/file_io.h"
#include "util/mutex.h"

namespace refgate::clicklog {

class BackgroundSyncer {
 public:
  explicit BackgroundSyncer(FileIo* io);  // starts the thread
  ~BackgroundSyncer();                    // stops it, after the sync in hand
  BackgroundSyncer(const BackgroundSyncer&) = delete;
  BackgroundSyncer& operator=(const BackgroundSyncer&) = delete;

  // Starts a sync of `fd`. REQUIRES: the last one was collected.
  void Start(int fd) EXCLUDES(mu_);
  // The started sync's result: false while it runs and !wait; else true,
  // with its errno (0: synced) and wall time.
  [[nodiscard]] bool Collect(bool wait, int* err, int64_t* took_ns) EXCLUDES(mu_);

 private:
  void Loop() EXCLUDES(mu_);

  FileIo* const io_;
  Mutex mu_;
  CondVar cv_;
  int fd_ GUARDED_BY(mu_) = -1;        // to sync; -1: nothing asked for
  bool done_ GUARDED_BY(mu_) = false;  // the sync of fd_ returned err_ after took_ns_
  int err_ GUARDED_BY(mu_) = 0;
  int64_t took_ns_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace refgate::clicklog
