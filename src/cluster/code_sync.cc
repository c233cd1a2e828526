#include "cluster/code_sync.h"

#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "store/code_codec.h"
#include "util/metrics.h"

namespace refgate::cluster {
namespace {

constexpr int64_t kRetryMs = 500;   // between attempts to reach NATS
constexpr int64_t kCheckMs = 2000;  // an idle feed is checked against the bucket this often
constexpr size_t kMaxBatch = 512;   // entries applied in one store write
constexpr int64_t kAwaitMs = 5000;  // AwaitApplied's bound
constexpr std::string_view kUnreachable = "cluster unreachable (NATS): nothing was written";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

CodeSync::CodeSync(SyncOptions options, CodeStore* store)
    : options_(std::move(options)), store_(store) {
  uint64_t applied = 0;
  (void)store_->AppliedRevision(&applied);  // an error shows again in Follow
  {
    MutexLock lock(&mu_);
    applied_ = applied;
  }
  thread_ = std::thread([this] { Run(); });
}

CodeSync::~CodeSync() { Stop(); }

void CodeSync::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

bool CodeSync::connected() const {
  MutexLock lock(&mu_);
  return bucket_ != nullptr && bucket_->connected();
}

uint64_t CodeSync::applied() const {
  MutexLock lock(&mu_);
  return applied_;
}

bool CodeSync::Pause(int64_t ms) {
  MutexLock lock(&mu_);
  const int64_t until = NowMs() + ms;
  while (!stopping_ && NowMs() < until)
    changed_.WaitFor(&mu_, std::chrono::milliseconds(until - NowMs()));
  return !stopping_;
}

bool CodeSync::stopping() const {
  MutexLock lock(&mu_);
  return stopping_;
}

void CodeSync::Run() {
  std::string reported;  // the last failure printed, not printed again in a row
  while (Connect()) {
    Status s = Follow();
    if (s.ok()) break;  // stopping
    if (s.ToString() != reported) {
      reported = s.ToString();
      std::fprintf(stderr, "cluster: following the codes: %s; resuming\n", reported.c_str());
    }
    if (!Pause(kRetryMs)) break;
  }
  GlobalMetrics().cluster_connected.store(0, std::memory_order_relaxed);
}

bool CodeSync::Connect() {
  bool reported = false;
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (stopping_) return false;
      if (bucket_) return true;
    }
    std::unique_ptr<KvBucket> b;
    Status s = KvBucket::Open(options_.servers, options_.bucket, options_.replicas, &b,
                              options_.timeout_ms);
    if (s.ok()) {
      std::printf("cluster: connected to %s\n", options_.servers.c_str());
      MutexLock lock(&mu_);
      bucket_ = std::move(b);
      continue;
    }
    if (!reported) std::fprintf(stderr, "cluster: %s; retrying\n", s.ToString().c_str());
    reported = true;
    if (!Pause(kRetryMs)) return false;
  }
}

KvBucket* CodeSync::Bucket(Status* unavailable) const {
  KvBucket* b = nullptr;
  {
    MutexLock lock(&mu_);
    b = bucket_.get();
  }
  if (b == nullptr || !b->connected()) {
    *unavailable = Status::IOError(std::string(kUnreachable));
    return nullptr;
  }
  return b;
}

