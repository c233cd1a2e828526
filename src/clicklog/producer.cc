#include "clicklog/producer.h"

namespace refgate::clicklog {

Chunk Producer::Swap() {
  Chunk taken = std::move(chunk);
  chunk = Chunk{};
  if (!spare_.empty()) {
    chunk = std::move(spare_.back());
    spare_.pop_back();
  } else {
    chunk.bytes.reserve(kChunkBytes + kChunkSlack);  // grown once, not doubled into
  }
  return taken;
}

void Producer::SwapIfFull() {
  if (chunk.bytes.size() < kChunkBytes) return;
  MutexLock swap(&swap_mu);
  full_.push_back(Swap());
}

size_t Producer::TakeFull(std::deque<Chunk>* out) {
  for (Chunk& c : full_) out->push_back(std::move(c));
  const size_t n = full_.size();
  full_.clear();
  return n;
}

size_t Producer::Take(bool part_filled, std::deque<Chunk>* out) {
  if (!part_filled) {
    MutexLock swap(&swap_mu);
    if (!full_.empty()) {
      // Leave the part-filled chunk: taking it would wait on `mu`.
      const size_t n = TakeFull(out);
      taken_ += n;
      return n;
    }
  }
  MutexLock lock(&mu);
  MutexLock swap(&swap_mu);
  size_t n = TakeFull(out);
  if (chunk.records != 0) {
    out->push_back(Swap());
    ++n;
  }
  taken_ += n;
  return n;
}

bool Producer::HasUntaken() {
  MutexLock lock(&mu);
  MutexLock swap(&swap_mu);
  return chunk.records != 0 || !full_.empty();
}

void Producer::GiveBack(Chunk& c) {
  written.store(written.load(std::memory_order_relaxed) + c.records, std::memory_order_relaxed);
  c.bytes.clear();
  c.waiters.clear();
  c.records = 0;
  c.owner = nullptr;
  std::vector<Chunk> extra;  // freed after the lock is let go
  MutexLock swap(&swap_mu);
  --taken_;
  const size_t keep = kSparesPerProducer + full_.size() + taken_;
  if (spare_.size() < keep) spare_.push_back(std::move(c));
  while (spare_.size() > keep) {
    extra.push_back(std::move(spare_.back()));
    spare_.pop_back();
  }
}

}  // namespace refgate::clicklog
