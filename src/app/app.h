// Subcommands of the refgate binary.
#pragma once

#include <cstdint>
#include <string>

#include "refgate/config.h"

namespace refgate {

// Exit statuses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;  // bad flags or config

// Runs the redirect and admin listeners until SIGTERM or SIGINT.
int RunServe(const Config& cfg);

// Rolls up the click log once (SPEC §5).
int RunCompact(const Config& cfg);

// Prints what the NATS cluster holds of a refgate cluster (SPEC §8).
int RunClusterStatus(const Config& cfg);

// A cluster's NATS servers as libnats takes them: the URLs, comma-separated.
std::string ClusterServers(const Config& cfg);
// Where the click key is kept: <data-dir>, or a cluster node's copy of its
// cluster's key in <data-dir>/cluster (cluster/click_key.h).
std::string ClickKeyDir(const Config& cfg);

// Prints every valid click log record with seq >= from_seq as JSON Lines.
int RunLogDump(const std::string& data_dir, uint64_t from_seq);

// Checks every segment: 0 when all is valid, 1 with a report otherwise.
int RunLogVerify(const std::string& data_dir);

}  // namespace refgate
