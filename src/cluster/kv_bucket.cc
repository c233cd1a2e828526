#include "cluster/kv_bucket.h"

#include <nats/nats.h>

#include <string>
#include <vector>

namespace refgate::cluster {
namespace {

void Fill(kvEntry* e, KvEntry* out) {
  out->key = kvEntry_Key(e);
  out->value.assign(static_cast<const char*>(kvEntry_Value(e)), kvEntry_ValueLen(e));
  out->revision = kvEntry_Revision(e);
  out->deleted = kvEntry_Operation(e) != kvOp_Put;
}

}  // namespace

Status KvBucket::Open(const std::string& servers, const std::string& bucket, int replicas,
                      std::unique_ptr<KvBucket>* out, int64_t timeout_ms) {
  std::unique_ptr<KvBucket> b(new KvBucket());
  b->bucket_ = bucket;
  if (Status s = NatsConn::Open(servers, timeout_ms, &b->nats_); !s.ok()) return s;
  b->js_ = b->nats_->js();
  natsStatus ns = js_KeyValue(&b->kv_, b->js_, bucket.c_str());
  if (ns == NATS_NOT_FOUND) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = bucket.c_str();
    cfg.History = 1;
    cfg.Replicas = replicas;
    ns = js_CreateKeyValue(&b->kv_, b->js_, &cfg);
    // Another node made it at the same moment ("subjects overlap with an
    // existing stream"): bind the one it made.
    if (ns != NATS_OK) ns = js_KeyValue(&b->kv_, b->js_, bucket.c_str());
  }
  if (Status s = FromNats(ns, "bucket " + bucket); !s.ok()) return s;
  *out = std::move(b);
  return Status::OK();
}

KvBucket::~KvBucket() { kvStore_Destroy(kv_); }

bool KvBucket::connected() const { return nats_->connected(); }

Status KvBucket::LastRevision(uint64_t* out) {
  jsStreamInfo* si = nullptr;
  Status s = FromNats(js_GetStreamInfo(&si, js_, ("KV_" + bucket_).c_str(), nullptr, nullptr),
                      "stream info " + bucket_);
  *out = s.ok() ? si->State.LastSeq : 0;
  jsStreamInfo_Destroy(si);
  return s;
}

Status KvBucket::Create(std::string_view key, std::string_view value, uint64_t* revision) {
  const std::string k(key);
  natsStatus s =
      kvStore_Create(revision, kv_, k.c_str(), value.data(), static_cast<int>(value.size()));
  if (WrongLastSequence(s)) return Status::AlreadyExists(k);
  const Status failed = FromNats(s, "create " + k);
  // kvStore_Create looks the key up itself after a refusal, which can leave
  // another error as the last one: a key that exists now was made by
  // someone else (codes are never deleted from the bucket, only tombstoned).
  kvEntry* e = nullptr;
  if (s == NATS_ERR && kvStore_Get(&e, kv_, k.c_str()) == NATS_OK) {
    kvEntry_Destroy(e);
    return Status::AlreadyExists(k);
  }
  return failed;
}

Status KvBucket::Update(std::string_view key, std::string_view value, uint64_t last,
                        uint64_t* revision) {
  const std::string k(key);
  natsStatus s =
      kvStore_Update(revision, kv_, k.c_str(), value.data(), static_cast<int>(value.size()), last);
  if (WrongLastSequence(s))
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

Status KvBucket::Watch(uint64_t after_revision, std::unique_ptr<KvWatcher>* out) {
  const std::string prefix = "$KV." + bucket_ + ".";
  jsSubOptions so;
  jsSubOptions_Init(&so);
  const std::string stream = "KV_" + bucket_;
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy =
      after_revision == 0 ? js_DeliverLastPerSubject : js_DeliverByStartSequence;
  so.Config.OptStartSeq = after_revision == 0 ? 0 : after_revision + 1;
  natsSubscription* sub = nullptr;
  Status s = FromNats(js_SubscribeSync(&sub, js_, (prefix + ">").c_str(), nullptr, &so, nullptr),
                      "watch " + bucket_);
  if (s.ok()) out->reset(new KvWatcher(sub, prefix));
  return s;
}

KvWatcher::~KvWatcher() { natsSubscription_Destroy(sub_); }

Status KvWatcher::Next(int64_t timeout_ms, KvEntry* out, bool* got, bool* caught_up) {
  natsMsg* m = nullptr;
  natsStatus ns = natsSubscription_NextMsg(&m, sub_, timeout_ms);
  *got = false;
  if (ns == NATS_TIMEOUT) return Status::OK();
  if (Status s = FromNats(ns, "watch"); !s.ok()) return s;
  jsMsgMetaData* meta = nullptr;
  Status s = FromNats(natsMsg_GetMetaData(&meta, m), "watch metadata");
  if (s.ok()) {
    const std::string_view subject = natsMsg_GetSubject(m);
    out->key = subject.substr(std::min(subject.size(), prefix_.size()));
    out->value.assign(natsMsg_GetData(m), natsMsg_GetDataLength(m));
    out->revision = meta->Sequence.Stream;
    const char* op = nullptr;  // "DEL" or "PURGE" on a marker; none on a put
    out->deleted = natsMsgHeader_Get(m, "KV-Operation", &op) == NATS_OK;
    *caught_up = meta->NumPending == 0;
    *got = true;
  }
  jsMsgMetaData_Destroy(meta);
  natsMsg_Destroy(m);
  return s;
}

}  // namespace refgate::cluster
