// EventIndex: exactly-once intake of conversion events (SPEC §6).
//
// The click log is the truth; this index (a StateDb under <data-dir>/events)
// is what lets POST /api/v1/events answer a retry without reading the log:
// event_id -> the digest of its body (clicklog::EventDigest) and its payload.
//
// A post of a new event_id is appended to the log as a kEvent record that
// must be durable (ClickLog::AppendDurable, never timed out by the log's
// watchdog, so its real fate is always learnt); once the log says it is on
// disk, its index entry is committed (not synced: the log has the event,
// and the synced watermark commit below makes every entry before it
// durable) and only then is kRecorded answered. That commit runs where
// CompleteOn says (serve: the admin listener's I/O thread, which wakes to
// send the answers anyway), else on the indexer thread. A post of an event_id being recorded waits
// for that first post and answers kReplayed (or kUnavailable if it failed); with another body it is
// kConflict at once, as is any later post of a recorded id with another body. So two concurrent
// posts of one id give one kRecorded and one kReplayed, and the log holds one record.
//
// Crash safety: an event whose record reached the log but whose index entry
// did not (a crash in between) is found again at the next Open, which
// re-reads the log from the index's watermark: the log's seq through which
// every event is in the index. The indexer moves the watermark every
// checkpoint_ms with epochs: it reads the log's durable seq X and opens a
// new epoch; posts of the old epoch are the only ones whose records can be
// at or below X, so once they have all ended (indexed, or failed), X is
// committed. Compaction keeps every segment past the watermark (Watermark).
//
// A disk that stalls: the poster is answered kUnavailable after
// answer_timeout_ms, but the event stays in flight until the log says what
// became of it; posts of its id meanwhile get kUnavailable too, and once it
// is indexed a retry is kReplayed. Counted once, never twice, never zero
// times.
//
// Thread-safety: Post, Get, Healthy from any thread; Close from one.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "clicklog/click_log.h"
#include "refgate/event_record.h"
#include "refgate/status.h"
#include "store/state_db.h"
#include "util/mutex.h"

namespace refgate::events {

struct Options {
  std::string dir;      // <data-dir>/events
  std::string log_dir;  // <data-dir>/clicks
  int answer_timeout_ms = 1000;
  int checkpoint_ms = 1000;
};

enum class Result { kRecorded, kReplayed, kConflict, kUnavailable };

class EventIndex {
 public:
  // Opens (or creates) the index and indexes every event the log holds past
  // the watermark. `log` must outlive the index; it is opened first (its
  // recovery cuts torn tails) and closed before the index.
  static Status Open(const Options& opt, clicklog::ClickLog* log, std::unique_ptr<EventIndex>* out,
                     std::vector<std::string>* notes);
  ~EventIndex();  // Close()

  using Reply = std::function<void(Result)>;
  // Records `e` unless its event_id was recorded or is being recorded.
  // Returns the result when it is known at once (reply is then never
  // called); else null, and reply is called once, later, from another
  // thread (CompleteOn's, the indexer's, or another Post's).
  // REQUIRES: e was validated (ParseEvent).
  [[nodiscard]] std::optional<Result> Post(const EventRecord& e, Reply reply);

  // The recorded event; NotFound when its id was never recorded.
  Status Get(std::string_view event_id, EventRecord* e) const;

  // The admin API's other money writes (campaign rules, payouts): each
  // appends its record itself (synchronously, on the admin thread), between
  // BeginWrite and EndWrite, so the watermark never passes a record whose
  // entry is not committed yet.
  int BeginWrite() EXCLUDES(mu_);
  void EndWrite(int epoch) EXCLUDES(mu_);
  // A campaign's current rules; NotFound when it has none of its own.
  Status GetCampaign(std::string_view campaign, clicklog::CampaignChange* c) const;
  // After its kCampaign record is durable.
  Status CommitCampaign(const clicklog::CampaignChange& c);
  // A recorded payout's digest and payload; NotFound when new.
  Status GetPayout(std::string_view payout_id, std::string* digest, clicklog::Payout* p) const;
  // What the referrer was paid, all recorded payouts.
  Status PaidTo(std::string_view referrer, int64_t* paid) const;
  // After its kPayout record is durable.
  Status CommitPayout(const clicklog::Payout& p, std::string_view digest);
  // Tells two posts of one payout_id apart: its referrer and amount.
  static std::string PayoutDigestOf(const clicklog::Payout& p);

