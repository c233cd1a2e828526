// Query merge and Location building on a visitor's arbitrary query: the
// Location is always printable ASCII without spaces (no byte of visitor
// input reaches a header unencoded) and still an http(s) URL.
#include <cstdlib>
#include <string_view>

#include "redirect/location.h"

using namespace refgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view query(reinterpret_cast<const char*>(data), size);
  CodeRecord rec;
  rec.code = "Ab3xY9k";
  rec.target_url = "https://example.com/w?lang=en#top";
  rec.utm = {"referral", "link", "", "", ""};
  for (bool forward : {true, false}) {
    LocationOptions opt;
    opt.forward_query = forward;
    Location loc = BuildLocation(opt, rec, ParseVisitorQuery(query, "rg_notrack"), "click-1");
    for (unsigned char c : loc.url) {
      if (c <= 0x20 || c >= 0x7f) std::abort();
    }
    if (!CheckHttpUrl(loc.url).empty() && loc.url.size() <= kMaxTargetUrlBytes) std::abort();
  }
  return 0;
}
