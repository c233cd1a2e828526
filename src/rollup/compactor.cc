#include "rollup/compactor.h"

#include <malloc.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <thread>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "clicklog/records.h"
#include "clicklog/retention.h"
#include "events/event_index.h"
#include "rollup/aggregate.h"
#include "rollup/attribution.h"
#include "rollup/checkpoint.h"
#include "rollup/progress.h"
#include "rollup/publish.h"
#include "rollup/rows.h"
#include "rollup/segments.h"
#include "util/coding.h"
#include "util/file_io.h"

namespace refgate::rollup {
namespace {

// Counts and prints the damage a run finds past its checkpoint. Damage
// before a record an earlier run already counted was that run's to report,
// and a torn tail of the newest segment is a write in progress.
class DamageReporter : public clicklog::Reporter {
 public:
  explicit DamageReporter(CompactResult* result) : result_(result) {}
  void Corruption(const clicklog::Damage& d) override { pending_.push_back(d); }
  // The damage seen so far lies before an already counted record.
  void Forget() { pending_.clear(); }
  // The damage seen so far is new; `newest`: of the newest segment.
  void Report(bool newest) {
    for (const clicklog::Damage& d : pending_) {
      if (newest && d.at_end) continue;
      ++result_->damaged_ranges;
      result_->damaged_bytes += d.bytes;
      std::fprintf(stderr, "refgate: compact: %s: %llu damaged bytes at offset %llu skipped: %s\n",
                   d.segment.c_str(), static_cast<unsigned long long>(d.bytes),
                   static_cast<unsigned long long>(d.offset), d.reason.c_str());
    }
    pending_.clear();
  }

 private:
  CompactResult* result_;
  std::vector<clicklog::Damage> pending_;
};

// What a run does with each record read (clicklog/records.h): clicks are
// counted, ignorable types skipped, undecodable ones counted and reported.
// An unknown type without kIgnorableBit, or a failing state, stops the run.
class Counter : public clicklog::RecordHandler {
 public:
  // `nodes`: each node's seq counted through (cluster mode).
  Counter(Attribution* attribution, CompactResult* result, std::map<std::string, uint64_t>* nodes)
      : attribution_(attribution), result_(result), nodes_(nodes) {}
  // A node's records go on from where the last of its messages ended; a
  // repeat or a gap is a broken copy of the stream and fails the run.
  void OnShipped(const clicklog::Record& rec, std::string_view node, uint64_t first,
                 uint64_t last) override {
    auto [it, fresh] = nodes_->try_emplace(std::string(node), last);
    if (!fresh && first != it->second + 1) {
      status_ = Status::Corruption("record " + std::to_string(rec.seq) + " holds records " +
                                   std::to_string(first) + "-" + std::to_string(last) + " of " +
                                   std::string(node) + ", whose records so far end at " +
                                   std::to_string(it->second));
    }
    it->second = last;
  }
  void OnClick(const clicklog::Record&, const ClickRecord& click) override {
    if (Status s = attribution_->OnClick(click); !s.ok()) {
      status_ = s;
      return;
    }
    ++result_->records;
  }
  void OnEvent(const clicklog::Record& rec, const EventRecord& event) override {
    if (Status s = attribution_->OnEvent(event, rec.payload); !s.ok()) status_ = s;
    ++result_->events;
  }
  void OnCode(const clicklog::Record&, const clicklog::CodeChange& change) override {
    if (Status s = attribution_->OnCode(change); !s.ok()) status_ = s;
  }
  void OnCampaign(const clicklog::Record&, const clicklog::CampaignChange& change) override {
    if (Status s = attribution_->OnCampaign(change); !s.ok()) status_ = s;
  }
  void OnPayout(const clicklog::Record&, const clicklog::Payout& payout) override {
    if (Status s = attribution_->OnPayout(payout); !s.ok()) status_ = s;
  }
  void OnIgnored(const clicklog::Record&) override { ++result_->skipped; }
  void OnUnknown(const clicklog::Record& rec) override {
    status_ = Status::Corruption("record " + std::to_string(rec.seq) + " has type " +
                                 std::to_string(rec.type) +
                                 ", unknown to this version and not ignorable");
    stop_ = true;
  }
  void OnUndecodable(const clicklog::Record& rec, const Status& why) override {
    ++result_->undecodable;  // checksummed, so written so by a writer bug
    std::fprintf(stderr, "refgate: compact: record %llu does not decode: %s\n",
                 static_cast<unsigned long long>(rec.seq), why.ToString().c_str());
  }
  // A record the run must not pass: it stops before it, and commits.
  bool stop() const { return stop_; }
  // False once the run must end: stop(), or the state failed.
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  Attribution* attribution_;
  CompactResult* result_;
  std::map<std::string, uint64_t>* nodes_;
  Status status_;
  bool stop_ = false;
};

// The key click ids are verified with; a cluster node's must be there.
Status LoadClickKey(const CompactOptions& opt, std::unique_ptr<ClickIdKey>* key) {
  const bool cluster_key = !opt.click_key_dir.empty();
  Status s = ClickIdKey::Load(cluster_key ? opt.click_key_dir : opt.data_dir, false, key);
  if (s.ok() && cluster_key && !*key) {
    return Status::InvalidArgument(opt.click_key_dir +
                                   "/click.key is missing: start `refgate serve` once with NATS "
                                   "reachable, to take the cluster's click key");
  }
  return s;
}

// One run: reads the segments past the checkpoint into an Aggregate, then
// commits the rows with the new checkpoint, then publishes.
class Run {
 public:
  // Reads at most max_records records; `known`: the part before this one's (Aggregate).
  Run(const CompactOptions& opt, CompactResult* result, uint64_t max_records,
      Aggregate::KnownRows known)
      : opt_(opt),
        result_(result),
        clicks_(opt.data_dir + (opt.cluster ? "/cluster/log" : "/clicks")),
        known_(std::move(known)),
        max_records_(max_records) {}

