// The click log's per-producer queue: each thread that appends fills chunks
// of its own, which the writer takes, writes and gives back.
//
// A producer's locks are shared with the writer and the watchdog only, so
// producers never contend with each other; a Producer is aligned so that
// two never share a cache line either. `mu` guards the chunk being filled
// and is taken for every record; the writer takes it only for a
// part-filled chunk. `swap_mu` guards the filled and the emptied chunks and
// is taken by the producer once per chunk, so the writer collects filled
// chunks and gives emptied ones back without waiting behind a record being
// framed (glibc's mutex lets the producer take it again and again while the
// writer sleeps on it). Lock order: the log's mutex, then mu, then swap_mu.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "util/completion.h"
#include "util/mutex.h"

namespace refgate::clicklog {

// A producer starts a new chunk once its chunk holds this much. A new chunk
// has room for that and kChunkSlack more, the last record's overshoot.
inline constexpr size_t kChunkBytes = 256 << 10;
inline constexpr size_t kChunkSlack = 16 << 10;

// Emptied chunks keep their capacity for their producer's next records:
// growing a buffer again costs a copy and fresh pages, more than the records
// do. A producer keeps as many as it has chunks on their way to the disk
// (a burst will need them all again; freed, glibc hands them back to the
// kernel and they come back as page faults), plus this many.
inline constexpr size_t kSparesPerProducer = 16;

// A record whose appender waits for its outcome.
struct Waiter {
  Completion* done;  // null once completed; guarded by the log's mutex once registered
  int64_t enqueued_ns;
  bool until_outcome = false;  // the watchdog never times it out
};

class Producer;

// Records one producer thread appended, at most about kChunkBytes.
struct Chunk {
  std::string bytes;            // framed records, seq and checksum still zero
  std::vector<Waiter> waiters;  // the records someone waits on, in order
  size_t records = 0;
  Producer* owner = nullptr;  // set when taken; the emptied chunk goes back to it
};

class alignas(64) Producer {
 public:
  Mutex mu ACQUIRED_BEFORE(swap_mu);
  Chunk chunk GUARDED_BY(mu);  // being filled
  // Records appended (by the producer, under mu) and written (by the
  // writer): their difference is the queue, read by both without a lock.
  std::atomic<size_t> appended{0};
  std::atomic<size_t> written{0};

  size_t Queued() const {
    return appended.load(std::memory_order_relaxed) - written.load(std::memory_order_relaxed);
  }
  // After a record was framed into `chunk`: a chunk that holds kChunkBytes
  // joins the filled ones and a fresh one (a spare, if any) takes its place.
  void SwapIfFull() REQUIRES(mu) EXCLUDES(swap_mu);
  // The writer's take: the filled chunks, oldest first, and the part-filled
  // one too when `part_filled` (or when none is filled), appended to *out.
  // Returns how many were taken.
  size_t Take(bool part_filled, std::deque<Chunk>* out) EXCLUDES(mu, swap_mu);
  // True when records wait in a chunk not yet taken.
  [[nodiscard]] bool HasUntaken() EXCLUDES(mu, swap_mu);
  // The writer gives a chunk back once written: its records count off the
  // queue, and it is kept as a spare or freed (see kSparesPerProducer).
  void GiveBack(Chunk& c) EXCLUDES(swap_mu);

 private:
  // Returns the chunk being filled and starts another.
  Chunk Swap() REQUIRES(mu, swap_mu);
  size_t TakeFull(std::deque<Chunk>* out) REQUIRES(swap_mu);

  alignas(64) Mutex swap_mu;
  std::vector<Chunk> full_ GUARDED_BY(swap_mu);   // filled before the writer came, oldest first
  std::vector<Chunk> spare_ GUARDED_BY(swap_mu);  // emptied by the writer, their capacity kept
  size_t taken_ GUARDED_BY(swap_mu) = 0;          // chunks the writer has taken and not given back
};

}  // namespace refgate::clicklog
