// The config parser on arbitrary text: an error or a config, never a crash;
// a config that validates has a usable listen address and redirect status.
#include <cstdlib>
#include <string_view>

#include "refgate/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  refgate::Config cfg;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!refgate::LoadConfigText(text, &cfg).ok()) return 0;
  if (!refgate::ValidateConfig(cfg).ok()) return 0;
  int s = cfg.redirect.status;
  if (s != 301 && s != 302 && s != 307 && s != 308) std::abort();
  if (cfg.server.listen.host.empty()) std::abort();
  return 0;
}
