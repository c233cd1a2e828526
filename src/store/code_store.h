// CodeStore: referral codes in RocksDB under <data-dir>/codes, with a
// CodeCache in front. The only place that includes RocksDB headers.
//
// Keys: "c" + code -> EncodeCodeRecord; "r" + referrer_id + '\0' + code -> ""
// (the index behind listing by referrer). Deleted codes keep their "c" record
// as a tombstone, so a code can never be created twice, and leave the index.
// In cluster mode (SPEC §8) also "v" + code -> fixed64 revision of the
// code's record in the cluster's bucket, and "!applied" -> fixed64, the
// bucket revision applied up to, written in the batch of the records.
//
// Thread-safety: every method may be called concurrently. Writes are
// serialised by one mutex (admin traffic); Lookup takes no store-wide lock.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/code_record.h"
#include "refgate/status.h"
#include "store/code_cache.h"

namespace rocksdb {
class DB;
}

namespace refgate {

class CodeStore {
 public:
  // Opens or creates the database in `dir`. cache_entries: see CodeCache.
  static Status Open(const std::string& dir, size_t cache_entries, std::unique_ptr<CodeStore>* out);
  ~CodeStore();

  CodeStore(const CodeStore&) = delete;
  CodeStore& operator=(const CodeStore&) = delete;

  // The redirect path: *out is null for an unknown code. A cache hit touches
  // no RocksDB; a miss does one Get and fills the cache.
  Status Lookup(std::string_view code, CodeCache::Entry* out);

  // The stored record, bypassing the cache. NotFound if the code never existed.
  Status Get(std::string_view code, CodeRecord* out);

  // Creates every record whose code is new. results->at(i) is AlreadyExists
  // when recs[i].code exists, existed, or repeats an earlier item; OK
  // otherwise. All new records go in one synced write. The returned Status
  // is an error only when that write failed (then nothing was written).
  Status Insert(std::span<const CodeRecord> recs, std::vector<Status>* results);

  // Replaces the record of an existing code (same referrer), synced.
  // Visible to the next Lookup on any thread.
  Status Update(const CodeRecord& rec);

  // Codes of `referrer_id` ("" for every code) that sort after `after`, in
  // code order, deleted ones left out. *more: whether further codes follow.
  Status List(std::string_view referrer_id, std::string_view after, size_t limit,
              std::vector<CodeRecord>* out, bool* more);

  // Cluster mode: makes each record (with its bucket revision) the code's
  // record, whatever it was, and `applied` the revision applied up to, in
  // one write. Unsynced: a crash loses the records and the revision
  // together, and the feed is applied again from the revision kept.
  struct Applied {
    CodeRecord rec;
    uint64_t revision;
  };
  Status Apply(std::span<const Applied> recs, uint64_t applied);
  // The bucket revision applied up to (0: none).
  Status AppliedRevision(uint64_t* out);
  // The bucket revision of the code's record (0: none, or made before the
  // node joined a cluster).
  Status CodeRevision(std::string_view code, uint64_t* out);

  // False when RocksDB reports a background error (writes would fail).
  bool Healthy() const;

 private:
  CodeStore(rocksdb::DB* db, size_t cache_entries);
  Status ReadRecord(std::string_view code, CodeRecord* out, bool* found);

  std::unique_ptr<rocksdb::DB> db_;
  CodeCache cache_;
  std::mutex write_mu_;
};

}  // namespace refgate
