// Aggregate: one compaction run's changes to the rollup state.
//
// Dates, referrers, codes and channels are interned once per run; rows are
// keyed by tuples of those ids in flat hash maps and kept in vectors. A
// row is loaded from the state the first time the run touches it and
// written once, in key order, so a run reads and writes each row once
// whatever the number of clicks, and channel folding sees the rows earlier
// runs kept. A click's visitor is held once, with its channel row: its day
// row's and its referrer's visitors are the union of their channel rows'.
// The rows are sorted by packed integer ranks of their names and streamed
// to the state's table file as they are encoded (StateDb::Sorted).
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "refgate/click_record.h"
#include "rollup/interner.h"
#include "rollup/rows.h"
#include "store/state_db.h"
#include "util/huge_pages.h"

namespace refgate::rollup {

class Aggregate {
 public:
  // The keys (hashed) of all the day and channel rows the state holds of
  // one date, known whole: what a part of a run wrote of the date it ended
  // in (with what it knew of it), handed to the next part, which starts in
  // that date. A row of that date whose key is not among them is not
  // looked up: the state has no such row.
  struct KnownRows {
    std::string date;  // empty: none known
    boost::unordered_flat_set<uint64_t> keys;
  };

  // `db` must outlive this; it is only read.
  explicit Aggregate(const StateDb* db, KnownRows known = {});

  // Counts one record (SPEC §5): clicks are non-bot records of type click;
  // bots count in bot_clicks only; orphans in the orphan total only.
  Status Add(const ClickRecord& rec);

  // An attributed sale (conversions 1, revenue its amount) or a refund of
  // one (conversions 0, revenue minus the refund), on the sale's day row
  // and its referrer's row (SPEC §6).
  Status AddConversion(int64_t sale_us, std::string_view referrer, std::string_view code,
                       int64_t conversions, int64_t revenue);

  // The writes that apply this run to the state (without the checkpoint),
  // each key once, in a few runs of ascending keys. Once: it hands this
  // run's visitors over to the rows.
  void Writes(StateDb::Batch* out);
  // The same, the rows of days ("d") streamed into `days`, of channels
  // and members ("h", "m") into `rows`, the referrers' ("r") into `referrers`.
  void Writes(StateDb::Sorted* days, StateDb::Sorted* rows, StateDb::Batch* referrers);
  void Writes(std::vector<StateDb::Write>* out) {
    StateDb::Batch batch;
    Writes(&batch);
    batch.AppendTo(out);
  }

  // At least the number of writes Writes makes.
  size_t rows() const {
    return days_.size() + channels_.size() + new_clicks_.size() + new_members_.size() +
           referrer_rows_.size();
  }
  // A new click as its day's rows are written, sorted (aggregate_writes.cc).
  static constexpr size_t kSortedNewClickBytes = 24;
  // About the bytes this run holds (rows, indexes, visitors, names): what
  // [rollup] max_memory_mb bounds.
  size_t MemoryBytes() const;
  const std::set<std::string>& dates() const { return dates_; }
  uint64_t orphans() const { return orphans_; }
  // Before Writes: a part follows, so Writes keeps the known rows of the
  // last click's date for it (TakeKnown), where this part knew them whole.
  void KeepKnown() { keep_known_ = true; }
  KnownRows TakeKnown() { return std::move(next_known_); }

 private:
  // (date, referrer, code[, channel]) ids.
  struct DayId {
    uint32_t date, ref, code;
    bool operator==(const DayId&) const = default;
  };
  struct ChannelId {
    DayId day;
    uint32_t channel;
    bool operator==(const ChannelId&) const = default;
  };
  struct IdHash {
    size_t operator()(const DayId& k) const;
    size_t operator()(const ChannelId& k) const;
  };

  // This run's visitors of each row: (row, visitor) pairs as they come,
  // grouped by row (counting sort) and sorted once the run is read; or
  // the visitors of rows of another Visits, grouped by the rows they
  // belong to (each channel row to its day row, each day row to its
  // referrer: a click counted on a channel row is counted on both).
  class Visits {
   public:
    void Add(uint32_t row, uint64_t visitor) { pairs_.push_back({row, visitor}); }
    void Group(size_t rows);
    // parent[r]: the row (of `rows`) row r of `from` belongs to.
    template <typename ParentOf>
    void GroupFrom(const Visits& from, size_t from_rows, ParentOf parent, size_t rows);
    // With what grouping takes: the hashes grouped while the pairs are
    // still there, then the days' and the referrers' beside the channels'.
    size_t MemoryBytes() const {
      return std::max(pairs_.MemoryBytes(), pairs_.size() * 3 * sizeof(uint64_t));
    }
    std::span<const uint64_t> Of(uint32_t row) const {
      return {hashes_.data() + begin_[row], end_[row] - begin_[row]};
    }

