// `refgate cluster status` (SPEC §8): what the NATS cluster holds of this
// refgate cluster, and how far this node's own log went.
#include <cstdio>
#include <limits>

#include "app/app.h"
#include "clicklog/retention.h"
#include "cluster/cluster_status.h"

namespace refgate {

int RunClusterStatus(const Config& cfg) {
  if (cfg.cluster.nats_urls.empty()) {
    std::fprintf(stderr, "refgate: not in cluster mode ([cluster] nats_urls is empty)\n");
    return kExitUsage;
  }
  std::string servers;
  for (const std::string& url : cfg.cluster.nats_urls)
    servers += (servers.empty() ? "" : ",") + url;
  cluster::ClusterStatus st;
  if (Status s = cluster::ReadClusterStatus(servers, 5000, &st); !s.ok()) {
    std::fprintf(stderr, "refgate: %s\n", s.ToString().c_str());
    return kExitFailure;
  }
  std::printf("codes: bucket at revision %llu, %llu codes\n",
              static_cast<unsigned long long>(st.codes_revision),
              static_cast<unsigned long long>(st.codes_entries));
  std::printf("log stream: %llu messages, %llu bytes\n",
              static_cast<unsigned long long>(st.log_messages),
              static_cast<unsigned long long>(st.log_bytes));
  std::printf("%-24s %14s %10s %12s\n", "node", "shipped_seq", "messages", "rolled_up");
  for (const cluster::NodePosition& n : st.nodes) {
    // The rollup node does not consume the stream yet: nothing is rolled up from it.
    std::printf("%-24s %14llu %10llu %12s\n", n.node_id.c_str(),
                static_cast<unsigned long long>(n.shipped),
                static_cast<unsigned long long>(n.messages), "-");
  }
  const uint64_t local = clicklog::ShippedThrough(cfg.storage.data_dir);
  if (local != std::numeric_limits<uint64_t>::max()) {
    std::printf("this node (%s): shipped through seq %llu by its last note in %s/%s\n",
                cfg.cluster.node_id.c_str(), static_cast<unsigned long long>(local),
                cfg.storage.data_dir.c_str(), clicklog::kShippedFile);
  }
  return kExitOk;
}

}  // namespace refgate