  Status Read(StateDb* db, const Checkpoint& cp) {
    nodes_ = cp.nodes;
    if (cp.through > 0 && cp.cluster != opt_.cluster) {
      return Status::InvalidArgument(
          opt_.data_dir + "/rollups/state rolls up " +
          (cp.cluster ? "the cluster's stream" : "this node's own log") +
          ": [cluster] rollup says the other; move rollups/ away to start afresh");
    }
    Status s = clicklog::ListSegments(clicks_, &segments_);
    if (!s.ok()) return s;
    size_t first = 0;  // the segment holding through + 1
    while (first + 1 < segments_.size() && segments_[first + 1].first <= cp.through + 1) ++first;
    uint64_t total_bytes = 0;
    std::error_code ec;
    for (size_t i = first; i < segments_.size(); ++i) {
      total_bytes += std::filesystem::file_size(clicks_ + "/" + segments_[i].second, ec);
    }
    std::unique_ptr<ClickIdKey> key;
    if (s = LoadClickKey(opt_, &key); !s.ok()) return s;
    agg_ = std::make_unique<Aggregate>(db, std::move(known_));
    AttributionOptions ao = opt_.attribution;
    ao.click_key = key.get();
    ao.currency = opt_.currency;
    attribution_ = std::make_unique<Attribution>(db, ao, agg_.get());
    Progress progress(opt_.progress, total_bytes);
    DamageReporter reporter(result_);
    Counter counter(attribution_.get(), result_, &nodes_);
    ClickFeed feed(agg_.get(), cp.through, max_records_);
    last_seq_ = cp.through;
    uint64_t bytes_done = 0;
    if (s = ReadSegments(first, &reporter, &counter, &feed, &progress, &bytes_done); !s.ok()) {
      return s;
    }
    progress.Update(read_, bytes_done, true);
    end_ = counter.status();
    if (!counter.stop() && !end_.ok()) return end_;  // a failing state ends the run
    if (!feed.status().ok()) return feed.status();
    if (s = attribution_->Finish(!more_); !s.ok()) return s;
    if (s = attribution_->CreditConversions(); !s.ok()) return s;
    result_->decided += attribution_->decided();
    return Status::OK();
  }

  Status Commit(StateDb* db, Checkpoint* cp) const {
    result_->through_seq = last_seq_;
    result_->nodes = nodes_;
    if (last_seq_ <= cp->through && attribution_->dates().empty()) return Status::OK();
    // The rows stream into a table file of their own as they are made.
    std::unique_ptr<StateDb::Sorted> days = db->NewSorted(), rows = db->NewSorted(),
                                     touches = db->NewSorted();
    StateDb::Batch referrers, decisions;
    decisions.Reserve(attribution_->rows(), attribution_->rows() * 64);
    if (more_) agg_->KeepKnown();
    std::thread aggregate([&] { agg_->Writes(days.get(), rows.get(), &referrers); });
    attribution_->Writes(&decisions, touches.get());
    aggregate.join();
    cp->dirty.insert(agg_->dates().begin(), agg_->dates().end());
    cp->dirty.insert(attribution_->dates().begin(), attribution_->dates().end());
    cp->through = last_seq_;
    cp->orphans += agg_->orphans();
    cp->cluster = opt_.cluster;
    cp->nodes = nodes_;
    cp->Writes(&decisions);
    return db->Commit({&referrers, &decisions}, {days.get(), rows.get(), touches.get()});
  }

