// What the NATS cluster holds of a refgate cluster (SPEC §8), for
// `refgate cluster status`: the codes' bucket and, per node, how far its
// log has been shipped to the stream.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "refgate/status.h"

namespace refgate::cluster {

struct NodePosition {
  std::string node_id;
  uint64_t shipped = 0;   // the seq the stream has the node's records through
  uint64_t messages = 0;  // batches of the node's in the stream
};

struct ClusterStatus {
  uint64_t codes_revision = 0;  // the bucket's newest revision (0: no bucket yet)
  uint64_t codes_entries = 0;   // codes in it (one entry each)
  uint64_t log_messages = 0, log_bytes = 0;
  std::vector<NodePosition> nodes;  // by node id
};

// IOError when no server answers.
Status ReadClusterStatus(const std::string& servers, int64_t timeout_ms, ClusterStatus* out);

}  // namespace refgate::cluster
