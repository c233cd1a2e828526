// RollupJob: serve's compaction, every [rollup] interval_s on a thread of
// its own (0: never). Runs are serialised with `refgate compact` by the
// compactor's file lock.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "refgate/config.h"

namespace refgate {

class RollupJob {
 public:
  explicit RollupJob(const Config& cfg);
  ~RollupJob();  // Stop()
  // Waits for a run in progress to finish; no run starts after.
  void Stop();

 private:
  void Loop();

  const Config cfg_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace refgate
