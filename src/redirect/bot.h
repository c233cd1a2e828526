// Who is not a person clicking: crawlers, link unfurlers, HTTP libraries,
// prefetches (SPEC §2).
#pragma once

#include <string_view>

namespace refgate {

// True for a crawler or unfurler (Slackbot, facebookexternalhit, WhatsApp,
// ...), an HTTP library (curl, wget, python-requests, ...), anything
// matching bot|crawl|spider|preview (case-insensitive), and an empty agent.
bool IsBotUserAgent(std::string_view user_agent);

// True for `Sec-Purpose: prefetch...` or `Purpose: prefetch`.
bool IsPrefetch(std::string_view sec_purpose, std::string_view purpose);

}  // namespace refgate
