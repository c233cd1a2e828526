// ClickSink: where the redirect path hands its click records.
#pragma once

#include "refgate/click_record.h"
#include "util/completion.h"

namespace refgate {

class ClickSink {
 public:
  virtual ~ClickSink() = default;

  // Records `rec` (its sequence number comes from the log), copying what it
  // keeps before it returns: the caller may reuse `rec`. When `done` is
  // non-null and the sink makes visitors wait for durability, returns true
  // and later calls done->Complete() exactly once (any thread) with the
  // outcome: kOk once the record is durable, kFailed if it could not be
  // written, kTimedOut once the sink's maximum wait has passed. Otherwise
  // returns false and never touches `done`. Thread-safe; never blocks on disk.
  virtual bool Append(const ClickRecord& rec, Completion* done) = 0;

  // False while records cannot be written (/readyz answers 503).
  virtual bool Healthy() const = 0;
};

}  // namespace refgate
