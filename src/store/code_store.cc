#include "store/code_store.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <unordered_set>

#include "store/code_codec.h"
#include "store/rocks_status.h"
#include "util/coding.h"
#include "util/metrics.h"

namespace refgate {
namespace {

std::string CodeKey(std::string_view code) {
  std::string k;
  k.reserve(code.size() + 1);
  k.push_back('c');
  k.append(code);
  return k;
}

std::string IndexKey(std::string_view referrer_id, std::string_view code) {
  std::string k;
  k.reserve(referrer_id.size() + code.size() + 2);
  k.push_back('r');
  k.append(referrer_id);
  k.push_back('\0');
  k.append(code);
  return k;
}

std::string RevisionKey(std::string_view code) {
  std::string k;
  k.reserve(code.size() + 1);
  k.push_back('v');
  k.append(code);
  return k;
}

constexpr std::string_view kAppliedKey = "!applied";

std::string Fixed64(uint64_t v) {
  std::string out;
  PutFixed64(&out, v);
  return out;
}

rocksdb::WriteOptions SyncedWrite() {
  rocksdb::WriteOptions w;
  w.sync = true;
  return w;
}

}  // namespace

CodeStore::CodeStore(rocksdb::DB* db, size_t cache_entries) : db_(db), cache_(cache_entries) {}

CodeStore::~CodeStore() = default;

Status CodeStore::Open(const std::string& dir, size_t cache_entries,
                       std::unique_ptr<CodeStore>* out) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.max_open_files = 512;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, dir, &db);
  if (!s.ok()) return FromRocks(s);
  out->reset(new CodeStore(db, cache_entries));
  return Status::OK();
}

Status CodeStore::ReadRecord(std::string_view code, CodeRecord* out, bool* found) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), CodeKey(code), &value);
  if (s.IsNotFound()) {
    *found = false;
    return Status::OK();
  }
  if (!s.ok()) return FromRocks(s);
  *found = true;
  return DecodeCodeRecord(value, out);
}

Status CodeStore::Lookup(std::string_view code, CodeCache::Entry* out) {
  uint64_t gen = 0;
  if (cache_.Find(code, out, &gen)) {
    GlobalMetrics().cache_hits.Add();
    return Status::OK();
  }
  GlobalMetrics().cache_misses.Add();
  auto rec = std::make_shared<CodeRecord>();
  bool found = false;
  Status s = ReadRecord(code, rec.get(), &found);
  if (!s.ok()) return s;
  *out = found ? std::move(rec) : nullptr;
  cache_.Fill(code, *out, gen);
  return Status::OK();
}

Status CodeStore::Get(std::string_view code, CodeRecord* out) {
  bool found = false;
  Status s = ReadRecord(code, out, &found);
  if (s.ok() && !found) return Status::NotFound(std::string(code));
  return s;
}

Status CodeStore::Insert(std::span<const CodeRecord> recs, std::vector<Status>* results) {
  std::lock_guard lock(write_mu_);
  results->assign(recs.size(), Status::OK());
  rocksdb::WriteBatch batch;
  std::unordered_set<std::string_view> seen;
  std::string value;
  for (size_t i = 0; i < recs.size(); ++i) {
    const CodeRecord& rec = recs[i];
    bool found = false;
    CodeRecord existing;
    Status s = ReadRecord(rec.code, &existing, &found);
    if (!s.ok()) return s;
    if (found || !seen.insert(rec.code).second) {
      (*results)[i] = Status::AlreadyExists(rec.code);
      continue;
    }
    EncodeCodeRecord(rec, &value);
    batch.Put(CodeKey(rec.code), value);
    batch.Put(IndexKey(rec.referrer_id, rec.code), "");
  }
  if (batch.Count() == 0) return Status::OK();
  Status s = FromRocks(db_->Write(SyncedWrite(), &batch));
  if (!s.ok()) return s;
  for (size_t i = 0; i < recs.size(); ++i) {
    if ((*results)[i].ok()) cache_.Put(recs[i].code, std::make_shared<CodeRecord>(recs[i]));
  }
  return Status::OK();
}

