// MemoryClickSink: keeps the most recent records in memory. For tests, and
// for serving before the durable click log is wired in. Never waits.
#pragma once

#include <deque>
#include <mutex>
#include <vector>

#include "clicklog/click_sink.h"

namespace refgate {

class MemoryClickSink : public ClickSink {
 public:
  explicit MemoryClickSink(size_t capacity = 100000) : capacity_(capacity) {}

  bool Append(ClickRecord&& rec, Completion* done) override;
  bool Healthy() const override { return true; }

  // A copy of the records held, oldest first.
  std::vector<ClickRecord> Snapshot() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<ClickRecord> records_;
  uint64_t next_seq_ = 1;
};

}  // namespace refgate
