// Aggregate's writes (aggregate.h): the rows in key order, each once.
//
// Rows are ordered by packed integer ranks of their names (Interner's
// KeyRanks). Day rows are walked in that order, each written with its
// channel rows: those of dates the state holds come from the channel
// index (loaded from the state as clicks came); those of other dates are
// made here, from this run's channel clicks sorted by (day, channel,
// visitor): a run of equal (day, channel) is a row, its clicks the run's
// length, its visitors the run's distinct ones. Such a day has no channel
// rows in the state, so channel folding (SPEC §5) needs only the order in
// which its channels first came: the first kMaxChannelRows keep their
// rows, the clicks of the later ones count in "(other)".
#include <algorithm>

#include "rollup/aggregate.h"

namespace refgate::rollup {
namespace {

// Rows 0..n-1 in the order of key(i): a pair of packed ranks, distinct
// per row, so that the sort compares integers in place.
struct Ranked {
  uint64_t hi, lo;
  uint32_t row;
};
template <typename KeyOf>
HugeVector<Ranked> SortedBy(size_t n, KeyOf key) {
  HugeVector<Ranked> order(n);
  for (uint32_t i = 0; i < n; ++i) {
    const auto [hi, lo] = key(i);
    order[i] = {hi, lo, i};
  }
  std::sort(order.begin(), order.end(), [](const Ranked& a, const Ranked& b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  });
  return order;
}

uint64_t Pack(uint32_t high, uint32_t low) { return uint64_t{high} << 32 | low; }

// A channel click of a date new to the state, in key order: its day row's
// rank among the day rows (high half) and its channel's rank, then the
// visitor; `at`: its place among the clicks (first appearances decide
// folding).
struct NewRec {
  uint64_t key, visitor;
  uint32_t at;
};
static_assert(sizeof(NewRec) == Aggregate::kSortedNewClickBytes);

// One channel of a new day: its records, its distinct visitors in visits.
struct NewChannel {
  uint32_t channel;  // channel_names_ id
  uint32_t first;    // the `at` of its first click
  uint64_t clicks;
  size_t begin, end;  // its visitors in the writer's visits_
};

}  // namespace

void Aggregate::Visits::Group(size_t rows) {
  begin_.assign(rows + 1, 0);
  for (const auto& [row, h] : pairs_) ++begin_[row + 1];
  for (size_t r = 0; r < rows; ++r) begin_[r + 1] += begin_[r];
  end_.assign(begin_.begin(), begin_.end() - 1);
  hashes_.resize(pairs_.size());
  for (const auto& [row, h] : pairs_) hashes_[end_[row]++] = h;
  pairs_ = {};
  SortRows(rows);
}

template <typename ParentOf>
void Aggregate::Visits::GroupFrom(const Visits& from, size_t from_rows, ParentOf parent,
                                  size_t rows) {
  begin_.assign(rows + 1, 0);
  for (uint32_t r = 0; r < from_rows; ++r) begin_[parent(r) + 1] += from.Of(r).size();
  for (size_t r = 0; r < rows; ++r) begin_[r + 1] += begin_[r];
  end_.assign(begin_.begin(), begin_.end() - 1);
  hashes_.resize(begin_[rows]);
  for (uint32_t r = 0; r < from_rows; ++r) {
    const std::span<const uint64_t> of = from.Of(r);
    std::copy(of.begin(), of.end(), hashes_.begin() + end_[parent(r)]);
    end_[parent(r)] += static_cast<uint32_t>(of.size());
  }
  SortRows(rows);
}

void Aggregate::Visits::SortRows(size_t rows) {
  for (size_t r = 0; r < rows; ++r) {
    auto first = hashes_.begin() + begin_[r], last = hashes_.begin() + end_[r];
    std::sort(first, last);
    end_[r] = static_cast<uint32_t>(std::unique(first, last) - hashes_.begin());
  }
}

class Aggregate::RowWriter {
 public:
  explicit RowWriter(Aggregate* agg)
      : a_(*agg),
        date_(a_.date_names_.KeyRanks(false)),
        ref_(a_.referrers_.KeyRanks(true)),
        code_(a_.codes_.KeyRanks(true)),
        channel_(a_.channel_names_.KeyRanks(false)) {}

