// The click key a cluster's nodes share (SPEC §6, §8). Click ids are signed
// (util/click_id.h), and the rollup node verifies every node's: each node
// must mint with the same key. The key lives in the key-value bucket
// `refgate_cluster` under `click_key` (64 hex digits), set by compare-and-set
// by the first node that asks, from its own <data-dir>/click.key; every node
// keeps its copy as <data-dir>/cluster/click.key and mints and verifies
// with that one. REFGATE_CLICK_KEY, where set, is the key instead (the
// operator gives every node the same) and the bucket is not asked.
#pragma once

#include <string>

#include "refgate/status.h"

namespace refgate::cluster {

inline constexpr const char* kClickKeyDir = "cluster";  // under the data directory

struct ClickKeyOptions {
  std::string servers;  // comma-separated nats:// URLs
  std::string data_dir;
  std::string bucket = "refgate_cluster";
  int replicas = 3;
  int64_t timeout_ms = 2000;
};

// Makes <data_dir>/cluster/click.key the cluster's key. A node that has
// one already goes on with it while NATS is unreachable; a node's first
// start in a cluster needs NATS (IOError without it). InvalidArgument when
// the node's copy is not the bucket's key (its data directory is from
// another cluster, or the bucket was made again by a node with another key).
Status AgreeClickKey(const ClickKeyOptions& o);

}  // namespace refgate::cluster
