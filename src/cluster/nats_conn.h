// NatsConn: one connection to a NATS cluster with its JetStream context,
// through libnats; the base of the codes' bucket (kv_bucket.h) and the log
// shipper (log_shipper.h). It reconnects by itself, to any of the servers,
// for ever, every 250 ms.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "refgate/status.h"

struct __natsConnection;
struct __jsCtx;
struct __natsOptions;

namespace refgate::cluster {

// libnats' status (with its last error text) as a Status: NotFound for
// NATS_NOT_FOUND, IOError otherwise.
Status FromNats(int nats_status, std::string_view what);
// Whether a JetStream write was refused because the expected last
// sequence (a KV revision, a subject's last message) was not the stream's
// (JSStreamWrongLastSequenceErrCode): another write came first.
bool WrongLastSequence(int nats_status);

class NatsConn {
 public:
  // Connects to `servers` (comma-separated nats:// URLs): IOError when no
  // server answers. Requests wait at most timeout_ms.
  static Status Open(const std::string& servers, int64_t timeout_ms,
                     std::unique_ptr<NatsConn>* out);
  ~NatsConn();

  __natsConnection* conn() const { return conn_; }
  __jsCtx* js() const { return js_; }
  // Whether the connection is up now.
  bool connected() const;
  // How often the connection was lost and made again.
  uint64_t reconnects() const { return reconnects_.load(std::memory_order_acquire); }

 private:
  NatsConn() = default;
  static void OnReconnected(__natsConnection*, void* self);
  std::atomic<uint64_t> reconnects_{0};
  __natsOptions* opts_ = nullptr;
  __natsConnection* conn_ = nullptr;
  __jsCtx* js_ = nullptr;
};

}  // namespace refgate::cluster
