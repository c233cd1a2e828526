// StateDb's large commits: table files written, synced and ingested
// (state_db.h, Commit), and the sorted puts streamed into one of their own.
#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "store/rocks_status.h"
#include "store/state_db.h"
#include "store/state_db_internal.h"

namespace refgate {

using state_db_internal::Ref;
using state_db_internal::SortedByKey;
using state_db_internal::TableParts;
using state_db_internal::ToSlice;

namespace {

// Writes `sorted` (of `batches`, in key order) as the table file `path`, synced.
rocksdb::Status WriteTable(const rocksdb::Options& opts, const std::string& path,
                           std::span<const StateDb::Batch* const> batches,
                           std::span<const uint64_t> sorted) {
  auto key = [&](uint64_t r) { return batches[r >> 32]->key(static_cast<uint32_t>(r)); };
  auto is_range = [&](uint64_t r) { return batches[r >> 32]->range(static_cast<uint32_t>(r)); };
  // invalidate_page_cache false: by default the writer drops what it wrote
  // from the page cache, and the run's publishing (and the next run's
  // lookups) then read the whole file back from the disk.
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), opts, nullptr,
                                /*invalidate_page_cache=*/false);
  rocksdb::Status s = writer.Open(path);
  // The range deletions first (they share the file's sequence number, so
  // they cover none of its keys), then the point writes without them.
  std::vector<uint64_t> points;
  points.reserve(sorted.size());
  for (uint64_t r : sorted) {
    if (!is_range(r)) {
      points.push_back(r);
    } else if (s.ok()) {
      const StateDb::Batch& b = *batches[r >> 32];
      s = writer.DeleteRange(ToSlice(key(r)), ToSlice(b.value(static_cast<uint32_t>(r))));
    }
  }
  std::string merged;
  for (size_t n = 0; s.ok() && n < points.size();) {
    const std::string_view k = key(points[n]);
    size_t end = n + 1;
    while (end < points.size() && key(points[end]) == k) ++end;
    const StateDb::Batch& b = *batches[points[end - 1] >> 32];
    const auto last = static_cast<uint32_t>(points[end - 1]);
    if (end == n + 1 || !b.merge(last)) {  // one write, or the last is a put or delete: it wins
      n = end;
      s = b.merge(last)   ? writer.Merge(ToSlice(k), ToSlice(b.value(last)))
          : b.erase(last) ? writer.Delete(ToSlice(k))
                          : writer.Put(ToSlice(k), ToSlice(b.value(last)));
      continue;
    }
    // Merges last: the last put or delete before them, then their pieces
    // appended (a table file holds one entry per key).
    bool base = false;
    merged.clear();
    for (; n < end; ++n) {
      const StateDb::Batch& w = *batches[points[n] >> 32];
      const auto j = static_cast<uint32_t>(points[n]);
      if (!w.merge(j)) {
        base = true;
        merged.clear();
      }
      merged.append(w.value(j));  // a delete's value is empty
    }
    s = base ? writer.Put(ToSlice(k), ToSlice(merged)) : writer.Merge(ToSlice(k), ToSlice(merged));
  }
  return s.ok() ? writer.Finish() : s;  // Finish syncs the file
}

// OK when the key ranges [first, last] and [lo, hi] (of `what`) are apart.
Status Apart(std::string_view first, std::string_view last, std::string_view lo,
             std::string_view hi, std::string_view what) {
  if (last < lo || hi < first) return Status::OK();
  return Status::InvalidArgument("state commit: sorted puts " + std::string(first) + " to " +
                                 std::string(last) + " overlap " + std::string(what) + " " +
                                 std::string(lo) + " to " + std::string(hi));
}

