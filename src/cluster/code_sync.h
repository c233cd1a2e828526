// CodeSync: a cluster node's codes (SPEC §8). The admin API writes them to
// the cluster's key-value bucket (SharedCodes, compare-and-set on each
// code's revision); a thread follows the bucket's feed and applies every
// change to this node's CodeStore, with the revision applied up to in the
// same write, so that a restart resumes from it. Redirects read the local
// store only: they go on while NATS is unreachable, and so does the
// thread, reconnecting and resuming by itself.
//
// A bucket whose newest revision is below the one applied here (deleted
// and made again) is read again from its start.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "admin/shared_codes.h"
#include "cluster/kv_bucket.h"
#include "store/code_store.h"
#include "util/mutex.h"

namespace refgate::cluster {

struct SyncOptions {
  std::string servers;  // comma-separated nats:// URLs
  std::string bucket = "refgate_codes";
  int replicas = 3;
  int64_t timeout_ms = 2000;  // a request to NATS waits at most this long
};

class CodeSync final : public SharedCodes {
 public:
  // Starts following the bucket at once; `store` must outlive the object.
  CodeSync(SyncOptions options, CodeStore* store);
  ~CodeSync() override;  // Stop()
  void Stop();

  Status Create(const CodeRecord& rec, uint64_t* revision) override;
  Status Read(std::string_view code, CodeRecord* rec, uint64_t* revision) override;
  Status Replace(const CodeRecord& rec, uint64_t last, uint64_t* revision) override;
  void AwaitApplied(uint64_t revision) override;

  // Whether the bucket is open and NATS answers.
  bool connected() const;
  // The bucket revision this node's store has applied up to.
  uint64_t applied() const;

 private:
  void Run();
  // Opens the bucket; false while NATS is unreachable (or stopping).
  bool Connect();
  // Applies the feed from the store's revision on until an error, a
  // reconnection or Stop.
  Status Follow();
  Status ApplyBatch(const std::vector<KvEntry>& entries);
  // The bucket while connected, else null (and *unavailable says why).
  KvBucket* Bucket(Status* unavailable) const;
  // Sleeps up to `ms`; false once stopping.
  bool Pause(int64_t ms);
  bool stopping() const;

  const SyncOptions options_;
  CodeStore* const store_;
  mutable Mutex mu_;
  CondVar changed_;                                   // applied_, bucket_ or stopping_
  std::unique_ptr<KvBucket> bucket_ GUARDED_BY(mu_);  // set once, then never replaced
  uint64_t applied_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace refgate::cluster