  // `first_through`: the checkpoint before the first part of this compaction.
  Status Publish(StateDb* db, const Checkpoint& cp, uint64_t first_through) const {
    const std::string rollups = opt_.data_dir + "/rollups";
    // referrers.csv and rewards.csv change with any record (a payout
    // touches no day), so a run that read one publishes.
    if (!cp.dirty.empty() || last_seq_ > first_through ||
        !std::filesystem::exists(rollups + "/manifest.json")) {
      Status s = rollup::Publish(*db, rollups, cp.dirty, last_seq_,
                                 opt_.io ? opt_.io : DefaultFileIo(), opt_.currency);
      if (!s.ok()) return s;
      result_->dates_published = cp.dirty.size();
      if (s = db->Commit({{std::string(kDirtyKey), "", true}}); !s.ok()) return s;
    }
    DeleteSegments();
    return Status::OK();
  }

  // Segments the event index may still need at its next start stay, and so do
  // those the cluster's stream lacks (SPEC §8). A rollup node's own log is done
  // with once shipped; its copy of the stream, once rolled up and merged.
  void DeleteSegments() const {
    const std::string own = opt_.data_dir + "/clicks";
    const int days = clicklog::RetentionDays(opt_.data_dir, opt_.retention_days);
    // In cluster mode a note missing says nothing is shipped, or known of the copy.
    auto note = [this](uint64_t seq) {
      return opt_.cluster && seq == std::numeric_limits<uint64_t>::max() ? 0 : seq;
    };
    const uint64_t own_after = std::min(events::EventIndex::Watermark(opt_.data_dir + "/events"),
                                        note(clicklog::ShippedThrough(opt_.data_dir)));
    if (!opt_.cluster) {
      result_->segments_deleted =
          clicklog::DeleteRolledUpSegments(own, segments_, std::min(last_seq_, own_after), days);
      return;
    }
    result_->segments_deleted = clicklog::DeleteRolledUpSegments(
        clicks_, segments_, std::min(last_seq_, note(clicklog::MergedThrough(opt_.data_dir))),
        days);
    std::vector<std::pair<uint64_t, std::string>> segments;
    if (clicklog::ListSegments(own, &segments).ok()) {
      result_->segments_deleted += clicklog::DeleteRolledUpSegments(own, segments, own_after, days);
    }
  }

  // From segment `first` on, to the end, max_records, a record that stops it, or the memory bound.
  Status ReadSegments(size_t first, DamageReporter* reporter, Counter* counter, ClickFeed* feed,
                      Progress* progress, uint64_t* bytes_done) {
    // Two buffers: the next segment is synced and read in while this one is counted.
    DurableSegment buffers[2];
    auto open = [&](size_t i) { return buffers[i % 2].Open(clicks_ + "/" + segments_[i].second); };
    Status ahead = first < segments_.size() ? open(first) : Status::OK();
    size_t held = 0, growth = 0;  // MemoryBytes at the last segment's end, what that one added
    for (size_t i = first; i < segments_.size() && read_ < max_records_ && counter->ok(); ++i) {
      if (!ahead.ok()) return ahead;
      const DurableSegment& segment = buffers[i % 2];
      std::thread next;
      if (i + 1 < segments_.size()) next = std::thread([&, i] { ahead = open(i + 1); });
      // Both cores: the clicks' counts on a thread, the rest on this one.
      std::thread clicks(
          [&] { feed->Read(segment.data(), segments_[i].second, i + 1 == segments_.size()); });
      ReadSegment(segment.data(), i, reporter, counter, progress, *bytes_done);
      clicks.join();
      if (next.joinable()) next.join();
      buffer_bytes_ = buffers[0].capacity() + buffers[1].capacity();
      *bytes_done += segment.data().size();
      // Where one more segment like this one would pass the memory bound: this part ends at
      // this segment's end, is committed, and the next part goes on from there.
      const size_t now = MemoryBytes();
      growth = i > first ? now - std::min(now, held) : 0;
      held = now;
      if (i + 1 < segments_.size() && held + growth > opt_.max_memory_bytes) {
        more_ = counter->ok() && read_ < max_records_;
        break;
      }
    }
    return Status::OK();
  }

