// URLs: target validation, host allow-lists and the Location of a redirect
// (SPEC §2). Pure functions over Boost.URL; no hand-written percent-encoding.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/code_record.h"

namespace refgate {

inline constexpr size_t kMaxTargetUrlBytes = 2048;

// "" when `url` is an absolute http or https URL with a host, no
// credentials, no control characters and at most 2048 bytes; else the reason.
std::string CheckHttpUrl(std::string_view url);

// The lower-cased host of an absolute URL ("" if it has none).
std::string HostOf(std::string_view url);

// "example.com" or "*.example.com": labels of [A-Za-z0-9-], dot-separated.
bool IsValidHostPattern(std::string_view pattern);

// An IPv6 address, bracketed as URLs write it ("[::1]") or bare ("::1").
bool IsIpv6Literal(std::string_view host);

// True when `host` matches a pattern; "*.x" matches any subdomain of x (not
// x itself). Case-insensitive; IPv6 literals match in any spelling, with or
// without brackets.
bool HostAllowed(std::string_view host, std::span<const std::string> patterns);

struct LocationOptions {
  bool forward_query = true;
  std::string ref_param = "ref";
  std::string click_param = "rg_click";
};

struct QueryParam {
  std::string key;
  std::string value;
  bool has_value = true;  // "?a" has none, "?a=" has an empty one
};

// Decodes a raw query string (without '?') into *out, in order. False when
// it is not a valid RFC 3986 query.
bool ParseQuery(std::string_view raw, std::vector<QueryParam>* out);

// The visitor's query string, decoded.
struct VisitorQuery {
  std::vector<QueryParam> params;               // in order, without no_track_param
  std::array<std::string, kUtmFieldCount> utm;  // as the visitor sent them
  std::array<bool, kUtmFieldCount> has_utm{};
  bool no_track = false;  // no_track_param was present
  bool qr = false;        // qr=1 was present: a QR code's visit (SPEC §7)
};

// `raw` is the request's query without '?'. As in an HTML form, '+' is a
// space. Neither no_track_param nor qr=1 is kept in params (not forwarded). A pair with a malformed
// escape ("%zz") is dropped, alone; empty pairs ("&&") carry nothing and are dropped too.
VisitorQuery ParseVisitorQuery(std::string_view raw, std::string_view no_track_param);

struct Location {
  std::string url;
  // For the click record: the UTM value the visitor arrived with, else the
  // one the redirect carries from the code (its utm, or its target's query).
  std::array<std::string, kUtmFieldCount> utm;
};

// The Location for an active code: the target's query, then the code's utm
// for keys the target lacks, then the visitor's parameters (when
// forward_query), then ref and the click id (when click_id is empty, no
// click_param at all, whoever set one);
// a later source's key replaces an earlier one's, and the visitor's
// repeated keys all stay. Every component is percent-encoded by Boost.URL.
// REQUIRES: CheckHttpUrl(rec.target_url) == "".
Location BuildLocation(const LocationOptions& opt, const CodeRecord& rec, const VisitorQuery& visit,
                       std::string_view click_id);

}  // namespace refgate
