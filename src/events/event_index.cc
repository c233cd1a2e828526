#include "events/event_index.h"

#include <filesystem>
#include <optional>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "events/index_keys.h"
#include "util/coding.h"
#include "util/time.h"

namespace refgate::events {
namespace {

constexpr std::string_view kWatermarkKey = "w";
constexpr size_t kDigestBytes = 16;

std::string EventKey(std::string_view event_id) { return "e/" + std::string(event_id); }
std::string WatermarkValue(uint64_t seq) {
  std::string v;
  PutFixed64(&v, seq);
  return v;
}

uint64_t ReadWatermark(const StateDb& db) {
  std::string v;
  return db.Get(kWatermarkKey, &v).ok() && v.size() == 8 ? DecodeFixed64(v.data()) : 0;
}

}  // namespace

// One post of a new event_id, from Post until its record's fate is known
// and, if written, its index entry committed. Owned by in_flight_.
struct EventIndex::Pending final : Completion {
  EventIndex* index;
  std::string event_id, digest, payload;
  Reply reply;
  int epoch = 0;
  int64_t deadline_ns = 0;
  bool answered = false;       // reply called (kUnavailable after answer_timeout_ms)
  std::vector<Reply> waiters;  // posts of the same body that came meanwhile
  Outcome outcome = Outcome::kOk;

