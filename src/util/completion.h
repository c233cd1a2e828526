// Completion: a one-shot callback across threads, implemented by whoever
// waits: an HTTP session waiting for its handler, a handler waiting for a
// record to be durable.
#pragma once

#include <cstdint>

namespace refgate {

// How a wait ended. For a record appended to the click log: kOk once it is
// on disk (fdatasync returned), kFailed when its write or sync failed (it
// may be lost), kTimedOut when max_wait_ms passed first (it may still be
// written). A handler completing an HTTP response says kOk.
enum class Outcome : uint8_t { kOk, kFailed, kTimedOut };

class Completion {
 public:
  // Called exactly once, from any thread, possibly under the caller's lock
  // (the click log completes its waiters under its own): it must not call
  // back into what completes it; post the rest of the work elsewhere.
  virtual void Complete(Outcome outcome) = 0;

 protected:
  ~Completion() = default;
};

}  // namespace refgate
