#include "cluster/cluster_status.h"

#include <nats/nats.h>

#include <algorithm>
#include <memory>

#include "cluster/code_sync.h"
#include "cluster/log_shipper.h"
#include "cluster/nats_conn.h"

namespace refgate::cluster {
namespace {

// The stream's state, with its subjects when `subjects` is given; false
// (and OK) when it does not exist.
Status StreamState(jsCtx* js, const std::string& stream, const char* subjects, jsStreamInfo** out) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = subjects;
  natsStatus ns = js_GetStreamInfo(out, js, stream.c_str(), &o, nullptr);
  if (ns == NATS_NOT_FOUND) return Status::OK();
  return FromNats(ns, "stream " + stream);
}

Status LastShipped(jsCtx* js, const std::string& stream, const std::string& subject,
                   uint64_t* last) {
  natsMsg* m = nullptr;
  Status s = FromNats(js_GetLastMsg(&m, js, stream.c_str(), subject.c_str(), nullptr, nullptr),
                      "the last message of " + subject);
  const char* id = nullptr;
  *last = 0;
  if (s.ok() && natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK) {
    const std::string_view v(id);
    const size_t dash = v.rfind('-');
    if (dash != v.npos) *last = std::strtoull(std::string(v.substr(dash + 1)).c_str(), nullptr, 10);
  }
  natsMsg_Destroy(m);
  return s;
}

}  // namespace

Status ReadClusterStatus(const std::string& servers, int64_t timeout_ms, ClusterStatus* out) {
  std::unique_ptr<NatsConn> nats;
  if (Status s = NatsConn::Open(servers, timeout_ms, &nats); !s.ok()) return s;
  jsStreamInfo* codes = nullptr;
  Status s = StreamState(nats->js(), "KV_" + SyncOptions().bucket, nullptr, &codes);
  if (s.ok() && codes != nullptr) {
    out->codes_revision = codes->State.LastSeq;
    out->codes_entries = codes->State.Msgs;
  }
  jsStreamInfo_Destroy(codes);
  jsStreamInfo* log = nullptr;
  const std::string stream = ShipOptions().stream, prefix = LogSubject("");
  if (s.ok()) s = StreamState(nats->js(), stream, (prefix + "*").c_str(), &log);
  if (s.ok() && log != nullptr) {
    out->log_messages = log->State.Msgs;
    out->log_bytes = log->State.Bytes;
    for (int i = 0; log->State.Subjects && i < log->State.Subjects->Count; ++i) {
      const jsStreamStateSubject& subj = log->State.Subjects->List[i];
      NodePosition p;
      p.node_id = std::string(subj.Subject).substr(prefix.size());
      p.messages = subj.Msgs;
      if (s = LastShipped(nats->js(), stream, subj.Subject, &p.shipped); !s.ok()) break;
      out->nodes.push_back(std::move(p));
    }
  }
  jsStreamInfo_Destroy(log);
  std::sort(out->nodes.begin(), out->nodes.end(),
            [](const NodePosition& a, const NodePosition& b) { return a.node_id < b.node_id; });
  return s;
}

}  // namespace refgate::cluster
