#include "rollup/compactor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "clicklog/records.h"
#include "clicklog/retention.h"
#include "rollup/aggregate.h"
#include "rollup/publish.h"
#include "rollup/rows.h"
#include "util/coding.h"

namespace refgate::rollup {
namespace {

// Holds an exclusive flock for its lifetime.
class FileLock {
 public:
  Status Acquire(const std::string& path) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::IOError(path + ": " + std::strerror(errno));
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) return Status::IOError(path + ": flock: " + std::strerror(errno));
    }
    return Status::OK();
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }

 private:
  int fd_ = -1;
};

// A segment read into memory after making sure what is read is on disk.
// Not mmap of the file: the writer cuts the zeros off the newest segment
// when it seals it, and touching a mapped page past the new end of the file
// is SIGBUS (in serve, the job runs in the server's process). read(2) just
// comes back short. The buffer is anonymous memory populated in one go:
// on these VMs a page fault per page cost more than the parsing.
class DurableSegment {
 public:
  Status Open(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
    struct stat st;
    bool ok = fdatasync(fd) == 0 && fstat(fd, &st) == 0;
    capacity_ = ok ? static_cast<size_t>(st.st_size) : 0;
    if (ok && capacity_ > 0) {
      void* p = mmap(nullptr, capacity_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      ok = p != MAP_FAILED;
      mem_ = ok ? static_cast<char*>(p) : nullptr;
    }
    while (ok && size_ < capacity_) {
      ssize_t n = read(fd, mem_ + size_, capacity_ - size_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok = n == 0;  // 0: cut shorter meanwhile
        break;
      }
      size_ += static_cast<size_t>(n);
    }
    close(fd);
    if (!ok) return Status::IOError(path + ": cannot sync and read: " + std::strerror(errno));
    return Status::OK();
  }
  ~DurableSegment() {
    if (mem_) munmap(mem_, capacity_);
  }
  std::string_view data() const { return std::string_view(mem_ ? mem_ : "", size_); }

 private:
  char* mem_ = nullptr;
  size_t capacity_ = 0, size_ = 0;
};

std::set<std::string> DecodeDates(std::string_view in) {
  std::set<std::string> dates;
  std::string_view d;
  while (GetLengthPrefixed(&in, &d)) dates.emplace(d);
  return dates;
}

std::string EncodeDates(const std::set<std::string>& dates) {
  std::string out;
  for (const auto& d : dates) PutLengthPrefixed(&out, d);
  return out;
}

class Progress {
 public:
  Progress(bool on, uint64_t total_bytes) : on_(on), total_(total_bytes) {}
  void Update(uint64_t records, uint64_t bytes_done, bool force = false) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\rcompact: %llu records, %.0f/s, %.1f MiB of %.1f MiB read   ",
                 static_cast<unsigned long long>(records), secs > 0 ? records / secs : 0.0,
                 bytes_done / 1048576.0, total_ / 1048576.0);
    if (force) std::fputc('\n', stderr);
  }

 private:
  bool on_;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_;
};

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
  Counter(Aggregate* agg, CompactResult* result) : agg_(agg), result_(result) {}
  void OnClick(const clicklog::Record&, const ClickRecord& click) override {
    if (Status s = agg_->Add(click); !s.ok()) {
      status_ = s;
      return;
    }
    ++result_->records;
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
  Aggregate* agg_;
  CompactResult* result_;
  Status status_;
  bool stop_ = false;
};

}  // namespace

