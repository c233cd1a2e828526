#include "store/state_db.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <thread>

#include "store/rocks_status.h"

namespace refgate {

namespace {

// The state's one merge: the pieces concatenated in the order written.
class AppendOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* out, rocksdb::Logger*) const override {
    if (existing) out->assign(existing->data(), existing->size());
    out->append(value.data(), value.size());
    return true;
  }
  const char* Name() const override { return "refgate.Append"; }
};

}  // namespace

StateDb::StateDb(rocksdb::DB* db, rocksdb::Options opts, std::string dir)
    : db_(db), opts_(new rocksdb::Options(std::move(opts))), dir_(std::move(dir)) {}
StateDb::~StateDb() = default;

Status StateDb::Open(const std::string& dir, bool read_only, std::unique_ptr<StateDb>* out) {
  rocksdb::Options opts;
  opts.create_if_missing = !read_only;
  opts.max_open_files = 256;
  // Reads by pread(2) into the block cache, not by mmap: mapped file pages
  // count in the process RSS, which [rollup] max_memory_mb bounds.
  opts.write_buffer_size = 256 << 20;        // a run's commit is one large batch
  opts.memtable_whole_key_filtering = true;  // most first-touch Gets miss
  opts.memtable_prefix_bloom_size_ratio = 0.05;
  // Rows are varints and visitor hashes, which barely compress: snappy
  // cost a run's ingestion and publishing more than it saved on disk.
  opts.compression = rocksdb::kNoCompression;
  opts.merge_operator = std::make_shared<AppendOperator>();
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(opts, dir, &db) : rocksdb::DB::Open(opts, dir, &db);
  if (!s.ok()) return FromRocks(s);
  out->reset(new StateDb(db, opts, dir));
  return Status::OK();
}

Status StateDb::Get(std::string_view key, std::string* value) const {
  return FromRocks(db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), value));
}

Status StateDb::Scan(std::string_view prefix,
                     const std::function<bool(std::string_view, std::string_view)>& fn) const {
  return Scan(prefix, prefix, fn);
}

Status StateDb::Scan(std::string_view prefix, std::string_view from,
                     const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (!k.starts_with(prefix)) break;
    if (!fn(k, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status());
}

bool StateDb::Holds(std::string_view prefix) const {
  bool any = false;
  Status s = Scan(prefix, [&](std::string_view, std::string_view) { return !(any = true); });
  return any || !s.ok();
}

namespace {

// A write of one of several batches: batch << 32 | index.
using Ref = uint64_t;

// The batches' writes by key, stably (of writes to one key, the last
// stays last; the batches count in their order). Callers hand over writes
// in a few runs of ascending keys (a compaction run's row groups), so the
// runs are merged: n log(runs).
std::vector<Ref> SortedByKey(std::span<const StateDb::Batch* const> batches) {
  struct Run {
    Ref next, end;
  };
  auto key = [&](Ref r) { return batches[r >> 32]->key(static_cast<uint32_t>(r)); };
  std::vector<Run> runs;  // in the order they were handed over
  size_t total = 0;
  for (size_t b = 0; b < batches.size(); ++b) {
    const Ref base = Ref{b} << 32;
    for (uint32_t i = 0; i < batches[b]->size(); ++i) {
      if (i == 0 || key(base | i) < key(base | (i - 1))) runs.push_back({base | i, base | i});
      runs.back().end = (base | i) + 1;
    }
    total += batches[b]->size();
  }
  // The heap's top: the run with the smallest next key, the earliest on ties.
  auto after = [&](size_t x, size_t y) {
    const std::string_view kx = key(runs[x].next), ky = key(runs[y].next);
    return kx != ky ? ky < kx : y < x;
  };
  std::vector<size_t> heap(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) heap[i] = i;
  std::make_heap(heap.begin(), heap.end(), after);
  std::vector<Ref> out;
  out.reserve(total);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), after);
    Run& r = runs[heap.back()];
    out.push_back(r.next++);
    if (r.next == r.end) {
      heap.pop_back();
    } else {
      std::push_heap(heap.begin(), heap.end(), after);
    }
  }
  return out;
}

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

void StateDb::Batch::AppendTo(std::vector<Write>* out) const {
  for (size_t i = 0; i < size(); ++i) {
    out->push_back({std::string(key(i)), std::string(value(i)), erase(i), range(i), merge(i)});
  }
}

