#include "webhooks/deliverer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "util/coding.h"
#include "util/metrics.h"
#include "util/time.h"

namespace refgate::webhooks {
namespace {

constexpr std::string_view kGenerationKey = "g";
constexpr std::string_view kCursorKey = "c";
constexpr std::string_view kDonePrefix = "d";
constexpr size_t kWindow = 1000;  // entries held at once

std::string DoneKey(uint64_t seq) {
  std::string k(kDonePrefix);
  PutBigEndian64(&k, seq);
  return k;
}

std::string Fixed(uint64_t v) {
  std::string s;
  PutFixed64(&s, v);
  return s;
}

// The names, sizes and times of a directory's files: a commit changes them.
std::string FilesOf(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::error_code fec;
    const auto size = e.file_size(fec);
    const auto time = e.last_write_time(fec).time_since_epoch().count();
    files.push_back(e.path().filename().string() + " " + std::to_string(size) + " " +
                    std::to_string(time));
  }
  std::sort(files.begin(), files.end());
  std::string out;
  for (const auto& f : files) out += f + "\n";
  return out;
}

}  // namespace

Status Deliverer::Open(const Options& opt, std::unique_ptr<Deliverer>* out) {
  std::unique_ptr<StateDb> db;
  Status s = StateDb::Open(opt.data_dir + "/webhooks", false, &db);
  if (!s.ok()) return s;
  std::unique_ptr<Deliverer> d(new Deliverer(opt, std::move(db)));
  if (s = d->LoadPosition(); !s.ok()) return s;
  d->thread_ = std::thread([p = d.get()] { p->Loop(); });
  *out = std::move(d);
  return Status::OK();
}

Deliverer::Deliverer(const Options& opt, std::unique_ptr<StateDb> db)
    : opt_(opt), db_(std::move(db)), sender_(opt.timeout_ms) {}

Deliverer::~Deliverer() { Stop(); }

void Deliverer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Deliverer::LoadPosition() {
  std::string v;
  if (db_->Get(kGenerationKey, &v).ok() && v.size() == 8) generation_ = DecodeFixed64(v.data());
  if (db_->Get(kCursorKey, &v).ok() && v.size() == 8) cursor_ = DecodeFixed64(v.data());
  read_next_ = cursor_;
  return db_->Scan(kDonePrefix, [&](std::string_view k, std::string_view) {
    if (k.size() == 9) done_.insert(DecodeBigEndian64(k.data() + 1));
    return true;
  });
}

void Deliverer::Loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    if (Status s = Refill(); !s.ok() && s.ToString() != last_error_) {
      last_error_ = s.ToString();
      std::fprintf(stderr, "webhooks: reading the outbox: %s\n", last_error_.c_str());
    }
    const int64_t due = std::min(AttemptDue(), SteadyNanos() + int64_t{opt_.poll_ms} * 1'000'000);
    UpdateOldest();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(due - SteadyNanos(), 0)),
                 [&] { return stop_; });
  }
}

Status Deliverer::Refill() {
  const std::string dir = opt_.data_dir + "/rollups/state";
  if (!std::filesystem::exists(dir + "/CURRENT")) return Status::OK();
  std::string files = FilesOf(dir);
  if (files == files_seen_ && !more_) return Status::OK();
  std::unique_ptr<StateDb> state;
  Status s = StateDb::Open(dir, true, &state);
  rollup::OutboxHead head;
  if (s.ok()) s = rollup::ReadOutboxHead(*state, &head);
  if (!s.ok() || head.generation == 0) return s;
  if (head.generation != generation_) {  // a new outbox (a recompute): from its start
    StateDb::Batch reset;
    for (uint64_t seq : done_) reset.Delete(DoneKey(seq));
    reset.Put(kGenerationKey, Fixed(head.generation));
    reset.Put(kCursorKey, Fixed(1));
    if (s = db_->Commit(reset, /*sync=*/false); !s.ok()) return s;
    generation_ = head.generation;
    cursor_ = read_next_ = 1;
    done_.clear();
    window_.clear();
  }
  std::vector<rollup::OutboxEntry> entries;
  const size_t room = kWindow - std::min(kWindow, window_.size());
  if (room > 0) s = rollup::ReadOutbox(*state, read_next_, room, &entries);
  if (!s.ok()) return s;
  files_seen_ = std::move(files);
  more_ = entries.size() == room;  // a full window, too: read again once it has room
  Take(&entries);
  return Status::OK();
}

