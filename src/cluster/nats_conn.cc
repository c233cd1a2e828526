#include "cluster/nats_conn.h"

#include <nats/nats.h>

#include <vector>

namespace refgate::cluster {

Status FromNats(int nats_status, std::string_view what) {
  const auto s = static_cast<natsStatus>(nats_status);
  if (s == NATS_OK) return Status::OK();
  std::string msg = std::string(what) + ": " + natsStatus_GetText(s);
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') {
    msg += std::string(" (") + last + ")";
  }
  return s == NATS_NOT_FOUND ? Status::NotFound(msg) : Status::IOError(msg);
}

bool WrongLastSequence(int nats_status) {
  if (nats_status != NATS_ERR) return false;
  const char* last = nats_GetLastError(nullptr);
  return last != nullptr &&
         std::string_view(last).find("wrong last sequence") != std::string_view::npos;
}

Status NatsConn::Open(const std::string& servers, int64_t timeout_ms,
                      std::unique_ptr<NatsConn>* out) {
  std::unique_ptr<NatsConn> c(new NatsConn());
  std::vector<std::string> urls;  // SetURL takes one: a list goes through SetServers
  for (size_t at = 0; at <= servers.size();) {
    const size_t comma = std::min(servers.find(',', at), servers.size());
    if (comma > at) urls.push_back(servers.substr(at, comma - at));
    at = comma + 1;
  }
  std::vector<const char*> list;
  for (const std::string& u : urls) list.push_back(u.c_str());
  natsStatus ns = natsOptions_Create(&c->opts_);
  natsOptions* o = c->opts_;
  if (ns == NATS_OK) ns = natsOptions_SetServers(o, list.data(), static_cast<int>(list.size()));
  if (ns == NATS_OK) ns = natsOptions_SetTimeout(o, timeout_ms);
  if (ns == NATS_OK) ns = natsOptions_SetMaxReconnect(o, -1);
  if (ns == NATS_OK) ns = natsOptions_SetReconnectWait(o, 250);
  if (ns == NATS_OK) ns = natsOptions_SetPingInterval(o, 2000);
  if (ns == NATS_OK) ns = natsOptions_SetReconnectedCB(o, &NatsConn::OnReconnected, c.get());
  Status s = FromNats(ns, "options");
  if (s.ok()) s = FromNats(natsConnection_Connect(&c->conn_, o), "connect " + servers);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = timeout_ms;
  if (s.ok()) s = FromNats(natsConnection_JetStream(&c->js_, c->conn_, &jo), "jetstream");
  if (s.ok()) *out = std::move(c);
  return s;
}

NatsConn::~NatsConn() {
  jsCtx_Destroy(js_);
  natsConnection_Destroy(conn_);
  natsOptions_Destroy(opts_);
}

void NatsConn::OnReconnected(natsConnection*, void* self) {
  static_cast<NatsConn*>(self)->reconnects_.fetch_add(1, std::memory_order_release);
}

bool NatsConn::connected() const {
  return conn_ != nullptr && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace refgate::cluster