  // Runs the commits and answers of written events through `run` (which
  // must run each function it is given once, on some thread other than the
  // log's writer): one call per batch of records, instead of a wake-up of
  // the indexer thread. The indexer still answers late posts, commits the
  // watermark, and takes over once Close starts. Before the first Post.
  // The index's (unsynced) RocksDB commit then runs on that thread, as the
  // admin routes' own RocksDB writes do: a RocksDB stall stalls the admin
  // listener, never the public one.
  using Runner = std::function<void(std::function<void()>)>;
  void CompleteOn(Runner run) EXCLUDES(queue_mu_) {
    MutexLock lock(&queue_mu_);
    run_ = std::move(run);
  }

  // False while index writes fail.
  bool Healthy() const { return healthy_.load(std::memory_order_relaxed); }

  // Answers every waiting post, commits the watermark and stops the
  // indexer. After the log's Close, so that every record's fate is known.
  void Close();

  // The watermark an index at `dir` committed, for compaction's retention:
  // UINT64_MAX when there is no index (no event was ever taken).
  static uint64_t Watermark(const std::string& dir);

 private:
  struct Pending;
  EventIndex(const Options& opt, clicklog::ClickLog* log, std::unique_ptr<StateDb> db,
             uint64_t watermark);
  static Status Rebuild(const Options& opt, StateDb* db, uint64_t* watermark,
                        std::vector<std::string>* notes);
  // The writes that index a campaign change or a payout (`paid`: the
  // referrer's total before it).
  static void CampaignWrites(const clicklog::CampaignChange& c, std::vector<StateDb::Write>* out);
  static void PayoutWrites(const clicklog::Payout& p, std::string_view digest, int64_t paid,
                           std::vector<StateDb::Write>* out);
  // Decides a post under mu_: an answer now; or null with *append set (a
  // new id, registered in flight) or not (waiting on the first post).
  std::optional<Result> Admit(const EventRecord& e, Reply* reply, Pending** append) EXCLUDES(mu_);
  // Answers p's poster (unless answered) with `first`, its waiters with `others`.
  void Answer(Pending* p, Result first, Result others,
              std::vector<std::pair<Reply, Result>>* replies) REQUIRES(mu_);
  // From the log's writer (via Pending::Complete): queues p for Drain, on
  // run_ or the indexer.
  void Finished(Pending* p) EXCLUDES(queue_mu_);
  // Processes what is queued.
  void Drain() EXCLUDES(queue_mu_);
  void IndexerLoop();
  // Commits the index entries of the records written; answers their posts.
  void Process(std::vector<Pending*>* done) EXCLUDES(mu_);
  // Answers posts whose answer_timeout_ms has passed. REQUIRES mu_.
  void AnswerLate(int64_t now_ns, std::vector<std::pair<Reply, Result>>* replies) REQUIRES(mu_);
  // Starts a checkpoint, or commits one whose epoch has ended.
  void Checkpoint(int64_t now_ns) EXCLUDES(mu_);

  const Options opt_;
  clicklog::ClickLog* const log_;
  std::unique_ptr<StateDb> db_;
  std::atomic<bool> healthy_{true};

  mutable Mutex mu_ ACQUIRED_BEFORE(queue_mu_);
  std::unordered_map<std::string, Pending*> in_flight_ GUARDED_BY(mu_);
  std::vector<Pending*> uncommitted_ GUARDED_BY(mu_);  // written; index commit failed, retried
  int epoch_ GUARDED_BY(mu_) = 0;
  int64_t epoch_posts_[2] GUARDED_BY(mu_) = {0, 0};
  bool checkpoint_open_ GUARDED_BY(mu_) = false;
  int checkpoint_epoch_ GUARDED_BY(mu_) = 0;
  uint64_t checkpoint_seq_ GUARDED_BY(mu_) = 0;
  int64_t last_checkpoint_ns_ GUARDED_BY(mu_) = 0;
  uint64_t watermark_ GUARDED_BY(mu_);
  bool closing_ GUARDED_BY(mu_) = false;

  Mutex queue_mu_;
  CondVar queue_cv_;
  std::vector<Pending*> queue_ GUARDED_BY(queue_mu_);
  bool stop_ GUARDED_BY(queue_mu_) = false;
  bool drain_posted_ GUARDED_BY(queue_mu_) = false;  // a Drain is on its way through run_

  // Set once, before the first Post (so Finished may call it unlocked);
  // the indexer reads it under queue_mu_.
  Runner run_ GUARDED_BY(queue_mu_);

  std::thread indexer_;
};

}  // namespace refgate::events
