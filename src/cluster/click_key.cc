#include "cluster/click_key.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "cluster/kv_bucket.h"
#include "util/click_id.h"

namespace refgate::cluster {
namespace {

constexpr const char* kKey = "click_key";

// The bucket's key, set to `offer` when it has none.
Status TakeOrOffer(KvBucket* bucket, const std::string& offer, std::string* out) {
  KvEntry e;
  Status s = bucket->Get(kKey, &e);
  if (s.IsNotFound()) {
    uint64_t revision = 0;
    s = bucket->Create(kKey, offer, &revision);
    if (s.ok()) e.value = offer;
    if (s.IsAlreadyExists()) s = bucket->Get(kKey, &e);  // another node came first
  }
  if (!s.ok()) return s;
  if (!ClickIdKey::IsKeyHex(e.value))
    return Status::Corruption("cluster: the bucket's click_key is not 64 hex digits");
  *out = e.value;
  return Status::OK();
}

}  // namespace

Status AgreeClickKey(const ClickKeyOptions& o) {
  if (const char* env = std::getenv("REFGATE_CLICK_KEY"); env && *env) return Status::OK();
  const std::string dir = o.data_dir + "/" + kClickKeyDir;
  std::string mine;  // this node's copy of the cluster's key
  if (Status s = ClickIdKey::ReadKeyFile(dir, false, &mine); !s.ok()) return s;
  std::string offer = mine, agreed;
  if (offer.empty()) {
    if (Status s = ClickIdKey::ReadKeyFile(o.data_dir, true, &offer); !s.ok()) return s;
  }
  // Nodes starting at once on a new cluster make the bucket at once, and
  // nats-server 2.9 can time one out then: a first start tries three times.
  Status s;
  for (int tries = 0; tries < (mine.empty() ? 3 : 1); ++tries) {
    std::unique_ptr<KvBucket> bucket;
    s = KvBucket::Open(o.servers, o.bucket, o.replicas, &bucket, o.timeout_ms);
    if (s.ok()) s = TakeOrOffer(bucket.get(), offer, &agreed);
    if (!s.IsIOError()) break;
  }
  if (s.IsIOError() && !mine.empty()) return Status::OK();  // goes on with its copy
  if (s.IsIOError()) {
    return Status::IOError(
        "cluster: a node's first start in a cluster needs NATS, to take the cluster's click key: " +
        s.ToString());
  }
  if (!s.ok()) return s;
  for (char& c : agreed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!mine.empty()) {
    if (mine == agreed) return Status::OK();
    return Status::InvalidArgument(dir + "/click.key is not the cluster's click key (bucket " +
                                   o.bucket + "): this data directory is another cluster's");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir + ": " + ec.message());
  if (s = ClickIdKey::WriteKeyFile(dir, agreed); !s.ok()) return s;
  std::printf("cluster: click key %s\n",
              agreed == offer ? "offered to the cluster" : "taken from the cluster");
  return Status::OK();
}

}  // namespace refgate::cluster
