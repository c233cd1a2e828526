#include "redirect/location.h"

#include <boost/url/decode_view.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/url.hpp>

namespace refgate {
namespace urls = boost::urls;

namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string Decode(urls::pct_string_view s) {
  std::string out;
  out.reserve(s.decoded_size());
  for (char c : *s) out.push_back(c);
  return out;
}

// Appends key=value with both encoded to RFC 3986 unreserved characters.
// Not params().append(): Boost 1.81 leaves '[' and ']' unencoded in a
// query, which RFC 3986 does not allow there (found by fuzz_location).
void AppendParam(urls::url& u, std::string_view key, std::string_view value, bool has_value) {
  std::string k = urls::encode(key, urls::unreserved_chars);
  if (!has_value) {
    u.encoded_params().append(urls::param_pct_view(urls::pct_string_view(k), urls::no_value));
    return;
  }
  std::string v = urls::encode(value, urls::unreserved_chars);
  u.encoded_params().append(
      urls::param_pct_view(urls::pct_string_view(k), urls::pct_string_view(v)));
}

}  // namespace

std::string CheckHttpUrl(std::string_view url) {
  if (url.size() > kMaxTargetUrlBytes) return "longer than 2048 bytes";
  for (unsigned char c : url) {
    if (c < 0x20 || c == 0x7f) return "contains control characters";
  }
  auto r = urls::parse_uri(url);
  if (!r) return "not an absolute URL";
  if (r->scheme_id() != urls::scheme::http && r->scheme_id() != urls::scheme::https) {
    return "scheme must be http or https";
  }
  if (!r->has_authority() || r->encoded_host().empty()) return "has no host";
  if (r->has_userinfo()) return "must not contain credentials";
  return "";
}

std::string HostOf(std::string_view url) {
  auto r = urls::parse_uri(url);
  if (!r || !r->has_authority()) return "";
  return ToLower(r->encoded_host());
}

bool IsValidHostPattern(std::string_view p) {
  if (p.starts_with("*.")) p.remove_prefix(2);
  if (p.empty() || p.size() > 253 || p.front() == '.' || p.back() == '.') return false;
  char prev = '.';
  for (char c : p) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

bool HostAllowed(std::string_view host, std::span<const std::string> patterns) {
  std::string h = ToLower(host);
  for (const std::string& pattern : patterns) {
    std::string p = ToLower(pattern);
    if (p.starts_with("*.")) {
      std::string_view suffix = std::string_view(p).substr(1);  // ".example.com"
      if (h.size() > suffix.size() && std::string_view(h).ends_with(suffix)) return true;
    } else if (h == p) {
      return true;
    }
  }
  return false;
}

bool ParseQuery(std::string_view raw, std::vector<QueryParam>* out) {
  out->clear();
  if (raw.empty()) return true;
  // Boost 1.81's parse_query only works on NUL-terminated input: it rebuilds
  // the view from s.data() with strlen (and query_rule points it past the
  // end). Beast's target is not terminated, so parse a terminated copy.
  const std::string terminated(raw);
  auto q = urls::parse_query(terminated);
  if (!q) return false;
  for (urls::param_pct_view p : *q) {
    out->push_back({Decode(p.key), p.has_value ? Decode(p.value) : std::string(), p.has_value});
  }
  return true;
}

VisitorQuery ParseVisitorQuery(std::string_view raw, std::string_view no_track_param) {
  VisitorQuery vq;
  std::vector<QueryParam> all;
  if (!ParseQuery(raw, &all)) return vq;
  for (QueryParam& param : all) {
    if (!no_track_param.empty() && param.key == no_track_param) {
      vq.no_track = true;
      continue;
    }
    for (int i = 0; i < kUtmFieldCount; ++i) {
      if (param.key == kUtmParams[i]) {
        vq.utm[i] = param.value;
        vq.has_utm[i] = true;
      }
    }
    vq.params.push_back(std::move(param));
  }
  return vq;
}

Location BuildLocation(const LocationOptions& opt, const CodeRecord& rec, const VisitorQuery& visit,
                       std::string_view click_id) {
  Location loc;
  urls::url u(rec.target_url);
  urls::params_ref ps = u.params();
  for (int i = 0; i < kUtmFieldCount; ++i) {
    if (!rec.utm[i].empty() && !ps.contains(kUtmParams[i])) {
      AppendParam(u, kUtmParams[i], rec.utm[i], true);
    }
  }
  if (opt.forward_query) {
    for (const auto& p : visit.params) {
      ps.erase(p.key);
      AppendParam(u, p.key, p.value, p.has_value);
    }
  }
  for (int i = 0; i < kUtmFieldCount; ++i) {
    if (visit.has_utm[i]) {
      loc.utm[i] = visit.utm[i];
      continue;
    }
    auto it = ps.find(kUtmParams[i]);
    if (it != ps.end() && (*it).has_value) loc.utm[i] = (*it).value;
  }
  // Codes and click ids are [A-Za-z0-9_-]: nothing to encode.
  if (!opt.ref_param.empty()) ps.set(opt.ref_param, rec.code);
  if (!opt.click_param.empty()) ps.set(opt.click_param, click_id);
  loc.url = u.buffer();
  return loc;
}

}  // namespace refgate
