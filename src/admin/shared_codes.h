// SharedCodes: the codes of a cluster (SPEC §8), as the admin API writes
// them. Every create, patch and delete goes through it, compare-and-set on
// the code's revision, and reaches this node's store from the cluster's
// feed, not from the admin API (cluster/code_sync.h implements it on a
// NATS key-value bucket).
//
// Errors: AlreadyExists where another write came first (409), IOError
// where the cluster cannot be reached (503: nothing was written).
#pragma once

#include <cstdint>
#include <string_view>

#include "refgate/code_record.h"
#include "refgate/status.h"

namespace refgate {

class SharedCodes {
 public:
  virtual ~SharedCodes() = default;
  // Sets rec.code's record where no node ever set one: AlreadyExists when
  // the code exists or existed (a deleted code keeps its tombstone).
  virtual Status Create(const CodeRecord& rec, uint64_t* revision) = 0;
  // The code's record as the cluster has it now, with its revision;
  // NotFound when it has none.
  virtual Status Read(std::string_view code, CodeRecord* rec, uint64_t* revision) = 0;
  // Sets rec.code's record where its revision is still `last` (0: it has
  // none): AlreadyExists when another write came first.
  virtual Status Replace(const CodeRecord& rec, uint64_t last, uint64_t* revision) = 0;
  // Waits until this node's store has applied `revision`, so that what an
  // admin client wrote is what it then reads here; gives up after a few
  // seconds (the store then catches up by itself).
  virtual void AwaitApplied(uint64_t revision) = 0;
};

}  // namespace refgate
