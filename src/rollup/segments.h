// Reading the click log's segments for a compaction run: a segment synced
// and read into memory, and the feed that counts its clicks into an
// Aggregate on a thread of its own while the run's main loop reads the
// same bytes for everything else (attribution, the checkpoint, damage).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "clicklog/records.h"
#include "refgate/status.h"
#include "rollup/aggregate.h"

namespace refgate::rollup {

// A segment read into memory after making sure what is read is on disk.
// Not mmap of the file: the writer cuts the zeros off the newest segment
// when it seals it, and touching a mapped page past the new end of the file
// is SIGBUS (in serve, the job runs in the server's process). read(2) just
// comes back short. The buffer is anonymous memory in huge pages, kept for
// the next segment: on these VMs faulting pages in cost more than parsing.
class DurableSegment {
 public:
  // Replaces what an earlier Open read.
  Status Open(const std::string& path);
  ~DurableSegment();
  std::string_view data() const { return std::string_view(mem_ ? mem_ : "", size_); }
  size_t capacity() const { return capacity_; }  // the bytes its buffer holds

 private:
  char* mem_ = nullptr;
  size_t capacity_ = 0, size_ = 0;
};

// Counts the clicks past `through` into an Aggregate. It reads the bytes
// the run's main loop reads and stops where that loop stops: after
// max_records records, or before a record of an unknown type that is not
// ignorable. Damage is the main loop's to report.
class ClickFeed : private clicklog::RecordHandler {
 public:
  ClickFeed(Aggregate* agg, uint64_t through, uint64_t max_records)
      : agg_(agg), last_seq_(through), max_records_(max_records) {}

  // One segment; `newest`: the log's newest segment (zeros end it).
  void Read(std::string_view data, const std::string& name, bool newest);
  // OK, or the first failure of the Aggregate (the run must fail).
  const Status& status() const { return status_; }

 private:
  void OnClick(const clicklog::Record&, const ClickRecord& click) override {
    if (status_.ok()) status_ = agg_->Add(click);
  }
  void OnEvent(const clicklog::Record&, const EventRecord&) override {}
  void OnCode(const clicklog::Record&, const clicklog::CodeChange&) override {}
  void OnCampaign(const clicklog::Record&, const clicklog::CampaignChange&) override {}
  void OnPayout(const clicklog::Record&, const clicklog::Payout&) override {}
  void OnIgnored(const clicklog::Record&) override {}
  void OnUnknown(const clicklog::Record&) override { stop_ = true; }
  void OnUndecodable(const clicklog::Record&, const Status&) override {}

  Aggregate* agg_;
  clicklog::RecordDispatcher dispatch_;
  Status status_;
  uint64_t last_seq_, read_ = 0;
  const uint64_t max_records_;
  bool stop_ = false;
};

}  // namespace refgate::rollup
