#include "store/state_db.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

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
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(opts, dir, &db)
                                : rocksdb::DB::Open(opts, dir, &db);
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

Status StateDb::Commit(const std::vector<Write>& writes) {
  rocksdb::WriteBatch batch;
  for (const Write& w : writes) {
    if (w.erase) {
      batch.Delete(w.key);
    } else {
      batch.Put(w.key, w.value);
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch));
}

}  // namespace refgate
