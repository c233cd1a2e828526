// StateDb: a small ordered key-value store on RocksDB for the rollup state.
// Lives in store/ so that RocksDB stays behind this folder.
//
// Thread-safety: as RocksDB; one writer at a time is the caller's business
// (the rollup job holds a file lock).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "refgate/status.h"

namespace rocksdb {
class DB;
}

namespace refgate {

class StateDb {
 public:
  // read_only: a consistent view of what was committed at open time; works
  // while another process has the database open for writing.
  static Status Open(const std::string& dir, bool read_only, std::unique_ptr<StateDb>* out);
  ~StateDb();

  // NotFound when absent.
  Status Get(std::string_view key, std::string* value) const;

  // Calls fn(key, value) for every key starting with `prefix`, in order,
  // until fn returns false.
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const;

  // Applies every write (a put, or a delete where `erase`) atomically and
  // (by default) durably; of several writes to one key, the last one wins.
  struct Write {
    std::string key;
    std::string value;
    bool erase = false;
  };
  // With `sync` false the writes are in RocksDB's log but not yet synced:
  // a later synced commit (or none, after a crash) decides. For an index
  // that can be rebuilt from elsewhere.
  Status Commit(const std::vector<Write>& writes, bool sync = true);

 private:
  explicit StateDb(rocksdb::DB* db);
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace refgate