Status CodeStore::Update(const CodeRecord& rec) {
  std::lock_guard lock(write_mu_);
  CodeRecord old;
  Status s = Get(rec.code, &old);
  if (!s.ok()) return s;
  if (old.referrer_id != rec.referrer_id) {
    return Status::InvalidArgument("referrer_id cannot change");
  }
  rocksdb::WriteBatch batch;
  std::string value;
  EncodeCodeRecord(rec, &value);
  batch.Put(CodeKey(rec.code), value);
  if (rec.status == CodeStatus::kDeleted) batch.Delete(IndexKey(rec.referrer_id, rec.code));
  s = FromRocks(db_->Write(SyncedWrite(), &batch));
  if (s.ok()) cache_.Put(rec.code, std::make_shared<CodeRecord>(rec));
  return s;
}

Status CodeStore::List(std::string_view referrer_id, std::string_view after, size_t limit,
                       std::vector<CodeRecord>* out, bool* more) {
  out->clear();
  *more = false;
  const std::string prefix = referrer_id.empty() ? "c" : IndexKey(referrer_id, "");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::string start = prefix + std::string(after);
  for (it->Seek(start); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(prefix)) break;
    std::string_view code = key.substr(prefix.size());
    if (!after.empty() && code == after) continue;
    CodeRecord rec;
    if (referrer_id.empty()) {
      std::string_view v(it->value().data(), it->value().size());
      Status s = DecodeCodeRecord(v, &rec);
      if (!s.ok()) return s;
    } else {
      Status s = Get(code, &rec);
      if (!s.ok()) return s;
    }
    if (rec.status == CodeStatus::kDeleted) continue;
    if (out->size() == limit) {
      *more = true;
      break;
    }
    out->push_back(std::move(rec));
  }
  return FromRocks(it->status());
}

Status CodeStore::Apply(std::span<const Applied> recs, uint64_t applied) {
  std::lock_guard lock(write_mu_);
  rocksdb::WriteBatch batch;
  std::string value;
  for (const Applied& a : recs) {
    CodeRecord old;
    bool found = false;
    if (Status s = ReadRecord(a.rec.code, &old, &found); !s.ok()) return s;
    if (found) batch.Delete(IndexKey(old.referrer_id, old.code));
    EncodeCodeRecord(a.rec, &value);
    batch.Put(CodeKey(a.rec.code), value);
    if (a.rec.status != CodeStatus::kDeleted)
      batch.Put(IndexKey(a.rec.referrer_id, a.rec.code), "");
    batch.Put(RevisionKey(a.rec.code), Fixed64(a.revision));
  }
  batch.Put(kAppliedKey, Fixed64(applied));
  if (Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch)); !s.ok()) return s;
  for (const Applied& a : recs) cache_.Put(a.rec.code, std::make_shared<CodeRecord>(a.rec));
  return Status::OK();
}

namespace {
Status ReadFixed64(rocksdb::DB* db, std::string_view key, uint64_t* out) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), key, &value);
  *out = 0;
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return FromRocks(s);
  if (value.size() != 8) return Status::Corruption(std::string(key) + ": not a revision");
  *out = DecodeFixed64(value.data());
  return Status::OK();
}
}  // namespace

Status CodeStore::AppliedRevision(uint64_t* out) {
  return ReadFixed64(db_.get(), kAppliedKey, out);
}

Status CodeStore::CodeRevision(std::string_view code, uint64_t* out) {
  return ReadFixed64(db_.get(), RevisionKey(code), out);
}

bool CodeStore::Healthy() const {
  uint64_t errors = 0;
  return db_->GetIntProperty("rocksdb.background-errors", &errors) && errors == 0;
}

}  // namespace refgate
