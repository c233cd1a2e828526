// Interner: dense integer ids for the strings one compaction run meets
// (codes, referrers, channels, dates), so that its rows are keyed, hashed
// and compared as integers and each string is stored once.
//
// Ids are 0, 1, 2, ... in order of first appearance. Names live in an
// arena of 2 MiB chunks and stay put for the Interner's lifetime. Not
// thread-safe.
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "util/coding.h"
#include "util/huge_pages.h"

namespace refgate::rollup {

struct StringHash {
  using is_avalanching = void;  // XXH3 mixes well: no post-mixing needed
  size_t operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }
};

class Interner {
 public:
  uint32_t Intern(std::string_view s) {
    if (s.size() < sizeof(Short)) {  // most codes and referrer ids: compared in place
      auto [it, fresh] = short_ids_.try_emplace(ShortOf(s), static_cast<uint32_t>(names_.size()));
      if (fresh) names_.push_back(Store(s));
      return it->second;
    }
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<uint32_t>(names_.size());
    names_.push_back(Store(s));
    ids_.emplace(names_.back(), id);
    return id;
  }
  std::string_view Name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }
  // About the bytes it holds.
  size_t MemoryBytes() const {
    return chunks_.size() * kChunk + names_.capacity() * sizeof(std::string_view) +
           ids_.bucket_count() * (sizeof(std::pair<std::string_view, uint32_t>) + 1) +
           short_ids_.bucket_count() * (sizeof(std::pair<Short, uint32_t>) + 1);
  }

  // rank[id]: the place of the id's name in the order of the state keys
  // built from it: the names as they are (`length_prefixed` false), or
  // length-prefixed (a length-prefixed name is never a prefix of another,
  // so tuples of them sort as their concatenations).
  std::vector<uint32_t> KeyRanks(bool length_prefixed) const {
    std::vector<uint32_t> by_key(names_.size());
    for (uint32_t id = 0; id < names_.size(); ++id) by_key[id] = id;
    auto prefix = [](size_t n, char(&buf)[kMaxVarint64Bytes]) {
      return std::string_view(buf, static_cast<size_t>(EncodeVarint64(buf, n) - buf));
    };
    std::sort(by_key.begin(), by_key.end(), [&](uint32_t a, uint32_t b) {
      const std::string_view x = names_[a], y = names_[b];
      if (length_prefixed && x.size() != y.size()) {
        char bx[kMaxVarint64Bytes], by[kMaxVarint64Bytes];
        return prefix(x.size(), bx) < prefix(y.size(), by);  // the lengths decide
      }
      return x < y;
    });
    std::vector<uint32_t> rank(names_.size());
    for (uint32_t i = 0; i < by_key.size(); ++i) rank[by_key[i]] = i;
    return rank;
  }

 private:
  static constexpr size_t kChunk = kHugePage;

  // A name of up to 15 bytes, zero-padded, its length in the last byte.
  struct Short {
    uint64_t w[2];
    bool operator==(const Short&) const = default;
  };
  struct ShortHash {
    size_t operator()(const Short& k) const {  // mixed further by the map
      return k.w[0] * 0x9E3779B97F4A7C15ULL ^ k.w[1];
    }
  };
  static Short ShortOf(std::string_view s) {
    Short k{{0, 0}};
    char* bytes = reinterpret_cast<char*>(k.w);
    if (!s.empty()) std::memcpy(bytes, s.data(), s.size());
    bytes[sizeof(Short) - 1] = static_cast<char>(s.size());
    return k;
  }

  std::string_view Store(std::string_view s) {
    if (s.empty()) return {};
    if (s.size() > capacity_ - used_) {
      capacity_ = std::max(kChunk, s.size());
      chunks_.emplace_back(capacity_);
      used_ = 0;
    }
    char* p = chunks_.back().data() + used_;
    std::memcpy(p, s.data(), s.size());
    used_ += s.size();
    return {p, s.size()};
  }

  boost::unordered_flat_map<std::string_view, uint32_t, StringHash, std::equal_to<>,
                            HugePageAllocator<std::pair<const std::string_view, uint32_t>>>
      ids_;  // names of 16 bytes and more
  boost::unordered_flat_map<Short, uint32_t, ShortHash, std::equal_to<Short>,
                            HugePageAllocator<std::pair<const Short, uint32_t>>>
      short_ids_;
  HugeVector<std::string_view> names_;
  std::vector<HugeVector<char>> chunks_;
  size_t used_ = 0, capacity_ = 0;  // of the newest chunk
};

}  // namespace refgate::rollup
