// StateDb: a small ordered key-value store on RocksDB for the rollup state.
// Lives in store/ so that RocksDB stays behind this folder.
//
// Thread-safety: as RocksDB; one writer at a time is the caller's business
// (the rollup job holds a file lock).
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "refgate/status.h"
#include "util/huge_pages.h"

namespace rocksdb {
class DB;
struct Options;
class SstFileWriter;
}  // namespace rocksdb

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
  // The same from the first key at or after `from` (which starts with prefix).
  Status Scan(std::string_view prefix, std::string_view from,
              const std::function<bool(std::string_view, std::string_view)>& fn) const;

  // Whether any key starts with `prefix` (true when that cannot be told).
  bool Holds(std::string_view prefix) const;

  // Applies every write (a put, or a delete where `erase`) atomically and
  // (by default) durably; of several writes to one key, the last one wins.
  struct Write {
    std::string key;
    std::string value;  // with `range`: the end of the range (exclusive)
    bool erase = false;
    bool range = false;  // erase every key in [key, value) an earlier commit wrote
    bool merge = false;  // append value to the key's (the state's one merge: concatenation)
  };
  // With `sync` false the writes are in RocksDB's log but not yet synced:
  // a later synced commit (or none, after a crash) decides. For an index
  // that can be rebuilt from elsewhere.
  // A synced commit of at least kIngestAtWrites writes is written as table
  // files (two at once where its keys split at "a") and ingested
  // (cheaper than the memtable and its log by far).
  Status Commit(const std::vector<Write>& writes, bool sync = true);
  static constexpr size_t kIngestAtWrites = 4096;

  // Writes packed into one buffer: a large commit without an allocation
  // per key and value. Writes handed over in a few runs of ascending keys
  // (row groups) are merged by Commit, not sorted.
  class Batch {
   public:
    void Reserve(size_t writes, size_t bytes) {
      entries_.reserve(writes);
      data_.reserve(bytes);
    }
    void Clear() {  // keeps the memory
      entries_.clear();
      data_.clear();
    }
    size_t bytes() const { return data_.size(); }  // of keys and values
    void Put(std::string_view key, std::string_view value) { Add(key, value, false); }
    void Delete(std::string_view key) { Add(key, "", true); }
    // Deletes every key in [begin, end) that earlier commits wrote (never
    // a write of this commit, whatever their order).
    void DeleteRange(std::string_view begin, std::string_view end) { Add(begin, end, true, true); }
    // Appends `value` to the key's value (or makes it the value), without
    // reading it: RocksDB concatenates the pieces when it reads or compacts.
    void Merge(std::string_view key, std::string_view value) {
      Add(key, value, false, false, true);
    }
    size_t size() const { return entries_.size(); }
    std::string_view key(size_t i) const {
      return {data_.data() + entries_[i].at, entries_[i].key};
    }
    std::string_view value(size_t i) const {
      return {data_.data() + entries_[i].at + entries_[i].key, entries_[i].value};
    }
    bool erase(size_t i) const { return entries_[i].erase; }
    bool range(size_t i) const { return entries_[i].range; }  // value(i): the range's end
    bool merge(size_t i) const { return entries_[i].merge; }
    // Appends each write as a Write (for tests and small callers).
    void AppendTo(std::vector<Write>* out) const;

   private:
    struct Entry {
      uint64_t at;
      uint32_t key, value;  // sizes
      bool erase, range, merge;
    };
    void Add(std::string_view key, std::string_view value, bool erase, bool range = false,
             bool merge = false) {
      entries_.push_back({data_.size(), static_cast<uint32_t>(key.size()),
                          static_cast<uint32_t>(value.size()), erase, range, merge});
      data_.append(key).append(value);
    }
    // On huge pages: a compaction's commit holds hundreds of MiB here.
    std::basic_string<char, std::char_traits<char>, HugePageAllocator<char>> data_;
    HugeVector<Entry> entries_;
  };
  Status Commit(const Batch& batch, bool sync = true);
  // Several batches as one commit: of writes to one key, the last batch's
  // last one wins.
  Status Commit(std::initializer_list<const Batch*> batches, bool sync = true);

  // Puts (and merges) handed over in strictly ascending key order, for a
  // commit too large to hold in memory: held while fewer than
  // kIngestAtWrites, then written straight into a table file of its own.
  // Not thread-safe; a commit takes any number, each filled by one thread.
  // An error (keys out of order, a failed write) is kept and returned by
  // the Commit.
  class Sorted {
   public:
    ~Sorted();
    void Put(std::string_view key, std::string_view value) { Add(key, value, false); }
    // As Batch::Merge: appended to what earlier commits wrote to the key.
    void Merge(std::string_view key, std::string_view value) { Add(key, value, true); }
    size_t size() const { return written_ + filling_.size(); }
    // Past kIngestAtWrites puts, they go to the table file by a thread of its own, this many
    // bytes of keys and values at a time.
    static constexpr size_t kChunkBytes = size_t{8} << 20;

   private:
    friend class StateDb;
    Sorted(const rocksdb::Options* opts, std::string path, uint32_t* slots, uint32_t slot);
    void Add(std::string_view key, std::string_view value, bool merge);
    void Spill();  // opens the table file and hands it the puts so far
    // One chunk is written while the next one fills.
    void Hand();      // the filled chunk to the writing thread
    void Join();      // waits for the writing thread; its error becomes status_
    Status Finish();  // the rest written, the file finished and synced

    const rocksdb::Options* opts_;
    const std::string path_;
    uint32_t* const slots_;  // the StateDb's names in use, this one's bit cleared at the end
    const uint32_t slot_;
    std::unique_ptr<rocksdb::SstFileWriter> file_;
    // The puts not yet handed to the writing thread (all of them while no
    // file is open), and those it writes.
    Batch filling_, writing_;
    std::thread writer_;
    Status write_status_;       // the writing thread's, read after Join
    std::string first_, last_;  // keys
    size_t written_ = 0;        // puts handed to the writing thread
    Status status_;
  };
  // At most 32 alive at once (each has a table file name of its own); none
  // may outlive this StateDb.
  std::unique_ptr<Sorted> NewSorted();
  // The batches and the sorted puts as one commit, synced. Each Sorted's
  // keys must lie outside the others' ranges, and no batch's write (nor a
  // range deletion) may fall in them: the batches' writes are split into
  // table files below "a", from "a" on, and around each Sorted's range.
  // InvalidArgument otherwise, and nothing is written.
  Status Commit(std::initializer_list<const Batch*> batches, std::initializer_list<Sorted*> sorted);
  Status Commit(std::initializer_list<const Batch*> batches, Sorted* sorted) {
    return Commit(batches, {sorted});
  }

 private:
  StateDb(rocksdb::DB* db, rocksdb::Options opts, std::string dir);
  Status CommitAll(std::span<const Batch* const> batches, bool sync);
  Status Ingest(std::span<const Batch* const> batches,
                std::span<const std::span<const uint64_t>> parts, std::span<Sorted* const> more);
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<rocksdb::Options> opts_;
  std::string dir_;
  uint32_t sorted_slots_ = 0;  // bit i: a Sorted alive with name i
};

}  // namespace refgate
