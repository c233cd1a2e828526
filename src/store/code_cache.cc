#include "store/code_cache.h"

#include <mutex>

namespace refgate {

CodeCache::CodeCache(size_t capacity)
    : per_shard_(capacity == 0 ? 0 : (capacity + kShards - 1) / kShards), shards_(kShards) {}

CodeCache::Shard& CodeCache::ShardFor(std::string_view code) const {
  // High bits: the map inside the shard uses the low ones.
  return shards_[(Hash{}(code) >> 58) % kShards];
}

bool CodeCache::Find(std::string_view code, Entry* out, uint64_t* gen) const {
  Shard& s = ShardFor(code);
  std::shared_lock lock(s.mu);
  auto it = s.map.find(code);
  if (it == s.map.end()) {
    *gen = s.gen;
    return false;
  }
  *out = it->second;
  return true;
}

void CodeCache::InsertLocked(Shard& s, std::string_view code, Entry value) {
  if (per_shard_ == 0) return;
  auto it = s.map.find(code);
  if (it != s.map.end()) {
    it->second = std::move(value);
    return;
  }
  if (s.map.size() >= per_shard_) {
    // Evict from the bucket this key hashes to, or the next non-empty one:
    // a cheap pseudo-random choice that needs no recency bookkeeping.
    size_t n = s.map.bucket_count();
    for (size_t b = s.map.bucket(std::string(code)), i = 0; i < n; ++i, b = (b + 1) % n) {
      if (s.map.bucket_size(b) > 0) {
        std::string victim = s.map.begin(b)->first;
        s.map.erase(victim);
        break;
      }
    }
  }
  s.map.emplace(std::string(code), std::move(value));
}

void CodeCache::Fill(std::string_view code, Entry value, uint64_t gen) {
  Shard& s = ShardFor(code);
  std::unique_lock lock(s.mu);
  if (s.gen != gen) return;
  InsertLocked(s, code, std::move(value));
}

void CodeCache::Put(std::string_view code, Entry value) {
  Shard& s = ShardFor(code);
  std::unique_lock lock(s.mu);
  ++s.gen;
  InsertLocked(s, code, std::move(value));
}

size_t CodeCache::Size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::shared_lock lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace refgate