  template <typename Out>
  void Days(Out* days, Out* rows) {
    PrepareStateChannels();
    const HugeVector<Ranked> order =
        SortedBy(a_.days_.size(), [&](uint32_t i) { return DayRank(a_.days_[i].first); });
    PrepareNewClicks(order);
    size_t next_state = 0, next_new = 0;
    for (uint32_t rank = 0; rank < order.size(); ++rank) {
      const uint32_t d = order[rank].row;
      std::span<const uint64_t> visitors;
      if (a_.date_rows_[a_.days_[d].first.date] != nullptr) {
        for (; next_state < state_order_.size(); ++next_state) {
          ChannelEntry& e = a_.channels_[state_order_[next_state].row];
          if (e.day != d) break;
          ChannelRow row{e.clicks,
                         e.stored == kNone ? VisitorSet() : std::move(a_.stored_sets_[e.stored])};
          Encode(row, &value_, a_.channel_visits_.Of(state_order_[next_state].row));
          Put(e.id.day.date, a_.Key(e.id), rows);
        }
        visitors = state_days_.Of(d);
      } else {
        size_t end = next_new;
        while (end < new_.size() && new_[end].key >> 32 == rank) ++end;
        visitors = NewChannels(d, next_new, end, rows);
        next_new = end;
      }
      Encode(a_.days_[d].second, &value_, visitors);
      Put(a_.days_[d].first.date, a_.Key(a_.days_[d].first), days);
      for (uint64_t v : visitors) referrer_visits_.Add(a_.days_[d].first.ref, v);
    }
  }

  template <typename Out>
  void Members(Out* out) {
    for (const Ranked& r : SortedBy(a_.new_members_.size(), [&](uint32_t i) {
           return std::pair(uint64_t{ref_[a_.new_members_[i].first]},
                            uint64_t{code_[a_.new_members_[i].second]});
         })) {
      const auto& [rid, cid] = a_.new_members_[r.row];
      out->Put(MemberKey(a_.referrers_.Name(rid), a_.codes_.Name(cid)), "");
    }
  }

  void Referrers(StateDb::Batch* out) {
    a_.channel_visits_ = Visits();  // written: freed before the referrers' are grouped
    state_days_ = Visits();
    referrer_visits_.Group(a_.referrer_rows_.size());
    for (const Ranked& r : SortedBy(a_.referrer_rows_.size(), [&](uint32_t i) {
           return std::pair(uint64_t{ref_[i]}, uint64_t{0});
         })) {
      if (!a_.referrer_loaded_[r.row]) continue;
      Encode(a_.referrer_rows_[r.row], &value_, referrer_visits_.Of(r.row));
      out->Put(ReferrerKey(a_.referrers_.Name(r.row)), value_);
    }
  }

 private:
  // value_ as the row of `key`, of date id `date`.
  template <typename Out>
  void Put(uint32_t date, const std::string& key, Out* out) {
    a_.Know(date, key);
    out->Put(key, value_);
  }

  std::pair<uint64_t, uint64_t> DayRank(const DayId& k) const {
    return {Pack(date_[k.date], ref_[k.ref]), Pack(code_[k.code], 0)};
  }

  // The channel rows of dates the state holds, and their days' visitors.
  void PrepareStateChannels() {
    a_.channel_visits_.Group(a_.channels_.size());
    state_days_.GroupFrom(
        a_.channel_visits_, a_.channels_.size(), [&](uint32_t c) { return a_.channels_[c].day; },
        a_.days_.size());
    state_order_ = SortedBy(a_.channels_.size(), [&](uint32_t i) {
      const ChannelId& k = a_.channels_[i].id;
      auto [hi, lo] = DayRank(k.day);
      return std::pair(hi, lo | channel_[k.channel]);
    });
  }

  // `order`: the day rows in key order.
  void PrepareNewClicks(const HugeVector<Ranked>& order) {
    new_.resize(a_.new_clicks_.size());
    {
      HugeVector<uint32_t> rank(a_.days_.size());  // freed before the sort
      for (uint32_t r = 0; r < order.size(); ++r) rank[order[r].row] = r;
      for (uint32_t i = 0; i < new_.size(); ++i) {
        const NewClick& c = a_.new_clicks_[i];
        new_[i] = {Pack(rank[c.day], channel_[c.channel]), c.visitor, i};
      }
    }
    a_.new_clicks_ = {};
    std::sort(new_.begin(), new_.end(), [](const NewRec& x, const NewRec& y) {
      return x.key != y.key ? x.key < y.key : x.visitor < y.visitor;
    });
  }