Status Compact(const CompactOptions& opt, CompactResult* result) {
  *result = CompactResult();
  const std::string rollups = opt.data_dir + "/rollups", clicks = opt.data_dir + "/clicks";
  std::error_code ec;
  std::filesystem::create_directories(rollups, ec);
  if (ec) return Status::IOError(rollups + ": " + ec.message());
  FileLock lock;
  Status s = lock.Acquire(rollups + "/.lock");
  std::unique_ptr<StateDb> db;
  if (s.ok()) s = StateDb::Open(rollups + "/state", false, &db);
  if (!s.ok()) return s;

  std::string value;
  uint64_t through = 0;
  if (db->Get(kThroughKey, &value).ok() && value.size() == 8) through = DecodeFixed64(value.data());
  std::set<std::string> dirty;
  if (db->Get(kDirtyKey, &value).ok()) dirty = DecodeDates(value);
  uint64_t orphans = 0;
  if (db->Get(kOrphansKey, &value).ok() && value.size() == 8) orphans = DecodeFixed64(value.data());

  std::vector<std::pair<uint64_t, std::string>> segments;
  s = clicklog::ListSegments(clicks, &segments);
  if (!s.ok()) return s;
  size_t first = 0;  // the segment holding through + 1
  while (first + 1 < segments.size() && segments[first + 1].first <= through + 1) ++first;
  uint64_t total_bytes = 0;
  for (size_t i = first; i < segments.size(); ++i) {
    total_bytes += std::filesystem::file_size(clicks + "/" + segments[i].second, ec);
  }

  Aggregate agg(db.get());
  Progress progress(opt.progress, total_bytes);
  DamageReporter reporter(result);
  Counter counter(&agg, result);
  clicklog::RecordDispatcher dispatch;
  uint64_t last_seq = through, bytes_done = 0, read = 0;
  for (size_t i = first; i < segments.size() && read < opt.max_records && counter.ok(); ++i) {
    DurableSegment segment;
    s = segment.Open(clicks + "/" + segments[i].second);
    if (!s.ok()) return s;
    std::string_view data = segment.data();
    const bool newest = i + 1 == segments.size();
    clicklog::SegmentParser parser(data, segments[i].second, &reporter, newest);
    clicklog::Record rec;
    while (read < opt.max_records && parser.Next(&rec)) {
      if (rec.seq <= last_seq) {
        reporter.Forget();
        continue;
      }
      reporter.Report(false);
      dispatch.Dispatch(rec, &counter);
      if (!counter.ok()) break;  // stops before this record
      // Every record read moves the checkpoint, whatever its type, so that
      // the checkpoint never lags behind records this run has looked at.
      last_seq = rec.seq;
      ++read;
      progress.Update(read, bytes_done + rec.offset);
    }
    if (counter.ok()) reporter.Report(newest);
    bytes_done += data.size();
  }
  if (!counter.status().ok() && !counter.stop()) return counter.status();  // the state failed
  progress.Update(read, bytes_done, true);

  if (last_seq > through) {
    std::vector<StateDb::Write> writes;
    agg.Writes(&writes);
    dirty.insert(agg.dates().begin(), agg.dates().end());
    std::string through_value, orphans_value;
    PutFixed64(&through_value, last_seq);
    PutFixed64(&orphans_value, orphans + agg.orphans());
    writes.push_back({std::string(kThroughKey), through_value});
    writes.push_back({std::string(kOrphansKey), orphans_value});
    writes.push_back({std::string(kDirtyKey), EncodeDates(dirty)});
    if (s = db->Commit(writes); !s.ok()) return s;
  }
  result->through_seq = last_seq;
  if (opt.after_commit) opt.after_commit();

  if (!dirty.empty() || !std::filesystem::exists(rollups + "/manifest.json")) {
    if (s = Publish(*db, rollups, dirty, last_seq, opt.io ? opt.io : DefaultFileIo()); !s.ok())
      return s;
    result->dates_published = dirty.size();
    if (s = db->Commit({{std::string(kDirtyKey), "", true}}); !s.ok()) return s;
  }
  result->segments_deleted =
      clicklog::DeleteRolledUpSegments(clicks, segments, last_seq, opt.retention_days);
  return counter.status();  // after a record to stop at, what came before it is published
}

}  // namespace refgate::rollup
