// LogMerger: the rollup node's copy of the cluster's stream (SPEC §8). A
// thread consumes REFGATE_LOG (log_shipper.h) through a durable pull
// consumer and appends each message, as one kShipped record
// (clicklog/format.h) holding the node id and its records as their node's
// log framed them, to a click log of its own, <data-dir>/cluster/log. The
// compaction job rolls that log up (CompactOptions::cluster), so the rollup
// node counts every node's records with the code that counts one node's.
//
// Exactly once, by (node, seq): a message is acknowledged only once its
// record is on disk, and the copy itself says how far it holds each node,
// so a message delivered again (a restart, an acknowledgment lost) is
// dropped, or cut to the records the copy lacks; that depends neither on
// the consumer's acknowledgments nor on the stream's duplicate window. A
// message that would leave a gap in a node's records, or that refgate did
// not send, stops the merger (refused) rather than count around it. A
// node's first message may start anywhere (its log may have lost older
// segments to retention before it joined).
//
// Each record is one write of the copy, whole or absent after a crash. A
// write that fails stops merging (refused) until a restart, which reads the
// copy again and refuses to start on a copy with a hole in a node's records.
// <data-dir>/cluster/merged says each node's position as of record M of the
// copy ("M" then "node seq" lines); a start reads the records after M for
// the rest, and the compaction job keeps those segments (retention.h).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "clicklog/click_log.h"
#include "cluster/nats_conn.h"
#include "util/mutex.h"

namespace refgate::cluster {

struct MergeOptions {
  std::string servers;   // comma-separated nats:// URLs
  std::string data_dir;  // the copy is <data_dir>/cluster/log
  std::string stream = "REFGATE_LOG";
  std::string consumer = "refgate-rollup";
  int replicas = 3;  // of the stream, if the merger makes it
  int64_t timeout_ms = 2000;
  int fetch = 64;  // messages asked for at once (each up to 512 KiB)
};

class LogMerger {
 public:
  // Opens the copy and finds each node's position in it, then starts.
  static Status Open(MergeOptions options, std::unique_ptr<LogMerger>* out);
  ~LogMerger();  // Stop()
  void Stop();

  // Each node's last seq the copy holds (or is writing now).
  std::map<std::string, uint64_t> positions() const EXCLUDES(mu_);
  // The copy's last durable record.
  uint64_t merged_seq() const { return merged_.load(std::memory_order_acquire); }
  // True once merging stopped at a message it must not pass.
  bool refused() const { return refused_.load(std::memory_order_acquire); }

 private:
  explicit LogMerger(MergeOptions options);
  Status Recover();
  void Run();
  Status Connect();
  // Fetches what the consumer has, appends it, acknowledges it.
  Status MergeSome();
  // The kShipped payload for a message of `node`, cut to what the copy
  // lacks ("" when it has it all). False (and refused) when it must not pass.
  bool Take(const std::string& node, std::string_view records, std::string* payload,
            uint64_t* last);
  void SavePositions(bool force);
  void Refuse(const std::string& why);
  bool Pause(int64_t ms);

  const MergeOptions options_;
  std::unique_ptr<clicklog::ClickLog> log_;
  std::unique_ptr<NatsConn> nats_;  // the thread's
  struct Subscription;
  std::unique_ptr<Subscription> sub_;  // the thread's
  uint64_t saved_ = 0;                 // the M of cluster/merged
  int64_t saved_at_ms_ = 0;
  std::atomic<bool> refused_{false};
  std::atomic<uint64_t> merged_{0};
  bool failed_ = false;  // a write of the copy failed: cluster/merged is never written again
  mutable Mutex mu_;
  CondVar wake_;
  std::map<std::string, uint64_t> positions_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace refgate::cluster
