#include "cluster/kv_bucket.h"

#include <nats/nats.h>

#include <string>

namespace refgate::cluster {
namespace {

// libnats' status and its last error text as a Status.
Status FromNats(natsStatus s, std::string_view what) {
  if (s == NATS_OK) return Status::OK();
  std::string msg = std::string(what) + ": " + natsStatus_GetText(s);
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') {
    msg += std::string(" (") + last + ")";
  }
  return s == NATS_NOT_FOUND ? Status::NotFound(msg) : Status::IOError(msg);
}

// JetStream refused a write whose expected revision was not the key's
// (JSStreamWrongLastSequenceErrCode): another write came first.
bool WrongRevision(natsStatus s) {
  if (s != NATS_ERR) return false;
  const char* last = nats_GetLastError(nullptr);
  return last != nullptr &&
         std::string_view(last).find("wrong last sequence") != std::string_view::npos;
}

void Fill(kvEntry* e, KvEntry* out) {
  out->key = kvEntry_Key(e);
  out->value.assign(static_cast<const char*>(kvEntry_Value(e)), kvEntry_ValueLen(e));
  out->revision = kvEntry_Revision(e);
  out->deleted = kvEntry_Operation(e) != kvOp_Put;
}

}  // namespace

Status KvBucket::Open(const std::string& servers, const std::string& bucket, int replicas,
                      std::unique_ptr<KvBucket>* out) {
  std::unique_ptr<KvBucket> b(new KvBucket());
  Status s = FromNats(natsConnection_ConnectTo(&b->conn_, servers.c_str()), "connect");
  if (s.ok()) s = FromNats(natsConnection_JetStream(&b->js_, b->conn_, nullptr), "jetstream");
  if (!s.ok()) return s;
  natsStatus ns = js_KeyValue(&b->kv_, b->js_, bucket.c_str());
  if (ns == NATS_NOT_FOUND) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = bucket.c_str();
    cfg.History = 1;
    cfg.Replicas = replicas;
    ns = js_CreateKeyValue(&b->kv_, b->js_, &cfg);
  }
  if (s = FromNats(ns, "bucket " + bucket); !s.ok()) return s;
  *out = std::move(b);
  return Status::OK();
}

KvBucket::~KvBucket() {
  kvStore_Destroy(kv_);
  jsCtx_Destroy(js_);
  natsConnection_Destroy(conn_);
}

Status KvBucket::Create(std::string_view key, std::string_view value, uint64_t* revision) {
  const std::string k(key);
  natsStatus s =
      kvStore_Create(revision, kv_, k.c_str(), value.data(), static_cast<int>(value.size()));
  if (WrongRevision(s)) return Status::AlreadyExists(k);
  return FromNats(s, "create " + k);
}

Status KvBucket::Update(std::string_view key, std::string_view value, uint64_t last,
                        uint64_t* revision) {
  const std::string k(key);
  natsStatus s =
      kvStore_Update(revision, kv_, k.c_str(), value.data(), static_cast<int>(value.size()), last);
  if (WrongRevision(s))
    return Status::AlreadyExists(k + ": changed since revision " + std::to_string(last));
  return FromNats(s, "update " + k);
}

Status KvBucket::Get(std::string_view key, KvEntry* out) {
  const std::string k(key);
  kvEntry* e = nullptr;
  Status s = FromNats(kvStore_Get(&e, kv_, k.c_str()), "get " + k);
  if (s.ok()) Fill(e, out);
  kvEntry_Destroy(e);
  return s;
}

Status KvBucket::Delete(std::string_view key) {
  const std::string k(key);
  return FromNats(kvStore_Delete(kv_, k.c_str()), "delete " + k);
}

Status KvBucket::Watch(std::unique_ptr<KvWatcher>* out) {
  kvWatcher* w = nullptr;
  Status s = FromNats(kvStore_WatchAll(&w, kv_, nullptr), "watch");
  if (s.ok()) out->reset(new KvWatcher(w));
  return s;
}

KvWatcher::~KvWatcher() { kvWatcher_Destroy(w_); }

Status KvWatcher::Next(int64_t timeout_ms, KvEntry* out, bool* got, bool* initial_done) {
  kvEntry* e = nullptr;
  natsStatus s = kvWatcher_Next(&e, w_, timeout_ms);
  *got = false;
  if (s == NATS_TIMEOUT) return Status::OK();
  if (Status st = FromNats(s, "watch"); !st.ok()) return st;
  if (e == nullptr) {  // the marker after the initial values
    *initial_done = true;
    return Status::OK();
  }
  Fill(e, out);
  kvEntry_Destroy(e);
  *got = true;
  return Status::OK();
}

}  // namespace refgate::cluster
