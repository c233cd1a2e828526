// LogShipper: a cluster node's click log, shipped to the cluster's stream
// (SPEC §8). A thread reads the log's durable records in order and
// publishes them in batches to the JetStream stream REFGATE_LOG, subject
// refgate.log.<node_id>, each message the records' own checksummed bytes
// (clicklog/format.h, one after another) with "<node_id>:<first>-<last>"
// as its message id, and the subject's last stream sequence as the
// expected one, so that order holds. Where it shipped through is read
// back from the stream after every start and every failure, so
// exactly-once does not depend on the stream's duplicate window. The last
// message there must hold this log's records byte for byte: otherwise
// another process ships as this node_id (or the data directory is not
// this node's), and shipping stops, refused, rather than interleave.
//
// The shipper also keeps <data-dir>/cluster/shipped (clicklog/retention.h),
// which keeps segments not yet shipped from being deleted.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cluster/nats_conn.h"
#include "util/mutex.h"

namespace refgate::cluster {

struct ShipOptions {
  std::string servers;  // comma-separated nats:// URLs
  std::string node_id;
  std::string data_dir;  // the log is <data_dir>/clicks
  std::string stream = "REFGATE_LOG";
  int replicas = 3;
  int64_t timeout_ms = 2000;
  size_t max_batch_records = 1000;
  size_t max_batch_bytes = 512 << 10;
};

// The subject a node's records go to.
std::string LogSubject(std::string_view node_id);
// Makes the stream of every node's log (subjects refgate.log.*) unless it exists.
Status EnsureLogStream(NatsConn* nats, const std::string& stream, int replicas);

class LogShipper {
 public:
  // durable_seq: the log's records up to it are durable (and may be
  // shipped). Starts at once.
  LogShipper(ShipOptions options, std::function<uint64_t()> durable_seq);
  ~LogShipper();  // Stop()
  void Stop();

  // The seq the stream has this node's records through (0: none yet).
  uint64_t shipped() const { return shipped_.load(std::memory_order_acquire); }
  // True once shipping stopped because the stream holds records of this
  // node_id that this log did not send (SPEC §8: a second process).
  bool refused() const { return refused_.load(std::memory_order_acquire); }

 private:
  struct Batch;
  struct Cursor;
  void Run();
  Status Connect();
  // Reads where the stream has this node through; false if it refuses.
  Status Resume(bool* ok);
  // Ships one batch, or sets *idle when there is nothing to ship.
  Status ShipOne(bool* idle);
  Status Publish(const Batch& b);
  // The last message on this node's subject (*found false when none).
  Status LastMessage(Batch* out, uint64_t* seq, bool* found);
  Status Ours(const Batch& m, bool* ours);
  void CountLag(uint64_t durable, uint64_t shipped);
  // cluster/shipped, at most every second unless `force`.
  void SavePosition(bool force);
  Status WritePosition(uint64_t seq);
  void Refuse(const std::string& why);
  bool Pause(int64_t ms);

  const ShipOptions options_;
  const std::function<uint64_t()> durable_seq_;
  const std::string subject_;
  std::unique_ptr<NatsConn> nats_;  // the thread's
  std::unique_ptr<Cursor> cursor_;  // the thread's
  uint64_t expect_ = 0;             // the subject's last stream sequence (0: none)
  uint64_t saved_ = 0;              // what cluster/shipped says
  int64_t saved_at_ms_ = 0;
  int64_t behind_since_ms_ = 0;  // when the lag last became non-zero (0: none)
  std::atomic<uint64_t> shipped_{0};
  std::atomic<bool> refused_{false};
  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace refgate::cluster
