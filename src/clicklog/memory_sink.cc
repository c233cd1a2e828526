#include "clicklog/memory_sink.h"

namespace refgate {

bool MemoryClickSink::Append(ClickRecord&& rec, Completion*) {
  std::lock_guard lock(mu_);
  rec.seq = next_seq_++;
  records_.push_back(std::move(rec));
  if (records_.size() > capacity_) records_.pop_front();
  return false;
}

std::vector<ClickRecord> MemoryClickSink::Snapshot() const {
  std::lock_guard lock(mu_);
  return {records_.begin(), records_.end()};
}

}  // namespace refgate
