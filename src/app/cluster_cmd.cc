// `refgate cluster status` (SPEC §8): what the NATS cluster holds of this
// refgate cluster, how far this node's own log went and, on the rollup
// node, how far each node's records are rolled up (its manifest's "nodes").
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "app/app.h"
#include "clicklog/retention.h"
#include "cluster/click_key.h"
#include "cluster/cluster_status.h"

namespace refgate {
namespace {

// The manifest's "nodes" under data_dir/rollups (empty: not the rollup node,
// or nothing published yet).
std::map<std::string, uint64_t> RolledUp(const std::string& data_dir) {
  std::map<std::string, uint64_t> out;
  std::ifstream in(data_dir + "/rollups/manifest.json");
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text.str(), ec);
  const boost::json::value* nodes =
      ec || !v.is_object() ? nullptr : v.as_object().if_contains("nodes");
  if (nodes == nullptr || !nodes->is_object()) return out;
  for (const auto& [node, seq] : nodes->as_object()) {
    boost::system::error_code bad;
    const uint64_t through = seq.to_number<uint64_t>(bad);
    if (!bad) out[std::string(node)] = through;
  }
  return out;
}

}  // namespace

std::string ClusterServers(const Config& cfg) {
  std::string servers;
  for (const std::string& url : cfg.cluster.nats_urls)
    servers += (servers.empty() ? "" : ",") + url;
  return servers;
}

std::string ClickKeyDir(const Config& cfg) {
  const std::string& dir = cfg.storage.data_dir;
  return cfg.cluster.nats_urls.empty() ? dir : dir + "/" + cluster::kClickKeyDir;
}

int RunClusterStatus(const Config& cfg) {
  if (cfg.cluster.nats_urls.empty()) {
    std::fprintf(stderr, "refgate: not in cluster mode ([cluster] nats_urls is empty)\n");
    return kExitUsage;
  }
  cluster::ClusterStatus st;
  if (Status s = cluster::ReadClusterStatus(ClusterServers(cfg), 5000, &st); !s.ok()) {
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
  const std::map<std::string, uint64_t> rolled = RolledUp(cfg.storage.data_dir);
  for (const cluster::NodePosition& n : st.nodes) {
    const auto it = rolled.find(n.node_id);
    std::printf("%-24s %14llu %10llu %12s\n", n.node_id.c_str(),
                static_cast<unsigned long long>(n.shipped),
                static_cast<unsigned long long>(n.messages),
                it == rolled.end() ? "-" : std::to_string(it->second).c_str());
  }
  if (rolled.empty()) std::printf("rolled_up: run this on the rollup node to see it\n");
  const uint64_t local = clicklog::ShippedThrough(cfg.storage.data_dir);
  if (local != std::numeric_limits<uint64_t>::max()) {
    std::printf("this node (%s): shipped through seq %llu by its last note in %s/%s\n",
                cfg.cluster.node_id.c_str(), static_cast<unsigned long long>(local),
                cfg.storage.data_dir.c_str(), clicklog::kShippedFile);
  }
  return kExitOk;
}

}  // namespace refgate