  void Complete(Outcome o) override {
    outcome = o;
    index->Finished(this);
  }
};

Status EventIndex::Open(const Options& opt, clicklog::ClickLog* log,
                        std::unique_ptr<EventIndex>* out, std::vector<std::string>* notes) {
  std::unique_ptr<StateDb> db;
  Status s = StateDb::Open(opt.dir, false, &db);
  uint64_t watermark = 0;
  if (s.ok()) s = Rebuild(opt, db.get(), &watermark, notes);
  if (!s.ok()) return s;
  out->reset(new EventIndex(opt, log, std::move(db), watermark));
  return Status::OK();
}

// Indexes the events past the watermark that the index lacks: records
// whose index commit a crash prevented. The first record of an id wins.
Status EventIndex::Rebuild(const Options& opt, StateDb* db, uint64_t* watermark,
                           std::vector<std::string>* notes) {
  const uint64_t from = ReadWatermark(*db);
  clicklog::LogReader reader(opt.log_dir, nullptr);
  Status s = reader.Open(from + 1);
  if (!s.ok()) return s;
  std::vector<StateDb::Write> writes;
  std::unordered_map<std::string, bool> seen;
  uint64_t last = from;
  clicklog::Record rec;
  EventRecord e;
  std::unordered_map<std::string, int64_t> paid;  // referrer -> total, as rebuilt
  while (reader.Next(&rec)) {
    last = rec.seq;
    if (rec.type == clicklog::kCampaign) {
      clicklog::CampaignChange c;
      if (clicklog::DecodeCampaignChange(rec.payload, &c).ok()) CampaignWrites(c, &writes);
      continue;
    }
    if (rec.type == clicklog::kPayout) {
      clicklog::Payout p;
      std::string unused, total;
      if (!clicklog::DecodePayout(rec.payload, &p).ok() || seen.contains(PayoutKey(p.payout_id))) {
        continue;
      }
      seen[PayoutKey(p.payout_id)] = true;
      if (db->Get(PayoutKey(p.payout_id), &unused).ok()) continue;
      if (!paid.contains(p.referrer_id)) {
        paid[p.referrer_id] = db->Get(PaidKey(p.referrer_id), &total).ok() && total.size() == 8
                                  ? static_cast<int64_t>(DecodeFixed64(total.data()))
                                  : 0;
      }
      PayoutWrites(p, PayoutDigest(p), paid[p.referrer_id], &writes);
      paid[p.referrer_id] += p.amount_minor;
      continue;
    }
    if (rec.type != clicklog::kEvent || !clicklog::DecodeEvent(rec.payload, &e).ok()) continue;
    std::string key = EventKey(e.event_id), unused;
    if (seen.contains(key)) continue;
    seen[key] = true;
    Status g = db->Get(key, &unused);
    if (g.ok()) continue;
    if (!g.IsNotFound()) return g;
    writes.push_back({key, clicklog::EventDigest(e) + std::string(rec.payload)});
  }
  if (!reader.status().ok()) return reader.status();
  if (!writes.empty()) {
    notes->push_back("event index: " + std::to_string(writes.size()) +
                     " events found in the log and indexed");
  }
  writes.push_back({std::string(kWatermarkKey), WatermarkValue(last)});
  *watermark = last;
  return db->Commit(writes);
}

EventIndex::EventIndex(const Options& opt, clicklog::ClickLog* log, std::unique_ptr<StateDb> db,
                       uint64_t watermark)
    : opt_(opt), log_(log), db_(std::move(db)), watermark_(watermark) {
  last_checkpoint_ns_ = SteadyNanos();
  indexer_ = std::thread([this] { IndexerLoop(); });
}

EventIndex::~EventIndex() { Close(); }

std::optional<Result> EventIndex::Post(const EventRecord& e, Reply reply) {
  Pending* p = nullptr;
  std::optional<Result> now = Admit(e, &reply, &p);
  if (now || p == nullptr) return now;  // answered, or waits for the first post of its id
  if (log_->AppendDurable(clicklog::kEvent, p->payload, p, /*until_outcome=*/true)) {
    return std::nullopt;
  }
  // Dropped at once (queue full, closing): never written.
  std::vector<std::pair<Reply, Result>> replies;
  bool answered;
  {
    MutexLock lock(&mu_);
    answered = p->answered;  // the indexer may have answered it late already
    p->answered = true;
    Answer(p, Result::kUnavailable, Result::kUnavailable, &replies);
    in_flight_.erase(p->event_id);
    --epoch_posts_[p->epoch];
  }
  delete p;
  for (auto& [r, result] : replies) r(result);
  if (answered) return std::nullopt;
  return Result::kUnavailable;
}

std::optional<Result> EventIndex::Admit(const EventRecord& e, Reply* reply, Pending** append) {
  const std::string digest = clicklog::EventDigest(e);
  MutexLock lock(&mu_);
  if (auto it = in_flight_.find(e.event_id); it != in_flight_.end()) {
    Pending* first = it->second;
    if (first->digest != digest) return Result::kConflict;
    if (first->answered) return Result::kUnavailable;  // its fate is not known yet
    first->waiters.push_back(std::move(*reply));
    return std::nullopt;
  }
  // Under mu_: an entry leaves in_flight_ only after its commit, so an id
  // not in flight is in the index if it was ever recorded.
  if (closing_) return Result::kUnavailable;
  std::string value;
  Status s = db_->Get(EventKey(e.event_id), &value);
  if (s.ok()) {
    return value.compare(0, kDigestBytes, digest) == 0 ? Result::kReplayed : Result::kConflict;
  }
  if (!s.IsNotFound()) return Result::kUnavailable;
  auto p = new Pending();
  p->index = this;
  p->event_id = e.event_id;
  p->digest = digest;
  clicklog::EncodeEvent(e, &p->payload);
  p->reply = std::move(*reply);
  p->epoch = epoch_;
  p->deadline_ns = SteadyNanos() + int64_t{opt_.answer_timeout_ms} * 1'000'000;
  ++epoch_posts_[epoch_];
  in_flight_[e.event_id] = p;
  *append = p;
  return std::nullopt;
}

Status EventIndex::Get(std::string_view event_id, EventRecord* e) const {
  std::string value;
  Status s = db_->Get(EventKey(event_id), &value);
  if (!s.ok()) return s;
  if (value.size() < kDigestBytes) return Status::Corruption("event index entry");
  return clicklog::DecodeEvent(std::string_view(value).substr(kDigestBytes), e);
}

void EventIndex::Finished(Pending* p) {
  const Runner* post = nullptr;  // run_ is set for good before any Post
  {
    MutexLock lock(&queue_mu_);
    queue_.push_back(p);
    if (run_ && !stop_ && !drain_posted_) post = &run_;
    drain_posted_ |= post != nullptr;
    if (!run_ || stop_) queue_cv_.Signal();
  }
  if (post) (*post)([this] { Drain(); });
}

void EventIndex::Drain() {
  std::vector<Pending*> done;
  {
    MutexLock lock(&queue_mu_);
    done.swap(queue_);
    drain_posted_ = false;
  }
  if (!done.empty()) Process(&done);
}

// Drains the queue (all of it without run_; with run_, only what a Drain
// did not take, such as what came during Close), every 50 ms at least;
// the only caller of Checkpoint.
void EventIndex::IndexerLoop() {
  for (;;) {
    bool stop;
    {
      MutexLock lock(&queue_mu_);
      // With run_, only Close signals: the Drains take the queue.
      if ((run_ || queue_.empty()) && !stop_) {
        queue_cv_.WaitFor(&queue_mu_, std::chrono::milliseconds(50));
      }
      stop = stop_;
    }
    std::vector<Pending*> done;
    {
      MutexLock lock(&queue_mu_);
      done.swap(queue_);
    }
    Process(&done);  // also retries failed commits and answers late posts
    Checkpoint(SteadyNanos());
    if (stop) {
      MutexLock lock(&mu_);
      MutexLock qlock(&queue_mu_);
      // Left: records whose index commit failed again; the next Open finds
      // them in the log (the watermark stayed below them).
      if (in_flight_.size() == uncommitted_.size() && queue_.empty()) return;
    }
  }
}

void EventIndex::Process(std::vector<Pending*>* done) {
  std::vector<Pending*> all;
  {
    MutexLock lock(&mu_);
    all.swap(uncommitted_);  // written earlier, their commit failed: again
  }
  all.insert(all.end(), done->begin(), done->end());
  std::vector<StateDb::Write> writes;
  for (Pending* p : all) {
    if (p->outcome == Outcome::kOk)
      writes.push_back({EventKey(p->event_id), p->digest + p->payload});
  }
  // Not synced: the log has the events on disk and the next start indexes
  // any past the watermark, whose own commit is synced (and with it, the
  // RocksDB log up to it). One fdatasync per event batch, the log's, not two.
  const bool committed = writes.empty() || db_->Commit(writes, /*sync=*/false).ok();
  healthy_.store(committed, std::memory_order_relaxed);
  std::vector<std::pair<Reply, Result>> replies;
  {
    MutexLock lock(&mu_);
    for (Pending* p : all) {
      if (p->outcome == Outcome::kOk && !committed) {
        // In the log but not in the index: stays in flight (a retry must
        // not append it again) until a commit works.
        Answer(p, Result::kUnavailable, Result::kUnavailable, &replies);
        uncommitted_.push_back(p);
        continue;
      }
      if (p->outcome == Outcome::kOk) {
        Answer(p, Result::kRecorded, Result::kReplayed, &replies);
      } else {
        Answer(p, Result::kUnavailable, Result::kUnavailable, &replies);
      }
      in_flight_.erase(p->event_id);
      --epoch_posts_[p->epoch];
      delete p;
    }
    AnswerLate(SteadyNanos(), &replies);
  }
  for (auto& [reply, result] : replies) reply(result);
}

void EventIndex::Answer(Pending* p, Result first, Result others,
                        std::vector<std::pair<Reply, Result>>* replies) {
  if (!p->answered) replies->emplace_back(std::move(p->reply), first);
  p->answered = true;
  for (Reply& w : p->waiters) replies->emplace_back(std::move(w), others);
  p->waiters.clear();
}

void EventIndex::AnswerLate(int64_t now_ns, std::vector<std::pair<Reply, Result>>* replies) {
  for (auto& [id, p] : in_flight_) {
    if (!p->answered && now_ns >= p->deadline_ns) {
      Answer(p, Result::kUnavailable, Result::kUnavailable, replies);
    }
  }
}

void EventIndex::Checkpoint(int64_t now_ns) {
  uint64_t commit_seq = 0;
  {
    MutexLock lock(&mu_);
    if (!checkpoint_open_) {
      if (!closing_ && now_ns - last_checkpoint_ns_ < int64_t{opt_.checkpoint_ms} * 1'000'000) {
        return;
      }
      // Records enqueued from now on get seqs above what is durable now.
      checkpoint_seq_ = log_->durable_seq();
      checkpoint_epoch_ = epoch_;
      epoch_ ^= 1;
      checkpoint_open_ = true;
    }
    if (epoch_posts_[checkpoint_epoch_] != 0) return;
    checkpoint_open_ = false;
    last_checkpoint_ns_ = now_ns;
    if (checkpoint_seq_ <= watermark_) return;
    commit_seq = checkpoint_seq_;
  }
  if (db_->Commit({{std::string(kWatermarkKey), WatermarkValue(commit_seq)}}).ok()) {
    MutexLock lock(&mu_);
    watermark_ = commit_seq;
  }
}

void EventIndex::Close() {
  {
    MutexLock lock(&mu_);
    if (closing_) return;
    closing_ = true;
  }
  {
    MutexLock lock(&queue_mu_);
    stop_ = true;
    queue_cv_.Signal();
  }
  if (indexer_.joinable()) indexer_.join();
}

int EventIndex::BeginWrite() {
  MutexLock lock(&mu_);
  ++epoch_posts_[epoch_];
  return epoch_;
}

void EventIndex::EndWrite(int epoch) {
  MutexLock lock(&mu_);
  --epoch_posts_[epoch];
}

uint64_t EventIndex::Watermark(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/CURRENT")) return UINT64_MAX;
  std::unique_ptr<StateDb> db;
  if (!StateDb::Open(dir, true, &db).ok()) return 0;
  return ReadWatermark(*db);
}

}  // namespace refgate::events