Status CodeSync::Follow() {
  KvBucket* b = nullptr;
  {
    MutexLock lock(&mu_);
    b = bucket_.get();
  }
  uint64_t applied = 0, last = 0;
  Status s = store_->AppliedRevision(&applied);
  if (s.ok()) s = b->LastRevision(&last);
  if (!s.ok()) return s;
  if (last < applied) {
    std::printf(
        "cluster: the codes' bucket is at revision %llu, below the %llu applied here: "
        "reading it again from its start\n",
        static_cast<unsigned long long>(last), static_cast<unsigned long long>(applied));
    applied = 0;
    MutexLock lock(&mu_);
    applied_ = 0;  // AwaitApplied waits on the new bucket's revisions
  }
  const uint64_t reconnects = b->reconnects();
  std::unique_ptr<KvWatcher> watch;
  if (s = b->Watch(applied, &watch); !s.ok()) return s;
  bool in_sync = false;
  std::vector<KvEntry> batch;
  int64_t checked = NowMs();
  while (!stopping()) {
    GlobalMetrics().cluster_connected.store(b->connected() ? 1 : 0, std::memory_order_relaxed);
    if (!in_sync && last <= applied) {
      std::printf("cluster: codes in sync at revision %llu\n",
                  static_cast<unsigned long long>(applied));
      in_sync = true;
    }
    KvEntry e;
    bool got = false, caught_up = false;
    if (s = watch->Next(batch.empty() ? 250 : 20, &e, &got, &caught_up); !s.ok()) return s;
    if (got) batch.push_back(std::move(e));
    if (!batch.empty() && (!got || caught_up || batch.size() >= kMaxBatch)) {
      if (s = ApplyBatch(batch); !s.ok()) return s;
      applied = batch.back().revision;
      batch.clear();
    }
    if (got) checked = NowMs();
    if (!got && NowMs() - checked >= kCheckMs) {
      // A feed gone quiet after an outage (or a consumer lost with its
      // server): start it again if the bucket moved on without it.
      checked = NowMs();
      if (b->reconnects() != reconnects) return Status::IOError("reconnected to NATS");
      if (s = b->LastRevision(&last); !s.ok()) return s;
      if (last > applied) return Status::IOError("the feed stopped short of the bucket");
    }
  }
  return Status::OK();
}

// Keeps the last entry of each code (the feed may carry a code twice in a
// batch: created, then changed); a tombstone for a KV delete marker (not
// refgate's own deletes, which write tombstones, but the nats CLI's).
Status CodeSync::ApplyBatch(const std::vector<KvEntry>& entries) {
  std::vector<CodeStore::Applied> recs;
  std::unordered_map<std::string, size_t> at;  // code -> its index in recs
  for (const KvEntry& e : entries) {
    CodeStore::Applied a{{}, e.revision};
    if (e.deleted) {
      Status g = store_->Get(e.key, &a.rec);
      if (g.IsNotFound()) continue;
      if (!g.ok()) return g;
      a.rec.status = CodeStatus::kDeleted;
    } else if (Status d = DecodeCodeRecord(e.value, &a.rec); !d.ok() || a.rec.code != e.key) {
      std::fprintf(stderr,
                   "cluster: bucket entry \"%s\" at revision %llu is not a code record; "
                   "skipped\n",
                   e.key.c_str(), static_cast<unsigned long long>(e.revision));
      continue;
    }
    auto [it, fresh] = at.try_emplace(a.rec.code, recs.size());
    if (fresh) {
      recs.push_back(std::move(a));
    } else {
      recs[it->second] = std::move(a);
    }
  }
  const uint64_t applied = entries.back().revision;
  if (Status s = store_->Apply(recs, applied); !s.ok()) return s;
  GlobalMetrics().cluster_codes_revision.store(static_cast<int64_t>(applied),
                                               std::memory_order_relaxed);
  MutexLock lock(&mu_);
  applied_ = applied;
  changed_.SignalAll();
  return Status::OK();
}

Status CodeSync::Create(const CodeRecord& rec, uint64_t* revision) {
  Status s;
  KvBucket* b = Bucket(&s);
  if (b == nullptr) return s;
  std::string value;
  EncodeCodeRecord(rec, &value);
  return b->Create(rec.code, value, revision);
}

Status CodeSync::Read(std::string_view code, CodeRecord* rec, uint64_t* revision) {
  Status s;
  KvBucket* b = Bucket(&s);
  if (b == nullptr) return s;
  KvEntry e;
  if (s = b->Get(code, &e); !s.ok()) return s;
  *revision = e.revision;
  if (e.deleted) return Status::NotFound(std::string(code));
  return DecodeCodeRecord(e.value, rec);
}

Status CodeSync::Replace(const CodeRecord& rec, uint64_t last, uint64_t* revision) {
  if (last == 0) return Create(rec, revision);  // an update "after revision 0" would not check
  Status s;
  KvBucket* b = Bucket(&s);
  if (b == nullptr) return s;
  std::string value;
  EncodeCodeRecord(rec, &value);
  return b->Update(rec.code, value, last, revision);
}

void CodeSync::AwaitApplied(uint64_t revision) {
  const int64_t until = NowMs() + kAwaitMs;
  MutexLock lock(&mu_);
  while (applied_ < revision && !stopping_ && NowMs() < until) {
    changed_.WaitFor(&mu_, std::chrono::milliseconds(until - NowMs()));
  }
}

}  // namespace refgate::cluster
