#include "store/state_db.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

namespace refgate {
namespace {
Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  return Status::IOError(s.ToString());
}
}  // namespace

StateDb::StateDb(rocksdb::DB* db) : db_(db) {}
StateDb::~StateDb() = default;

Status StateDb::Open(const std::string& dir, bool read_only, std::unique_ptr<StateDb>* out) {
  rocksdb::Options opts;
  opts.create_if_missing = !read_only;
  opts.max_open_files = 256;
  opts.write_buffer_size = 256 << 20;        // a run's commit is one large batch
  opts.memtable_whole_key_filtering = true;  // most first-touch Gets miss
  opts.memtable_prefix_bloom_size_ratio = 0.05;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(opts, dir, &db) : rocksdb::DB::Open(opts, dir, &db);
  if (!s.ok()) return FromRocks(s);
  out->reset(new StateDb(db));
  return Status::OK();
}

Status StateDb::Get(std::string_view key, std::string* value) const {
  return FromRocks(db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), value));
}

Status StateDb::Scan(std::string_view prefix,
                     const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (!k.starts_with(prefix)) break;
    if (!fn(k, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status());
}

Status StateDb::Commit(const std::vector<Write>& writes, bool sync) {
  // In key order: the memtable's skiplist then reuses its last insertion
  // point, which made a large commit several times cheaper.
  std::vector<const Write*> sorted;
  sorted.reserve(writes.size());
  for (const Write& w : writes) sorted.push_back(&w);
  // Stable: writes to one key keep their order, so the last one wins.
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Write* a, const Write* b) { return a->key < b->key; });
  rocksdb::WriteBatch batch;
  for (const Write* wp : sorted) {
    const Write& w = *wp;
    if (w.erase) {
      batch.Delete(w.key);
    } else {
      batch.Put(w.key, w.value);
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Write(wo, &batch));
}

}  // namespace refgate
