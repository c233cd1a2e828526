// A NATS JetStream key-value bucket through libnats (SPEC §8): where a
// cluster's codes will live, written by compare-and-set, read by every node
// from its watch feed. The first step of cluster mode; nothing serves from
// it yet.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "refgate/status.h"

struct __natsConnection;
struct __jsCtx;
struct __kvStore;
struct __kvWatcher;

namespace refgate::cluster {

struct KvEntry {
  std::string key, value;
  uint64_t revision = 0;
  bool deleted = false;  // a delete or purge marker
};

// Every key's latest entry, then each change as it is made, in revision
// order (KvBucket::Watch).
class KvWatcher {
 public:
  ~KvWatcher();
  // Waits up to timeout_ms for the next entry: OK with *got set, or with
  // *got false on a timeout. *initial_done turns true once every entry that
  // existed at the watch's start was given.
  Status Next(int64_t timeout_ms, KvEntry* out, bool* got, bool* initial_done);

 private:
  friend class KvBucket;
  explicit KvWatcher(__kvWatcher* w) : w_(w) {}
  __kvWatcher* w_;
};

// Thread-safety: libnats objects may be used from several threads.
class KvBucket {
 public:
  // Connects to `servers` (comma-separated nats:// URLs) and binds
  // `bucket`, creating it (with `replicas` copies, keeping one revision a
  // key) when it does not exist. IOError when no server answers.
  static Status Open(const std::string& servers, const std::string& bucket, int replicas,
                     std::unique_ptr<KvBucket>* out);
  ~KvBucket();

  // Sets `key` only if it has no value (never set, or deleted):
  // AlreadyExists when it has one.
  Status Create(std::string_view key, std::string_view value, uint64_t* revision);
  // Sets `key` only if its latest revision is `last`: AlreadyExists when
  // another write came first.
  Status Update(std::string_view key, std::string_view value, uint64_t last, uint64_t* revision);
  // The key's latest value; NotFound when it has none.
  Status Get(std::string_view key, KvEntry* out);
  Status Delete(std::string_view key);
  Status Watch(std::unique_ptr<KvWatcher>* out);

 private:
  KvBucket() = default;
  __natsConnection* conn_ = nullptr;
  __jsCtx* js_ = nullptr;
  __kvStore* kv_ = nullptr;
};

}  // namespace refgate::cluster