   private:
    void SortRows(size_t rows);  // sorts each row's hashes, drops repeats
    struct Pair {
      uint32_t row;
      uint64_t visitor;
    };
    GrowingArray<Pair> pairs_;
    HugeVector<uint64_t> hashes_;
    HugeVector<uint32_t> begin_, end_;
  };
  // A channel row: what earlier runs kept of it is its clicks, here, and
  // its visitors, in stored_sets_ (most rows are new: no set to carry).
  struct ChannelEntry {
    ChannelId id;
    uint32_t day;     // its day row
    uint32_t stored;  // its stored visitors in stored_sets_, or kNone
    uint64_t clicks;
  };
  static constexpr uint32_t kNone = UINT32_MAX;
  // A code's last click: its referrer (or kNone), date and day row; the
  // next click on that date by that referrer needs no lookup.
  struct CodeLast {
    uint32_t ref = kNone, date = kNone, day = 0;
  };

  // A channel click on a date the state has no rows of: its channel row
  // is made at Writes, by sorting these (no row index per click).
  struct NewClick {
    uint32_t day;      // its day row
    uint32_t channel;  // channel_names_ id
    uint64_t visitor;
  };
  class RowWriter;  // aggregate_writes.cc
  template <typename Out>
  void WriteRows(Out* days, Out* rows, StateDb::Batch* referrers);
  uint32_t DateOf(int64_t ts_us);
  // The referrer id of a click on the code whose last click *last is; a
  // referrer other than that click's resets *last to it, with no date.
  uint32_t RefOf(CodeLast* last, std::string_view referrer);
  // Day row, referrer row and membership of the click `k`, loaded or made.
  Status DayOf(const DayId& k, CodeLast* last, uint32_t* row);
  std::string Key(const DayId& k) const;
  std::string Key(const ChannelId& k) const;
  // Where `key`'s row (of date id `date`) is to be looked for: null where
  // the state is known to have none.
  const StateDb* RowsOf(uint32_t date, const std::string& key) const;
  // `key`, of date id `date`, is written: known to the next part.
  void Know(uint32_t date, const std::string& key);
  Status Day(const DayId& k, uint32_t* row);
  Status Referrer(uint32_t ref);
  // *existed: the run or the state had it.
  Status Channel(const ChannelId& id, uint32_t day, uint32_t* row, bool* existed);
  // The referrer's code count, the first time this run sees (referrer, code).
  Status CountMember(const DayId& k);
  // The click's channel row, folded into "(other)" once the day row is full.
  Status CountChannel(const ClickRecord& rec, const DayId& k, uint64_t visitor, uint32_t day);

  const StateDb* rows_db_ = nullptr;       // null while the state holds none of these rows
  std::vector<const StateDb*> date_rows_;  // by date id: rows_db_, or null: none of that date
  Interner date_names_, referrers_, codes_, channel_names_;  // channels: lp(src) lp(med) lp(camp)
  uint32_t other_channel_;
  template <typename K>
  using Index = boost::unordered_flat_map<K, uint32_t, IdHash, std::equal_to<K>,
                                          HugePageAllocator<std::pair<const K, uint32_t>>>;
  // Rows hold what earlier runs kept (their visitors included; a channel
  // row's in stored_sets_); this run's visitors are in channel_visits_.
  HugeVector<std::pair<DayId, DayCodeRow>> days_;
  Index<DayId> day_index_;
  HugeVector<ChannelEntry> channels_;
  std::vector<VisitorSet> stored_sets_;
  Index<ChannelId> channel_index_;
  std::vector<ReferrerRow> referrer_rows_;  // by referrer id
  std::vector<bool> referrer_loaded_;
  std::vector<CodeLast> code_last_;  // by code id
  GrowingArray<NewClick> new_clicks_;
  Visits channel_visits_;  // the days' and referrers' are grouped from these at Writes
  boost::unordered_flat_set<uint64_t> members_seen_;  // referrer id << 32 | code id
  std::vector<std::pair<uint32_t, uint32_t>> new_members_;
  std::set<std::string> dates_;
  uint64_t orphans_ = 0;
  size_t loaded_bytes_ = 0;  // of the rows read from the state
  KnownRows known_, next_known_;
  uint32_t known_date_ = kNone;  // known_'s date id
  uint32_t last_date_ = kNone;   // the last click's
  bool keep_known_ = false;
  int64_t cached_day_ = INT64_MIN;
  uint32_t cached_date_ = 0;
  std::string channel_;  // scratch
};

}  // namespace refgate::rollup
