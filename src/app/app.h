// Subcommands of the refgate binary.
#pragma once

#include "refgate/config.h"

namespace refgate {

// Exit statuses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;  // bad flags or config

// Runs the redirect and admin listeners until SIGTERM or SIGINT.
int RunServe(const Config& cfg);

}  // namespace refgate
