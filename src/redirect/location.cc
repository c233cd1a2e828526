#include "redirect/location.h"

#include <boost/url/decode_view.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url_view.hpp>

#include "redirect/attribution.h"
#include "util/ascii.h"

namespace refgate {
namespace urls = boost::urls;

namespace {

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

std::string Decode(urls::pct_string_view s) {
  if (s.decoded_size() == s.size()) return std::string(s.data(), s.size());  // no escapes
  std::string out;
  out.reserve(s.decoded_size());
  for (char c : *s) out.push_back(c);
  return out;
}

// A visitor's query component as a browser's form means it: '+' is a space
// (and "%2B" a plus). False when an escape is malformed ("%zz", "%4").
bool DecodeFormComponent(std::string_view s, std::string* out) {
  auto pct = urls::make_pct_string_view(s);
  if (!pct) return false;
  urls::encoding_opts opt;
  opt.space_as_plus = true;
  *out = pct->decode(opt);
  return true;
}

// An IPv6 literal, bracketed as in a URL ("[::1]") or not ("::1"), in its
// canonical bracketed form; "" when `host` is none.
std::string CanonicalIpv6(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') == std::string_view::npos) {
    return "";
  }
  IpAddress ip;
  if (!ParseIp(host, &ip) || ip.v4) return "";
  return "[" + FormatIp(ip) + "]";
}

// Hosts compared as the allow-list means them: names lower-cased, IPv6
// literals in one spelling.
std::string CanonicalHost(std::string_view host) {
  std::string v6 = CanonicalIpv6(host);
  return v6.empty() ? ToLower(host) : v6;
}

// Boost 1.81's parse_query only works on NUL-terminated input: it rebuilds
// the view from s.data() with strlen (and query_rule points it past the
// end). So `raw` is parsed where it is when a NUL follows it, else from a
// terminated copy in *storage, which must outlive the result.
auto ParseQueryTerminated(std::string_view raw, bool nul_follows, std::string* storage) {
  if (!nul_follows) raw = storage->assign(raw);
  return urls::parse_query(raw);
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

bool IsIpv6Literal(std::string_view host) { return !CanonicalIpv6(host).empty(); }

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
  std::string h = CanonicalHost(host);
  for (const std::string& pattern : patterns) {
    std::string p = CanonicalHost(pattern);
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
  // Beast's target is not NUL-terminated.
  std::string terminated;
  auto q = ParseQueryTerminated(raw, false, &terminated);
  if (!q) return false;
  for (urls::param_pct_view p : *q) {
    out->push_back({Decode(p.key), p.has_value ? Decode(p.value) : std::string(), p.has_value});
  }
  return true;
}

VisitorQuery ParseVisitorQuery(std::string_view raw, std::string_view no_track_param) {
  // Pair by pair, so that a malformed one drops only itself: Boost.URL's
  // parse_query refuses the whole query for one bad escape.
  VisitorQuery vq;
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? "" : raw.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    QueryParam param;
    param.has_value = eq != std::string_view::npos;
    if (!DecodeFormComponent(pair.substr(0, eq), &param.key)) continue;
    if (param.has_value && !DecodeFormComponent(pair.substr(eq + 1), &param.value)) continue;
    if (!no_track_param.empty() && param.key == no_track_param) {
      vq.no_track = true;
      continue;
    }
    if (param.key == "qr" && param.value == "1") {
      vq.qr = true;
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

namespace {

// One parameter of the Location's query, as it will be written: views of
// already-encoded text (the target's own, or encoded by EncodeInto).
struct OutParam {
  urls::pct_string_view key;
  urls::pct_string_view value;
  bool has_value = true;
  bool live = true;
};

// `s` encoded to RFC 3986 unreserved characters, appended to *arena; the
// returned view stays valid because *arena is reserved large enough first.
// What urls::encode wrote is valid percent-encoding of exactly s, so the view
// is made without validating it again (make_pct_string_view scanned it once
// more on every redirect); Boost.URL builds its own views of encoded text
// this way.
urls::pct_string_view EncodeInto(std::string* arena, std::string_view s) {
  size_t n = urls::encoded_size(s, urls::unreserved_chars);
  size_t at = arena->size();
  if (n == s.size()) {
    arena->append(s);  // nothing to escape
  } else {
    arena->resize(at + n);
    urls::encode(arena->data() + at, n, s, urls::unreserved_chars);
  }
  return urls::make_pct_string_view_unsafe(arena->data() + at, n, s.size());
}

// Compares decoded text without allocating; without escapes, as bytes.
bool KeyIs(urls::pct_string_view key, std::string_view decoded) {
  if (key.decoded_size() != decoded.size()) return false;
  if (key.size() == decoded.size()) return std::string_view(key.data(), key.size()) == decoded;
  return *key == decoded;
}

// Sets the first live `key` to `value` and drops later ones; appends if none.
void SetUnique(std::vector<OutParam>& ps, std::string_view key, urls::pct_string_view value) {
  bool found = false;
  for (OutParam& p : ps) {
    if (!p.live || !KeyIs(p.key, key)) continue;
    if (found) {
      p.live = false;
    } else {
      p.value = value;
      p.has_value = true;
      found = true;
    }
  }
  if (!found) ps.push_back({urls::pct_string_view(key), value, true});
}

// The first live parameter named `key`, or null.
OutParam* FirstLive(std::vector<OutParam>& ps, std::string_view key) {
  for (OutParam& p : ps) {
    if (p.live && KeyIs(p.key, key)) return &p;
  }
  return nullptr;
}

// A stored target, split without parsing all of it: it was checked to be
// an absolute URL when it was stored (CheckHttpUrl), and RFC 3986 keeps '?'
// and '#' out of everything before the query, so the first '?' before any
// '#' starts the query and the first '#' the fragment (Boost.URL parsing
// the whole URL per redirect cost more than the rest of BuildLocation).
struct SplitTarget {
  explicit SplitTarget(std::string_view url) {
    hash = url.find('#');
    const size_t mark = url.substr(0, hash).find('?');
    has_query = mark != std::string_view::npos;
    base = url.substr(0, has_query ? mark : std::min(hash, url.size()));
    if (has_query) {
      query = url.substr(mark + 1, hash == std::string_view::npos ? hash : hash - mark - 1);
    }
    if (hash != std::string_view::npos) fragment = url.substr(hash);
  }
  std::string_view base, query, fragment;
  size_t hash;
  bool has_query;
};

// The target's own parameters; they view into the target, or into
// *terminated where the query had to be copied (ParseQueryTerminated).
void AddTargetParams(const SplitTarget& t, std::string* terminated, std::vector<OutParam>* ps) {
  if (t.has_query && t.query.empty()) {
    // "?" alone: one empty parameter, as Boost.URL's url_view has it.
    ps->push_back({{}, {}, false});
  } else if (t.has_query) {
    // A NUL follows the query when it ends the target's string. Valid:
    // CheckHttpUrl parsed the whole URL.
    auto target_params =
        ParseQueryTerminated(t.query, t.hash == std::string_view::npos, terminated);
    if (target_params) {
      for (urls::param_pct_view p : *target_params) ps->push_back({p.key, p.value, p.has_value});
    }
  }
}

// The code's utm for keys the target lacks; and the click record's utm:
// the visitor's, else the one the redirect carries.
void AddCodeUtm(const CodeRecord& rec, const VisitorQuery& visit, std::string* arena,
                std::vector<OutParam>* ps, Location* loc) {
  for (int i = 0; i < kUtmFieldCount; ++i) {
    if (!rec.utm[i].empty() && !FirstLive(*ps, kUtmParams[i])) {
      ps->push_back({urls::pct_string_view(kUtmParams[i]), EncodeInto(arena, rec.utm[i])});
    }
  }
  for (int i = 0; i < kUtmFieldCount; ++i) {
    if (visit.has_utm[i]) {
      loc->utm[i] = visit.utm[i];
    } else if (OutParam* p = FirstLive(*ps, kUtmParams[i]); p && p->has_value) {
      loc->utm[i] = Decode(p->value);
    }
  }
}

// A visitor's key replaces the target's and the code's; among the
// visitor's own, every value stays, in order.
void AddVisitorParams(const VisitorQuery& visit, std::string* arena, std::vector<OutParam>* ps) {
  const size_t earlier = ps->size();
  for (const QueryParam& v : visit.params) {
    for (size_t i = 0; i < earlier; ++i) {
      OutParam& p = (*ps)[i];
      if (p.live && KeyIs(p.key, v.key)) p.live = false;
    }
    urls::pct_string_view key = EncodeInto(arena, v.key);
    ps->push_back(
        {key, v.has_value ? EncodeInto(arena, v.value) : urls::pct_string_view(), v.has_value});
  }
}

// Parameter names are tokens (checked at start-up); codes and click ids
// are [A-Za-z0-9_-]: nothing to encode.
void AddRefAndClick(const LocationOptions& opt, const std::string& code, std::string_view click_id,
                    std::vector<OutParam>* ps) {
  if (!opt.ref_param.empty()) SetUnique(*ps, opt.ref_param, urls::pct_string_view(code));
  if (!opt.click_param.empty() && click_id.empty()) {
    // No record holds a click id, so none reaches the landing page: not
    // one the visitor or the target chose either.
    for (OutParam& p : *ps) {
      if (p.live && KeyIs(p.key, opt.click_param)) p.live = false;
    }
  } else if (!opt.click_param.empty()) {
    SetUnique(*ps, opt.click_param, urls::pct_string_view(click_id));
  }
}

void WriteUrl(const SplitTarget& t, const std::vector<OutParam>& ps, std::string* out) {
  out->append(t.base);
  bool any = false;
  for (const OutParam& p : ps) {
    if (!p.live) continue;
    out->push_back(any ? '&' : '?');
    any = true;
    out->append(p.key.data(), p.key.size());
    if (p.has_value) {
      out->push_back('=');
      out->append(p.value.data(), p.value.size());
    }
  }
  if (!any && t.has_query) out->push_back('?');
  out->append(t.fragment);
}

}  // namespace

// The merge is done on views into the target and into one arena of encoded
// text, then written once: Boost.URL parses and encodes, and no
// intermediate URL is rebuilt per parameter.
Location BuildLocation(const LocationOptions& opt, const CodeRecord& rec, const VisitorQuery& visit,
                       std::string_view click_id) {
  Location loc;
  const SplitTarget target(rec.target_url);
  std::string terminated;
  std::string arena;  // reserved up front: the views into it must stay valid
  size_t need = 0;
  for (const std::string& u : rec.utm) need += 3 * u.size();
  if (opt.forward_query) {
    for (const QueryParam& p : visit.params) need += 3 * (p.key.size() + p.value.size());
  }
  arena.reserve(need);

  std::vector<OutParam> ps;
  ps.reserve(kUtmFieldCount + visit.params.size() + 2 + (target.has_query ? 4 : 0));
  AddTargetParams(target, &terminated, &ps);
  AddCodeUtm(rec, visit, &arena, &ps, &loc);
  if (opt.forward_query) AddVisitorParams(visit, &arena, &ps);
  AddRefAndClick(opt, rec.code, click_id, &ps);
  loc.url.reserve(rec.target_url.size() + arena.size() + 64 + rec.code.size() + click_id.size());
  WriteUrl(target, ps, &loc.url);
  return loc;
}

}  // namespace refgate
