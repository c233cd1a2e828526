// CodeCache: the in-process read cache in front of RocksDB.
//
// Thread-safety: all methods may be called concurrently. The cache is split
// into shards, each with its own reader-writer lock, so redirect threads
// never share one lock. Entries are immutable records held by shared_ptr; a
// null entry caches "no such code".
//
// Consistency: writers (the admin API) call Put after their RocksDB write.
// A reader that missed and read RocksDB calls Fill with the shard generation
// it saw before its read; Fill drops the value if a Put happened meanwhile,
// so a stale read can never overwrite a newer write.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "refgate/code_record.h"

namespace refgate {

class CodeCache {
 public:
  using Entry = std::shared_ptr<const CodeRecord>;

  // capacity: total entries, rounded up to a whole number per shard (so up
  // to 63 more); 0 disables the cache.
  explicit CodeCache(size_t capacity);

  // On a hit returns true and sets *out (null: known absent). On a miss
  // returns false and sets *gen for a later Fill.
  [[nodiscard]] bool Find(std::string_view code, Entry* out, uint64_t* gen) const;
  void Fill(std::string_view code, Entry value, uint64_t gen);
  void Put(std::string_view code, Entry value);

  size_t Size() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map;
    uint64_t gen = 0;
  };
  static constexpr size_t kShards = 64;

  Shard& ShardFor(std::string_view code) const;
  void InsertLocked(Shard& s, std::string_view code, Entry value);

  size_t per_shard_;
  mutable std::vector<Shard> shards_;
};

}  // namespace refgate
