// RocksDB's status as refgate's.
#pragma once

#include <rocksdb/status.h>

#include "refgate/status.h"

namespace refgate {

inline Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  return Status::IOError(s.ToString());
}

}  // namespace refgate