Status StateDb::Commit(const std::vector<Write>& writes, bool sync) {
  Batch batch;
  for (const Write& w : writes) {
    if (w.range) {
      batch.DeleteRange(w.key, w.value);
    } else if (w.merge) {
      batch.Merge(w.key, w.value);
    } else if (w.erase) {
      batch.Delete(w.key);
    } else {
      batch.Put(w.key, w.value);
    }
  }
  return Commit(batch, sync);
}

Status StateDb::Commit(const Batch& batch, bool sync) { return Commit({&batch}, sync); }

Status StateDb::Commit(std::initializer_list<const Batch*> batches, bool sync) {
  const std::span<const Batch* const> all(batches.begin(), batches.size());
  // In key order: the memtable's skiplist then reuses its last insertion
  // point, and a table file can be written straight from the list.
  const std::vector<Ref> sorted = SortedByKey(all);
  if (sync && sorted.size() >= kIngestAtWrites) return Ingest(all, sorted);
  rocksdb::WriteBatch wb;
  for (Ref r : sorted) {  // range deletes first: they cover none of this commit's writes
    const Batch& b = *all[r >> 32];
    const auto i = static_cast<uint32_t>(r);
    if (b.range(i)) wb.DeleteRange(ToSlice(b.key(i)), ToSlice(b.value(i)));
  }
  for (Ref r : sorted) {
    const Batch& b = *all[r >> 32];
    const auto i = static_cast<uint32_t>(r);
    if (b.range(i)) {
      continue;
    } else if (b.merge(i)) {
      wb.Merge(ToSlice(b.key(i)), ToSlice(b.value(i)));
    } else if (b.erase(i)) {
      wb.Delete(ToSlice(b.key(i)));
    } else {
      wb.Put(ToSlice(b.key(i)), ToSlice(b.value(i)));
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Write(wo, &wb));
}

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

// Where the sorted writes split into two table files with disjoint key
// ranges, about half and half: at the first key from "a" on (the rollup's
// row tags are lower case, the rest upper case), unless a range deletion
// reaches over it. 0: no split.
size_t SplitPoint(std::span<const StateDb::Batch* const> batches,
                  std::span<const uint64_t> sorted) {
  auto key = [&](uint64_t r) { return batches[r >> 32]->key(static_cast<uint32_t>(r)); };
  const auto at =
      std::partition_point(sorted.begin(), sorted.end(), [&](uint64_t r) { return key(r) < "a"; });
  if (at == sorted.begin() || at == sorted.end()) return 0;
  for (auto it = sorted.begin(); it != at; ++it) {
    const StateDb::Batch& b = *batches[*it >> 32];
    const auto i = static_cast<uint32_t>(*it);
    if (b.range(i) && b.value(i) > key(*at)) return 0;
  }
  return static_cast<size_t>(at - sorted.begin());
}

}  // namespace

// Table files (two, written at once, where the writes split: see
// SplitPoint), synced, then added to the database in one atomic, synced
// step (RocksDB's ingestion: the files and the MANIFEST entry naming
// them), with a sequence number above every earlier write. The files are
// linked into the database, then their temporary names unlinked: a crash
// between the two leaves such a name on a live table file, so the names
// are unlinked first here, never written through.
Status StateDb::Ingest(std::span<const Batch* const> batches, const std::vector<uint64_t>& sorted) {
  const size_t split = SplitPoint(batches, sorted);
  std::vector<std::string> paths = {dir_ + "/ingest.sst.tmp", dir_ + "/ingest-2.sst.tmp"};
  for (const std::string& path : paths) {  // a crash's leftover names too
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IOError(path + ": unlink: " + std::strerror(errno));
    }
  }
  const std::span<const uint64_t> all(sorted);
  rocksdb::Status second;
  std::thread other;
  if (split > 0) {
    other =
        std::thread([&] { second = WriteTable(*opts_, paths[1], batches, all.subspan(split)); });
  }
  rocksdb::Status s = WriteTable(*opts_, paths[0], batches, split > 0 ? all.first(split) : all);
  if (other.joinable()) other.join();
  if (s.ok()) s = second;
  if (split == 0) paths.pop_back();
  if (s.ok()) {
    rocksdb::IngestExternalFileOptions io;
    io.move_files = true;
    s = db_->IngestExternalFile(paths, io);
  }
  if (!s.ok()) {
    for (const std::string& path : paths) std::remove(path.c_str());
  }
  return FromRocks(s);
}

}  // namespace refgate
