// VisitorSet: distinct visitors of one rollup row, mergeable across runs.
//
// Visitors are 64-bit XXH3 hashes of their ids (a collision among 10,000 ids
// has odds near 1e-11). Up to kExactLimit the set is exact: the sorted
// hashes. Beyond it the set becomes a HyperLogLog sketch with 2^14 one-byte
// registers (16 KiB, standard error 0.81%), which merges with sets and
// sketches alike. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace refgate {

class VisitorSet {
 public:
  static constexpr size_t kExactLimit = 10000;
  static constexpr int kPrecision = 14;

  static uint64_t Hash(std::string_view visitor_id);

  void Add(uint64_t hash);
  void Merge(const VisitorSet& other);
  uint64_t Count() const;  // exact up to kExactLimit, an estimate above
  bool exact() const {
    Normalize();
    return registers_.empty();
  }

  void EncodeTo(std::string* out) const;
  // Appends the encoding of this set with `more` (sorted, without
  // duplicates) added, as EncodeTo would after adding them; this set is
  // unchanged. No allocation while the union stays exact.
  void EncodeUnionTo(std::span<const uint64_t> more, std::string* out) const;
  // False on malformed input.
  [[nodiscard]] bool DecodeFrom(std::string_view* in);
  // Count() of the set DecodeFrom would decode, and false where it would
  // fail; an exact set's hashes are skipped, not copied.
  [[nodiscard]] static bool CountFrom(std::string_view* in, uint64_t* count);

 private:
  void Normalize() const;  // sort, dedupe, and turn into a sketch past the limit
  void ToSketch() const;
  void AddToSketch(uint64_t hash) const;

  mutable std::vector<uint64_t> hashes_;  // exact mode; unsorted tail after `sorted_`
  mutable size_t sorted_ = 0;
  mutable std::vector<uint8_t> registers_;  // sketch mode when non-empty
};

}  // namespace refgate
