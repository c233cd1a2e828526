// The dashboard's files (SPEC §7), compiled into the binary from
// src/dashboard/ by embed.cmake: the page works offline, with no CDN.
#pragma once

#include <span>
#include <string_view>

namespace refgate::dashboard {

struct Asset {
  std::string_view name;  // the file's name in src/dashboard/, e.g. "app.js"
  std::string_view body;
};

// Every embedded file (defined in the generated dashboard_assets.cc).
std::span<const Asset> Assets();

}  // namespace refgate::dashboard