// OK when no key from `first` to `last` lies in the range of one of the
// batches' table files (TableParts): its first key to its last, or to the
// end of a range deletion reaching further (taken as included).
Status Apart(std::span<const StateDb::Batch* const> batches,
             std::span<const std::span<const uint64_t>> parts, std::string_view first,
             std::string_view last) {
  auto key = [&](uint64_t r) { return batches[r >> 32]->key(static_cast<uint32_t>(r)); };
  for (std::span<const uint64_t> part : parts) {
    const std::string_view lo = key(part.front());
    std::string_view hi = key(part.back());
    for (uint64_t r : part) {
      const StateDb::Batch& b = *batches[r >> 32];
      const auto i = static_cast<uint32_t>(r);
      if (b.range(i) && b.value(i) > hi) hi = b.value(i);
    }
    if (Status s = Apart(first, last, lo, hi, "a batch's writes"); !s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

std::vector<std::span<const Ref>> state_db_internal::TableParts(
    std::span<const StateDb::Batch* const> batches, std::span<const Ref> sorted,
    std::span<const std::string_view> at) {
  auto key = [&](uint64_t r) { return batches[r >> 32]->key(static_cast<uint32_t>(r)); };
  std::vector<size_t> cuts;
  for (std::string_view from : at) {
    cuts.push_back(
        static_cast<size_t>(std::partition_point(sorted.begin(), sorted.end(),
                                                 [&](uint64_t r) { return key(r) < from; }) -
                            sorted.begin()));
  }
  std::sort(cuts.begin(), cuts.end());
  std::vector<std::span<const Ref>> parts;
  std::string_view reach;  // the furthest end of a range deletion before the cut
  size_t begin = 0, i = 0;
  for (const size_t cut : cuts) {
    for (; i < cut; ++i) {
      const StateDb::Batch& b = *batches[sorted[i] >> 32];
      const auto j = static_cast<uint32_t>(sorted[i]);
      if (b.range(j) && b.value(j) > reach) reach = b.value(j);
    }
    if (cut > begin && cut < sorted.size() && reach <= key(sorted[cut])) {
      parts.push_back(sorted.subspan(begin, cut - begin));
      begin = cut;
    }
  }
  if (begin < sorted.size()) parts.push_back(sorted.subspan(begin));
  return parts;
}

// Table files (the batches' parts, TableParts, written two at once, and
// the sorted puts' own, where given), synced, then added
// to the database in one atomic, synced step (RocksDB's ingestion: the
// files and the MANIFEST entry naming them), with a sequence number above
// every earlier write. The files are linked into the database, then their
// temporary names unlinked: a crash between the two leaves such a name on
// a live table file, so the names are unlinked first here, never written
// through.
Status StateDb::Ingest(std::span<const Batch* const> batches,
                       std::span<const std::span<const uint64_t>> parts,
                       std::span<Sorted* const> more) {
  std::vector<std::string> paths;
  for (size_t i = 0; i < state_db_internal::kTableParts; ++i) {  // a crash's leftover names too
    const std::string path = state_db_internal::TablePartPath(dir_, i);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IOError(path + ": unlink: " + std::strerror(errno));
    }
    if (i < parts.size()) paths.push_back(path);
  }
  // The odd parts on a thread of their own, the even ones on this one.
  rocksdb::Status odd, s;
  auto write = [&](size_t from, rocksdb::Status* out) {
    for (size_t i = from; out->ok() && i < parts.size(); i += 2) {
      *out = WriteTable(*opts_, paths[i], batches, parts[i]);
    }
  };
  std::thread other;
  if (parts.size() > 1) other = std::thread(write, 1, &odd);
  write(0, &s);
  if (other.joinable()) other.join();
  if (s.ok()) s = odd;
  Status status = FromRocks(s);
  for (Sorted* m : more) {
    if (!status.ok() || m->size() == 0) continue;
    status = m->Finish();
    paths.push_back(m->path_);
  }
  if (status.ok() && !paths.empty()) {
    rocksdb::IngestExternalFileOptions io;
    io.move_files = true;
    status = FromRocks(db_->IngestExternalFile(paths, io));
  }
  if (!status.ok()) {
    for (const std::string& path : paths) std::remove(path.c_str());
  }
  return status;
}

std::unique_ptr<StateDb::Sorted> StateDb::NewSorted() {
  const auto slot = static_cast<uint32_t>(std::countr_one(sorted_slots_));
  if (slot >= state_db_internal::kSortedSlots) std::abort();  // a caller's bug: too many alive
  sorted_slots_ |= uint32_t{1} << slot;
  return std::unique_ptr<Sorted>(new Sorted(
      opts_.get(), state_db_internal::SortedTablePath(dir_, slot), &sorted_slots_, slot));
}

Status StateDb::Commit(std::initializer_list<const Batch*> batches,
                       std::initializer_list<Sorted*> sorted) {
  std::vector<const Batch*> all(batches);
  const std::vector<Ref> order = SortedByKey(all);
  size_t writes = order.size();
  bool files = false;
  std::vector<std::string_view> cuts = {"a"};
  for (Sorted* s : sorted) {
    if (!s->status_.ok()) return s->status_;
    if (s->size() > 0) cuts.push_back(s->first_);
  }
  const std::vector<std::span<const Ref>> parts = TableParts(all, order, cuts);
  for (Sorted* s : sorted) {
    writes += s->size();
    files = files || s->file_;
    if (s->size() == 0) continue;
    // Held to in a small commit too, so that a caller's mistake shows in its small tests.
    if (Status a = Apart(all, parts, s->first_, s->last_); !a.ok()) return a;
    for (Sorted* t : sorted) {
      if (t == s || t->size() == 0) continue;
      if (Status a = Apart(s->first_, s->last_, t->first_, t->last_, "others"); !a.ok()) return a;
    }
  }
  if (files || writes >= kIngestAtWrites) {
    return Ingest(all, parts, std::span<Sorted* const>(sorted.begin(), sorted.size()));
  }
  for (Sorted* s : sorted) all.push_back(&s->filling_);  // small: through the memtable and its log
  return CommitAll(all, true);
}

StateDb::Sorted::Sorted(const rocksdb::Options* opts, std::string path, uint32_t* slots,
                        uint32_t slot)
    : opts_(opts), path_(std::move(path)), slots_(slots), slot_(slot) {}

StateDb::Sorted::~Sorted() {
  Join();
  if (file_) std::remove(path_.c_str());  // not ingested (after an ingestion: gone already)
  *slots_ &= ~(uint32_t{1} << slot_);
}

void StateDb::Sorted::Add(std::string_view key, std::string_view value, bool merge) {
  if (!status_.ok()) return;
  if (size() > 0 && key <= std::string_view(last_)) {
    status_ = Status::InvalidArgument("state commit: sorted put " + std::string(key) +
                                      " not after " + last_);
    return;
  }
  if (size() == 0) first_.assign(key);
  last_.assign(key);
  merge ? filling_.Merge(key, value) : filling_.Put(key, value);
  if (!file_) {
    if (filling_.size() >= kIngestAtWrites) Spill();
  } else if (filling_.bytes() >= kChunkBytes) {
    Hand();
  }
}

void StateDb::Sorted::Spill() {
  if (unlink(path_.c_str()) != 0 && errno != ENOENT) {  // a crash's leftover name
    status_ = Status::IOError(path_ + ": unlink: " + std::strerror(errno));
    return;
  }
  // invalidate_page_cache false: as WriteTable's.
  file_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), *opts_, nullptr,
                                                   /*invalidate_page_cache=*/false);
  status_ = FromRocks(file_->Open(path_));
  Hand();
}

void StateDb::Sorted::Hand() {
  Join();
  if (!status_.ok()) return;
  written_ += filling_.size();
  std::swap(filling_, writing_);
  filling_.Clear();
  writer_ = std::thread([this] {
    rocksdb::Status s;
    for (size_t i = 0; i < writing_.size() && s.ok(); ++i) {
      const rocksdb::Slice key = ToSlice(writing_.key(i)), value = ToSlice(writing_.value(i));
      s = writing_.merge(i) ? file_->Merge(key, value) : file_->Put(key, value);
    }
    write_status_ = FromRocks(s);
  });
}

void StateDb::Sorted::Join() {
  if (!writer_.joinable()) return;
  writer_.join();
  if (status_.ok()) status_ = write_status_;
}

Status StateDb::Sorted::Finish() {
  if (!file_) Spill();
  if (filling_.size() > 0) Hand();
  Join();
  if (status_.ok()) status_ = FromRocks(file_->Finish());  // syncs the file
  return status_;
}

}  // namespace refgate