// Adds what was read to the window. Entries between what was read before
// and the first one read now are gone (the outbox keeps them two days, and
// they were not read in time): given up.
void Deliverer::Take(std::vector<rollup::OutboxEntry>* entries) {
  if (!entries->empty() && entries->front().seq > read_next_) {
    const uint64_t gone = entries->front().seq - read_next_;
    GlobalMetrics().webhooks_expired.Add(gone);
    std::fprintf(stderr, "webhooks: %llu entries left the outbox before they were read\n",
                 static_cast<unsigned long long>(gone));
    DoneRange(read_next_, entries->front().seq);
  }
  for (rollup::OutboxEntry& e : *entries) {
    read_next_ = e.seq + 1;
    if (done_.contains(e.seq) || e.seq < cursor_) continue;
    const uint64_t seq = e.seq;
    const bool wanted =
        std::find(opt_.events.begin(), opt_.events.end(), e.type) != opt_.events.end();
    window_[seq] = Pending{std::move(e)};
    if (!wanted) Done(seq);
  }
}

int64_t Deliverer::AttemptDue() {
  int64_t due = INT64_MAX;
  std::set<std::string> held;  // referrers whose first entry is not done
  for (auto it = window_.begin(); it != window_.end();) {
    Pending& p = (it++)->second;
    if (held.contains(p.entry.referrer_id)) continue;
    if (p.attempts > 0 && SteadyNanos() - p.first_ns > opt_.give_up_us * 1000) {
      GlobalMetrics().webhooks_expired.Add();
      Done(p.entry.seq);  // erases p; `it` is past it
      continue;
    }
    held.insert(p.entry.referrer_id);
    if (p.next_ns > SteadyNanos()) {
      due = std::min(due, p.next_ns);
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (stop_) return due;
    }
    const uint64_t seq = p.entry.seq;
    const std::string referrer = p.entry.referrer_id;
    Attempt(&p);
    if (window_.contains(seq)) {
      due = std::min(due, p.next_ns);
    } else {
      held.erase(referrer);  // delivered: the referrer's next one may go in this pass
    }
  }
  return due;
}

void Deliverer::Attempt(Pending* p) {
  if (p->attempts++ > 0) GlobalMetrics().webhooks_retried.Add();
  if (p->attempts == 1) p->first_ns = SteadyNanos();
  const std::string sig = Signature(NowMicros() / 1'000'000, p->entry.body, opt_.secrets);
  int status = 0;
  Status s = sender_.Post(opt_.target, p->entry.body, sig, &status);
  if (s.ok() && status >= 200 && status < 300) {
    GlobalMetrics().webhooks_delivered.Add();
    return Done(p->entry.seq);
  }
  GlobalMetrics().webhooks_failed.Add();
  const int shift = std::min(p->attempts - 1, 30);
  const int64_t wait_ms =
      std::min<int64_t>(int64_t{opt_.first_retry_ms} << shift, opt_.max_retry_ms);
  p->next_ns = SteadyNanos() + wait_ms * 1'000'000;
}

// Not synced: a crash that loses it delivers the entry again (at least
// once, the same id); a clean stop or kill -9 keeps it (RocksDB's log).
void Deliverer::Done(uint64_t seq) { DoneRange(seq, seq + 1); }

void Deliverer::DoneRange(uint64_t from, uint64_t to) {
  window_.erase(window_.lower_bound(from), window_.lower_bound(to));
  StateDb::Batch b;
  if (from <= cursor_ && cursor_ < to) {  // the cursor moves past the range and what follows done
    for (auto it = done_.begin(); it != done_.end() && *it < to; it = done_.erase(it)) {
      b.Delete(DoneKey(*it));
    }
    for (cursor_ = to; done_.erase(cursor_) > 0; ++cursor_) b.Delete(DoneKey(cursor_));
    b.Put(kCursorKey, Fixed(cursor_));
  } else {
    for (uint64_t seq = std::max(from, cursor_); seq < to; ++seq) {
      if (done_.insert(seq).second) b.Put(DoneKey(seq), "");
    }
  }
  if (Status s = db_->Commit(b, /*sync=*/false); !s.ok()) {
    std::fprintf(stderr, "webhooks: saving the position: %s\n", s.ToString().c_str());
  }
}

void Deliverer::UpdateOldest() {
  int64_t oldest = 0;
  for (const auto& [seq, p] : window_) {
    oldest = std::max(oldest, (NowMicros() - p.entry.created_us) / 1'000'000);
  }
  GlobalMetrics().webhooks_oldest_undelivered_s.store(oldest, std::memory_order_relaxed);
}

}  // namespace refgate::webhooks
