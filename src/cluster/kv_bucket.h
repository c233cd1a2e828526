// A NATS JetStream key-value bucket through libnats (SPEC §8): where a
// cluster's codes live, written by compare-and-set, read by every node from
// its watch feed (cluster/code_sync.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/nats_conn.h"
#include "refgate/status.h"

struct __kvStore;
struct __natsSubscription;

namespace refgate::cluster {

struct KvEntry {
  std::string key, value;
  uint64_t revision = 0;
  bool deleted = false;  // a delete or purge marker
};

// The bucket's changes in revision order (KvBucket::Watch), on an ordered
// JetStream consumer of the bucket's stream, so that a node can resume
// from the last revision it applied.
class KvWatcher {
 public:
  ~KvWatcher();
  // Waits up to timeout_ms for the next entry: OK with *got set, or with
  // *got false on a timeout. *caught_up turns true with an entry after
  // which the stream held nothing more when it was sent.
  Status Next(int64_t timeout_ms, KvEntry* out, bool* got, bool* caught_up);

 private:
  friend class KvBucket;
  KvWatcher(__natsSubscription* sub, std::string prefix) : sub_(sub), prefix_(std::move(prefix)) {}
  __natsSubscription* sub_;
  std::string prefix_;  // "$KV.<bucket>.", before each key in the subjects
};

// Thread-safety: libnats objects may be used from several threads.
class KvBucket {
 public:
  // Connects to `servers` (comma-separated nats:// URLs) and binds
  // `bucket`, creating it (with `replicas` copies, keeping one revision a
  // key) when it does not exist. IOError when no server answers. Once
  // open, the connection reconnects by itself (to any of the servers, for
  // ever); requests wait at most `timeout_ms`.
  static Status Open(const std::string& servers, const std::string& bucket, int replicas,
                     std::unique_ptr<KvBucket>* out, int64_t timeout_ms = 2000);
  ~KvBucket();

  // Whether the connection is up now.
  bool connected() const;
  // How often the connection was lost and made again.
  uint64_t reconnects() const { return nats_->reconnects(); }
  // The bucket's newest revision (0: empty).
  Status LastRevision(uint64_t* out);

  // Sets `key` only if it has no value (never set, or deleted):
  // AlreadyExists when it has one.
  Status Create(std::string_view key, std::string_view value, uint64_t* revision);
  // Sets `key` only if its latest revision is `last`: AlreadyExists when
  // another write came first.
  Status Update(std::string_view key, std::string_view value, uint64_t last, uint64_t* revision);
  // The key's latest value; NotFound when it has none.
  Status Get(std::string_view key, KvEntry* out);
  Status Delete(std::string_view key);
  // after_revision 0: every key's latest entry, then each change; else
  // every change after that revision (which the stream must still hold:
  // with a history of 1, a key's older revisions are gone once replaced).
  Status Watch(uint64_t after_revision, std::unique_ptr<KvWatcher>* out);

 private:
  KvBucket() = default;
  std::string bucket_;
  std::unique_ptr<NatsConn> nats_;
  __jsCtx* js_ = nullptr;  // nats_'s
  __kvStore* kv_ = nullptr;
};

}  // namespace refgate::cluster