  // Writes day d's channel rows from new_[begin, end) (one day, new to the
  // state) and sets its channel_rows; returns its distinct visitors.
  template <typename Out>
  std::span<const uint64_t> NewChannels(uint32_t d, size_t begin, size_t end, Out* rows) {
    visits_.clear();
    channels_.clear();
    for (size_t i = begin; i < end;) {
      NewChannel c{0, new_[i].at, 0, visits_.size(), 0};
      const uint64_t key = new_[i].key;  // the day's, so in effect the channel's
      for (; i < end && new_[i].key == key; ++i) {
        ++c.clicks;
        c.first = std::min(c.first, new_[i].at);
        if (visits_.size() == c.begin || visits_.back() != new_[i].visitor) {
          visits_.push_back(new_[i].visitor);
        }
      }
      c.end = visits_.size();
      c.channel = ChannelIdOf(key);
      channels_.push_back(c);
    }
    // Every channel of a day new to the state is a new row: counted, up to the limit.
    const uint64_t kept = std::min<uint64_t>(channels_.size(), kMaxChannelRows);
    if (channels_.size() > kMaxChannelRows) Fold();
    const DayId& k = a_.days_[d].first;
    for (const NewChannel& c : channels_) {
      Encode(ChannelRow{c.clicks, {}}, &value_,
             std::span<const uint64_t>(visits_.data() + c.begin, c.end - c.begin));
      Put(k.date, a_.Key(ChannelId{k, c.channel}), rows);
    }
    a_.days_[d].second.channel_rows = kept;
    day_.assign(visits_.begin(), visits_.end());
    std::sort(day_.begin(), day_.end());
    day_.erase(std::unique(day_.begin(), day_.end()), day_.end());
    return day_;
  }

  // The channel id of a NewRec's key: its rank (the low half) back to the id.
  uint32_t ChannelIdOf(uint64_t key) {
    if (channel_ids_.empty()) {
      channel_ids_.resize(channel_.size());
      for (uint32_t id = 0; id < channel_.size(); ++id) channel_ids_[channel_[id]] = id;
    }
    return channel_ids_[static_cast<uint32_t>(key)];
  }

  // More channels than a day row keeps: the first kMaxChannelRows to come
  // keep their rows; the later ones' clicks and visitors go to "(other)"
  // (itself among them or not), which keeps its place in the key order.
  void Fold() {
    std::vector<NewChannel> by_first = channels_;
    std::sort(by_first.begin(), by_first.end(),
              [](const NewChannel& x, const NewChannel& y) { return x.first < y.first; });
    std::vector<uint32_t> folded;
    for (size_t i = kMaxChannelRows; i < by_first.size(); ++i)
      folded.push_back(by_first[i].channel);
    std::sort(folded.begin(), folded.end());
    NewChannel other{a_.other_channel_, 0, 0, visits_.size(), 0};
    std::vector<uint64_t> merged;
    std::vector<NewChannel> kept;
    for (const NewChannel& c : channels_) {
      const bool fold = c.channel == a_.other_channel_ ||
                        std::binary_search(folded.begin(), folded.end(), c.channel);
      if (!fold) {
        kept.push_back(c);
        continue;
      }
      other.clicks += c.clicks;
      merged.insert(merged.end(), visits_.begin() + c.begin, visits_.begin() + c.end);
    }
    std::sort(merged.begin(), merged.end());
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    visits_.insert(visits_.end(), merged.begin(), merged.end());
    other.end = visits_.size();
    kept.push_back(other);
    std::sort(kept.begin(), kept.end(), [&](const NewChannel& x, const NewChannel& y) {
      return channel_[x.channel] < channel_[y.channel];
    });
    channels_ = std::move(kept);
  }

  Aggregate& a_;
  const std::vector<uint32_t> date_, ref_, code_, channel_;  // ranks by id
  std::vector<uint32_t> channel_ids_;                        // ids by rank
  Visits state_days_, referrer_visits_;
  HugeVector<Ranked> state_order_;
  HugeVector<NewRec> new_;
  std::vector<NewChannel> channels_;    // of the day at hand
  std::vector<uint64_t> visits_, day_;  // of the day at hand
  std::string value_;
};

template <typename Out>
void Aggregate::WriteRows(Out* days, Out* rows, StateDb::Batch* referrers) {
  // The next part knows the last click's date whole where this one did:
  // the state had none of it, or this part knew it whole.
  const uint32_t last = last_date_;
  keep_known_ =
      keep_known_ && last != kNone && (date_rows_[last] == nullptr || last == known_date_);
  if (keep_known_) {
    next_known_.date = date_names_.Name(last);
    if (last == known_date_) next_known_.keys = std::move(known_.keys);
  }
  RowWriter w(this);
  w.Days(days, rows);  // "d" and "h", each stream in key order
  w.Members(rows);     // "m" after "h"
  w.Referrers(referrers);
}

void Aggregate::Writes(StateDb::Batch* out) { WriteRows(out, out, out); }

void Aggregate::Writes(StateDb::Sorted* days, StateDb::Sorted* rows, StateDb::Batch* referrers) {
  WriteRows(days, rows, referrers);
}

}  // namespace refgate::rollup
