// The admin and events tokens `refgate serve` authenticates with (SPEC §3).
#pragma once

#include <string>

#include "refgate/config.h"
#include "refgate/status.h"

namespace refgate {

struct Tokens {
  std::string admin, admin_from, events, events_from;  // each token and where it came from
};

// Each token from its environment variable (REFGATE_ADMIN_TOKEN,
// REFGATE_EVENTS_TOKEN), else from the config, else from a file in the data
// directory, made with a random token (mode 0600) on first start.
Status LoadTokens(const Config& cfg, Tokens* t);

}  // namespace refgate
