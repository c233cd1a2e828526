// Ships a whole click log (made by refgate_loggen) to a NATS JetStream
// server the way a cluster node does (cluster/log_shipper.h), and prints
// the records/s from the first record shipped to the last; then takes the
// whole stream into a rollup node's copy (cluster/log_merger.h) in
// DATA_DIR/rollup-NODE_ID and prints its records/s (every node's records
// in the stream, from the merger's start until it has this node's last).
//
//   refgate_ship_bench NATS_URL DATA_DIR NODE_ID [BATCH_RECORDS]
//
// The log's last seq is taken as durable. Use a fresh node id (or a fresh
// server) per run: a node id whose records the stream has resumes after them.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "clicklog/reader.h"
#include "cluster/log_merger.h"
#include "cluster/log_shipper.h"

using namespace refgate;

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: refgate_ship_bench NATS_URL DATA_DIR NODE_ID [BATCH_RECORDS]\n");
    return 2;
  }
  uint64_t last = 0;
  clicklog::LogReader reader(std::string(argv[2]) + "/clicks", nullptr);
  if (Status s = reader.Open(); !s.ok())
    return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  for (clicklog::Record r; reader.Next(&r);) last = r.seq;
  cluster::ShipOptions o;
  o.servers = argv[1];
  o.data_dir = argv[2];
  o.node_id = argv[3];
  o.replicas = 1;
  if (argc == 5) o.max_batch_records = std::strtoull(argv[4], nullptr, 10);
  const auto start = std::chrono::steady_clock::now();
  cluster::LogShipper shipper(o, [last] { return last; });
  uint64_t from = 0;
  auto first = start;
  while (shipper.shipped() < last && !shipper.refused()) {
    if (from == 0 && shipper.shipped() > 0) {
      from = shipper.shipped();
      first = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count();
  std::printf("shipped %llu records in %.2f s: %.0f records/s (batches of %zu)\n",
              static_cast<unsigned long long>(last - from), s, (last - from) / s,
              o.max_batch_records);
  if (shipper.refused()) return 1;

  cluster::MergeOptions mo;
  mo.servers = argv[1];
  mo.data_dir = std::string(argv[2]) + "/rollup-" + argv[3];
  mo.replicas = 1;
  const auto merge_start = std::chrono::steady_clock::now();
  std::unique_ptr<cluster::LogMerger> merger;
  if (Status st = cluster::LogMerger::Open(mo, &merger); !st.ok()) {
    return std::fprintf(stderr, "%s\n", st.ToString().c_str()), 1;
  }
  while (merger->positions()[argv[3]] < last && !merger->refused()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double m =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - merge_start).count();
  uint64_t records = 0;
  for (const auto& [node, seq] : merger->positions()) records += seq;
  std::printf(
      "merged %llu records (%zu nodes) into a rollup node's copy in %.2f s: %.0f records/s\n",
      static_cast<unsigned long long>(records), merger->positions().size(), m, records / m);
  return merger->refused() ? 1 : 0;
}
