#include "store/state_db.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
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
#include "store/state_db_internal.h"

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
  if (!read_only) {
    // A crash's leftover names of Sorted table files: a name on a live table
    // file would keep its disk space after RocksDB deletes the file.
    for (uint32_t slot = 0; slot < state_db_internal::kSortedSlots; ++slot) {
      std::remove(state_db_internal::SortedTablePath(dir, slot).c_str());
    }
  }
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

namespace state_db_internal {

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

}  // namespace state_db_internal

using state_db_internal::Ref;
using state_db_internal::SortedByKey;
using state_db_internal::ToSlice;

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
  return CommitAll(std::span<const Batch* const>(batches.begin(), batches.size()), sync);
}

Status StateDb::CommitAll(std::span<const Batch* const> all, bool sync) {
  // In key order: the memtable's skiplist then reuses its last insertion
  // point, and a table file can be written straight from the list.
  const std::vector<Ref> sorted = SortedByKey(all);
  if (sync && sorted.size() >= kIngestAtWrites) {
    const std::string_view cuts[] = {"a"};
    return Ingest(all, state_db_internal::TableParts(all, sorted, cuts), {});
  }
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

}  // namespace refgate
