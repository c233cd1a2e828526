// Deliverer: serve's thread that delivers the webhooks the compaction job
// owes (rollup/outbox.h) to [webhooks] url (SPEC §7).
//
// The outbox is the rollup state's: this keeps only its position, in
// <data-dir>/webhooks: the generation of the outbox it follows, a cursor
// (every entry below it is done) and the entries done above it. An entry
// is done once delivered (2xx), given up (24 hours after its first
// attempt), or of a type [webhooks] events leaves out. The outbox keeps an
// entry two days by the log's clock: one not read by then (serve down that
// long) is given up unsent, and counted so.
//
// Order per referrer: only the first entry of each referrer that is not
// done may be attempted, so a failing one holds back that referrer's later
// entries and no one else's. Attempts are made one at a time: a receiver
// that never answers costs timeout_ms per referrer waiting, per pass. The
// name's resolution is not bounded by timeout_ms (getaddrinfo). A failed attempt is retried after 1
// s, then 2, 4, ... up to an hour between attempts. At least once: a crash after a delivery and
// before its position is written delivers it again, with the same id; a restart otherwise goes on
// where it was.
//
// Redirects and compaction never wait on it: it reads the state through a
// read-only handle, on its own thread, and only when the state's files
// changed (or a retry is due).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "refgate/status.h"
#include "rollup/outbox.h"
#include "store/state_db.h"
#include "util/time.h"
#include "webhooks/sender.h"

namespace refgate::webhooks {

struct Options {
  std::string data_dir;
  Target target;
  std::vector<std::string> secrets;
  std::vector<std::string> events;  // the types delivered
  int timeout_ms = 5000;
  int poll_ms = 1000;                  // how often the state's files are looked at
  int64_t give_up_us = kMicrosPerDay;  // after an entry's first attempt
  int first_retry_ms = 1000;
  int max_retry_ms = 3600'000;
};

class Deliverer {
 public:
  static Status Open(const Options& opt, std::unique_ptr<Deliverer>* out);
  ~Deliverer();  // Stop()
  // Ends the attempt in progress (at most timeout_ms) and the thread.
  void Stop();

 private:
  struct Pending {
    rollup::OutboxEntry entry;
    int attempts = 0;
    int64_t first_ns = 0;  // steady clock: the first attempt
    int64_t next_ns = 0;   // steady clock: not before
  };
  Deliverer(const Options& opt, std::unique_ptr<StateDb> db);
  Status LoadPosition();
  void Loop();
  // Reads the outbox past what was read, when the state's files changed.
  Status Refill();
  void Take(std::vector<rollup::OutboxEntry>* entries);
  // Attempts what is due; returns when the next attempt is due (steady ns).
  int64_t AttemptDue();
  void Attempt(Pending* p);
  void Done(uint64_t seq);
  void DoneRange(uint64_t from, uint64_t to);  // [from, to)
  void UpdateOldest();

  const Options opt_;
  std::unique_ptr<StateDb> db_;  // <data-dir>/webhooks: the position
  Sender sender_;
  uint64_t generation_ = 0, cursor_ = 1;
  std::set<uint64_t> done_;             // above the cursor
  std::map<uint64_t, Pending> window_;  // entries read, not done, by seq
  std::string files_seen_;              // the state's files when last read
  uint64_t read_next_ = 1;              // the next seq to read
  bool more_ = false;                   // the last read stopped at the window's size
  std::string last_error_;              // printed once until it changes

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace refgate::webhooks
