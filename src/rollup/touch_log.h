// TouchLog: the visitors' non-bot clicks, which attribution by visitor
// reads (SPEC §6): this run's in memory, earlier runs' in the state.
//
// A click costs the run no state read and no rewrite of what earlier runs
// kept: each part of a run appends (StateDb::Batch::Merge), per visitor,
// that visitor's clicks in each 32-day bucket of click time to one row:
//
//   "T" bucket(8) visitor-hash(8) -> (lp(visitor) n (ts lp(click_id) lp(code))*)*
//
// bucket: the bucket's start, as a time key (conversion_rows.h); the hash:
// the low half of XXH3-128 of the visitor's id, big-endian (the ids in the
// row tell visitors whose hashes collide apart). An event looks up the
// buckets its window spans, one Get each (two for a window of up to 32
// days; a visitor without clicks there ends at the bloom filter). Buckets
// wholly older than the window before the log's clock are deleted as one
// range, once. Rows of the former layout ("V" lp(visitor), one row per
// visitor, rewritten by every run) are moved into this one by the first
// run that finds them.
//
// In memory a touch is 32 bytes plus its click id; a visitor about 40
// bytes plus its id. Not thread-safe.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/status.h"
#include "rollup/conversion_rows.h"
#include "rollup/interner.h"
#include "store/state_db.h"
#include "util/huge_pages.h"

namespace refgate::rollup {

class TouchLog {
 public:
  // `db` (null: it holds no touches) and `codes` must outlive this.
  TouchLog(const StateDb* db, const Interner* codes);

  // A non-bot click of `visitor` on codes->Name(code).
  void Add(std::string_view visitor, int64_t ts_us, std::string_view click_id, uint32_t code);

  // Every touch of `visitor` from `from_us` to `to_us` (both included),
  // this run's and the state's, in no particular order.
  Status Of(std::string_view visitor, int64_t from_us, int64_t to_us,
            std::vector<Touch>* out) const;

  // Once the part is read: with `horizon` above INT64_MIN, every bucket
  // that ended before it is to be deleted. Reads what Writes needs of the
  // state (the pruning mark, rows of the former layout) and frees the
  // visitors' index: no Add or Of after it.
  Status Prepare(int64_t horizon);
  // This part's rows, the deletions, the former rows moved (after Prepare);
  // the rows streamed into `rows` where given (they are written in key
  // order), unless rows of the former layout are moved into theirs.
  void Writes(StateDb::Batch* out, StateDb::Sorted* rows = nullptr) const;

  // Whether Writes streams the rows into a Sorted it is given: not while
  // rows of the former layout are moved into theirs.
  bool streams() const { return !former_; }
  // About the bytes Writes takes while it streams the rows.
  size_t WriteBytes() const;
  size_t touches() const { return hits_.size(); }
  size_t rows() const { return visitors_.size(); }  // about the rows Writes makes
  // About the bytes it holds: what [rollup] max_memory_mb bounds; and of
  // them, those Prepare frees.
  size_t MemoryBytes() const;
  size_t IndexBytes() const;

 private:
  struct Hit {
    int64_t ts_us;
    uint64_t click;    // offset of lp(click_id) in text_
    uint32_t visitor;  // index into visitors_
    uint32_t code;
    uint32_t next;  // the visitor's previous touch, or kNone
  };
  struct Visitor {
    uint64_t hash;  // the low half of XXH3-128: the rows' key
    uint64_t name;  // offset of lp(visitor) in text_
  };
  struct Head {        // a visitor's place, in by_hash_: a touch reads nothing else
    uint32_t visitor;  // index into visitors_
    uint32_t last;     // newest touch
  };
  struct Hash128 {
    uint64_t low, high;
    bool operator==(const Hash128&) const = default;
  };
  struct Hash128Hash {
    using is_avalanching = void;  // XXH3: already mixed
    size_t operator()(const Hash128& h) const { return h.low; }
  };
  static constexpr uint32_t kNone = UINT32_MAX;

  uint64_t Append(std::string_view s);
  std::string_view Text(uint64_t at) const;
  static Hash128 HashOf(std::string_view visitor);
  Status FromState(std::string_view visitor, uint64_t hash, int64_t from_us, int64_t to_us,
                   std::vector<Touch>* out) const;
  // Writes's indexes: the large ones on pages of their own, handed back
  // when freed, so that the heap keeps none of them through the commit.
  using Indexes = HugeVector<uint32_t>;
  Indexes ByVisitor(Indexes* order, Indexes* begin) const;
  template <typename Out>  // StateDb::Batch or StateDb::Sorted
  void WriteRows(Out* out) const;
  Status MoveFormerRows();
  // Appends lp(visitor) n (ts lp(click_id) lp(code))* for these touches.
  void EncodeSection(const Visitor& v, std::span<const uint32_t> hits, std::string* out) const;

  const StateDb* db_;
  const Interner* codes_;
  const bool stored_;  // the state holds touches
  const bool former_;  // the state holds rows of the former layout
  GrowingArray<Hit> hits_;
  GrowingArray<Visitor> visitors_;
  // Visitors by their 128-bit hash (two ids with one are taken for one:
  // odds near 1e-26 among 2^32 visitors); rows by the low half, with ids.
  boost::unordered_flat_map<Hash128, Head, Hash128Hash, std::equal_to<Hash128>,
                            HugePageAllocator<std::pair<const Hash128, Head>>>
      by_hash_;
  GrowingArray<char> text_;                          // lp(visitor), lp(click_id)
  int64_t min_ts_ = INT64_MAX, max_ts_ = INT64_MIN;  // of the touches
  // From Prepare: the first bucket kept (INT64_MIN: every one), whether to
  // delete the ones before it, the former rows in this layout.
  int64_t cut_ = INT64_MIN;
  bool prune_ = false, prepared_once_ = false;
  StateDb::Batch prepared_;
};

}  // namespace refgate::rollup