  // The run stopped at its memory bound with records left to read.
  bool more() const { return more_; }
  uint64_t records_read() const { return read_; }
  Aggregate::KnownRows TakeKnown() { return agg_ ? agg_->TakeKnown() : Aggregate::KnownRows(); }
  // The most it holds at once: the process's own (RocksDB's caches, the
  // heap's slack: about 64 MiB, measured), the rows, and while reading the
  // segment buffers, or while committing (the buffers and the touches'
  // index freed) about what committing takes: attribution's a Batch entry,
  // key, value and place in the merge (about 160 bytes a row, measured),
  // its touches' streaming; the Aggregate's, streamed, their sort and
  // their table files' filters (about 40 bytes a row).
  size_t MemoryBytes() const {
    const size_t commit = kCommitBytesPerRow * attribution_->rows() + attribution_->StreamBytes() +
                          kSortBytesPerRow * agg_->rows();
    const size_t freed = attribution_->IndexBytes();
    return kProcessBytes + agg_->MemoryBytes() + attribution_->MemoryBytes() - freed +
           std::max(buffer_bytes_ + freed, commit);
  }
  static constexpr size_t kProcessBytes = size_t{64} << 20;
  static constexpr size_t kCommitBytesPerRow = 160, kSortBytesPerRow = 40;

  // OK, or why the run stopped at a record it must not pass (what came
  // before it is committed and published all the same).
  const Status& end() const { return end_; }

 private:
  void ReadSegment(std::string_view data, size_t i, DamageReporter* reporter, Counter* counter,
                   Progress* progress, uint64_t bytes_done) {
    const bool newest = i + 1 == segments_.size();
    clicklog::SegmentParser parser(data, segments_[i].second, reporter, newest);
    clicklog::Record rec;
    while (read_ < max_records_ && parser.Next(&rec)) {
      if (rec.seq <= last_seq_) {
        reporter->Forget();
        continue;
      }
      reporter->Report(false);
      dispatch_.Dispatch(rec, counter);
      if (!counter->ok()) return;  // stops before this record
      // Every record read moves the checkpoint, whatever its type, so that
      // the checkpoint never lags behind records this run has looked at.
      last_seq_ = rec.seq;
      ++read_;
      progress->Update(read_, bytes_done + rec.offset);
    }
    reporter->Report(newest);
  }

  const CompactOptions& opt_;
  CompactResult* result_;
  const std::string clicks_;
  std::vector<std::pair<uint64_t, std::string>> segments_;
  Aggregate::KnownRows known_;
  std::unique_ptr<Aggregate> agg_;
  std::unique_ptr<Attribution> attribution_;
  std::map<std::string, uint64_t> nodes_;  // cluster: each node's seq read through
  clicklog::RecordDispatcher dispatch_;
  const uint64_t max_records_;
  uint64_t last_seq_ = 0, read_ = 0;
  size_t buffer_bytes_ = 0;  // the two segment buffers
  bool more_ = false;
  Status end_;
};

}  // namespace

Status Compact(const CompactOptions& opt, CompactResult* result) {
  *result = CompactResult();
  const std::string rollups = opt.data_dir + "/rollups";
  std::error_code ec;
  std::filesystem::create_directories(rollups, ec);
  if (ec) return Status::IOError(rollups + ": " + ec.message());
  FileLock lock;
  Status s = lock.Acquire(rollups + "/.lock");
  std::unique_ptr<StateDb> db;
  if (s.ok()) s = StateDb::Open(rollups + "/state", false, &db);
  if (!s.ok()) return s;

  Checkpoint cp;
  if (s = cp.Load(*db); !s.ok()) return s;
  const uint64_t first_through = cp.through;
  PhaseClock clock(opt.progress);
  std::unique_ptr<Run> run;
  uint64_t left = opt.max_records;
  Aggregate::KnownRows known;
  do {  // one part, or more where one would pass [rollup] max_memory_mb
    if (run) {
      left -= run->records_read();
      known = run->TakeKnown();
      run.reset();     // before the next part's memory
      malloc_trim(0);  // and what the heap keeps of it, back to the system
      cp = Checkpoint();
      if (s = cp.Load(*db); !s.ok()) return s;
    }
    run = std::make_unique<Run>(opt, result, left, std::move(known));
    if (s = run->Read(db.get(), cp); !s.ok()) return s;
    clock.Lap("read");
    if (s = run->Commit(db.get(), &cp); !s.ok()) return s;
    clock.Lap("commit");
  } while (run->more());
  if (opt.after_commit) opt.after_commit();
  if (s = run->Publish(db.get(), cp, first_through); !s.ok()) return s;
  clock.Lap("publish");
  return run->end();
}

}  // namespace refgate::rollup
