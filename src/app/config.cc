// Config loading: toml++ parses, a table of known keys type-checks and
// assigns, ValidateConfig checks values. Every message names its key.
#include "refgate/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "redirect/attribution.h"
#include "redirect/location.h"
#include "refgate/code_record.h"
#include "webhooks/sender.h"

namespace refgate {
namespace {

using Setter = std::function<Status(const toml::node&, const std::string& key)>;

Status TypeError(const std::string& key, std::string_view want) {
  return Status::InvalidArgument(key + ": expected " + std::string(want));
}

Setter String(std::string* field) {
  return [field](const toml::node& n, const std::string& key) {
    if (!n.is_string()) return TypeError(key, "a string");
    *field = *n.value<std::string>();
    return Status::OK();
  };
}

template <typename Int>
Setter Integer(Int* field) {
  return [field](const toml::node& n, const std::string& key) {
    if (!n.is_integer()) return TypeError(key, "an integer");
    int64_t v = *n.value<int64_t>();
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) {
      return Status::InvalidArgument(key + ": out of range");
    }
    *field = static_cast<Int>(v);
    return Status::OK();
  };
}

// A percentage, integer or float, held exactly as millionths of one
// (10.0 -> 100000): rewards are computed in integers.
Setter Percent(int64_t* ppm) {
  return [ppm](const toml::node& n, const std::string& key) {
    double v;
    if (n.is_integer()) {
      v = static_cast<double>(*n.value<int64_t>());
    } else if (n.is_floating_point()) {
      v = *n.value<double>();
    } else {
      return TypeError(key, "a number");
    }
    if (!(v >= 0 && v <= 100)) return Status::InvalidArgument(key + ": 0 to 100");
    *ppm = std::llround(v * 10000);
    return Status::OK();
  };
}

Setter Bool(bool* field) {
  return [field](const toml::node& n, const std::string& key) {
    if (!n.is_boolean()) return TypeError(key, "true or false");
    *field = *n.value<bool>();
    return Status::OK();
  };
}

Setter StringList(std::vector<std::string>* field) {
  return [field](const toml::node& n, const std::string& key) {
    const toml::array* a = n.as_array();
    if (!a) return TypeError(key, "an array of strings");
    std::vector<std::string> out;
    for (const toml::node& e : *a) {
      if (!e.is_string()) return TypeError(key, "an array of strings");
      out.push_back(*e.value<std::string>());
    }
    *field = std::move(out);
    return Status::OK();
  };
}

Setter Address(HostPort* field) {
  return [field](const toml::node& n, const std::string& key) {
    if (!n.is_string()) return TypeError(key, "a string \"HOST:PORT\"");
    Status s = ParseHostPort(*n.value<std::string>(), field);
    return s.ok() ? s : Status::InvalidArgument(key + ": " + s.message());
  };
}

std::map<std::string, Setter> KnownKeys(Config* c) {
  return {
      {"server.listen", Address(&c->server.listen)},
      {"server.admin_listen", Address(&c->server.admin_listen)},
      {"server.threads", Integer(&c->server.threads)},
      {"server.trusted_proxies", StringList(&c->server.trusted_proxies)},
      {"server.public_url", String(&c->server.public_url)},
      {"server.header_timeout_ms", Integer(&c->server.header_timeout_ms)},
      {"server.idle_timeout_ms", Integer(&c->server.idle_timeout_ms)},
      {"server.io_timeout_ms", Integer(&c->server.io_timeout_ms)},
      {"server.max_connections", Integer(&c->server.max_connections)},
      {"storage.data_dir", String(&c->storage.data_dir)},
      {"storage.cache_entries", Integer(&c->storage.cache_entries)},
      {"redirect.status", Integer(&c->redirect.status)},
      {"redirect.default_target", String(&c->redirect.default_target)},
      {"redirect.allowed_hosts", StringList(&c->redirect.allowed_hosts)},
      {"redirect.forward_query", Bool(&c->redirect.forward_query)},
      {"redirect.ref_param", String(&c->redirect.ref_param)},
      {"redirect.click_param", String(&c->redirect.click_param)},
      {"redirect.not_found_url", String(&c->redirect.not_found_url)},
      {"redirect.expired_url", String(&c->redirect.expired_url)},
      {"cookie.name", String(&c->cookie.name)},
      {"cookie.domain", String(&c->cookie.domain)},
      {"cookie.max_age_days", Integer(&c->cookie.max_age_days)},
      {"cookie.secure", Bool(&c->cookie.secure)},
      {"clicklog.durability", String(&c->clicklog.durability)},
      {"clicklog.interval_ms", Integer(&c->clicklog.interval_ms)},
      {"clicklog.segment_bytes", Integer(&c->clicklog.segment_bytes)},
      {"clicklog.max_wait_ms", Integer(&c->clicklog.max_wait_ms)},
      {"clicklog.retention_days", Integer(&c->clicklog.retention_days)},
      {"rollup.interval_s", Integer(&c->rollup.interval_s)},
      {"rollup.max_memory_mb", Integer(&c->rollup.max_memory_mb)},
      {"admin.token", String(&c->admin.token)},
      {"admin.events_token", String(&c->admin.events_token)},
      {"admin.max_auth_failures", Integer(&c->admin.max_auth_failures)},
      {"privacy.anonymize_ip", Bool(&c->privacy.anonymize_ip)},
      {"privacy.no_track_param", String(&c->privacy.no_track_param)},
      {"webhooks.url", String(&c->webhooks.url)},
      {"webhooks.secret", String(&c->webhooks.secret)},
      {"webhooks.events", StringList(&c->webhooks.events)},
      {"webhooks.timeout_ms", Integer(&c->webhooks.timeout_ms)},
      {"rewards.currency", String(&c->rewards.currency)},
      {"rewards.window_days", Integer(&c->rewards.window_days)},
      {"rewards.model", String(&c->rewards.model)},
      {"rewards.customer_binding_days", Integer(&c->rewards.customer_binding_days)},
      {"rewards.lead_minor", Integer(&c->rewards.lead_minor)},
      {"rewards.sale_percent", Percent(&c->rewards.sale_percent_ppm)},
      {"rewards.sale_flat_minor", Integer(&c->rewards.sale_flat_minor)},
      {"rewards.recurring_months", Integer(&c->rewards.recurring_months)},
      {"rewards.hold_days", Integer(&c->rewards.hold_days)},
      {"rewards.min_click_age_s", Integer(&c->rewards.min_click_age_s)},
      {"cluster.nats_urls", StringList(&c->cluster.nats_urls)},
      {"cluster.node_id", String(&c->cluster.node_id)},
      {"cluster.rollup", Bool(&c->cluster.rollup)},
      {"cluster.replicas", Integer(&c->cluster.replicas)},
  };
}

Status Apply(const toml::table& root, Config* cfg) {
  auto keys = KnownKeys(cfg);
  for (const auto& [section, node] : root) {
    const toml::table* t = node.as_table();
    if (!t) return Status::InvalidArgument(std::string(section.str()) + ": unknown key");
    for (const auto& [name, value] : *t) {
      std::string key = std::string(section.str()) + "." + std::string(name.str());
      auto it = keys.find(key);
      if (it == keys.end()) return Status::InvalidArgument(key + ": unknown key");
      Status s = it->second(value, key);
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

// A query parameter or cookie name: an RFC 7230 token.
bool IsToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

Status Bad(std::string_view key, std::string_view why) {
  return Status::InvalidArgument(std::string(key) + ": " + std::string(why));
}

}  // namespace

std::string HostPort::ToString() const {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

Status ParseHostPort(std::string_view s, HostPort* out) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument("expected HOST:PORT");
  std::string_view host = s.substr(0, colon), port = s.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Status::InvalidArgument("IPv6 addresses go in brackets: [::1]:8080");
  }
  IpAddress ip;
  if (host != "localhost" && !ParseIp(host, &ip)) {
    return Status::InvalidArgument("'" + std::string(host) + "' is not an IP address");
  }
  if (port.empty() || port.size() > 5) return Status::InvalidArgument("bad port");
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return Status::InvalidArgument("bad port");
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p > 65535) return Status::InvalidArgument("port out of range");
  out->host = host == "localhost" ? "127.0.0.1" : std::string(host);
  out->port = static_cast<uint16_t>(p);
  return Status::OK();
}

Status LoadConfigText(std::string_view text, Config* cfg) {
  try {
    toml::table root = toml::parse(text);
    return Apply(root, cfg);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return Status::InvalidArgument("line " + std::to_string(b.line) + ": " +
                                   std::string(e.description()));
  }
}

Status LoadConfigFile(const std::string& path, Config* cfg) {
  try {
    toml::table root = toml::parse_file(path);
    return Apply(root, cfg);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return Status::InvalidArgument(path + ":" + std::to_string(b.line) + ": " +
                                   std::string(e.description()));
  }
}

namespace {

Status ValidateServer(const Config& c) {
  if (c.server.threads < 0 || c.server.threads > 1024) return Bad("server.threads", "0 to 1024");
  for (const auto& p : c.server.trusted_proxies) {
    Cidr cidr;
    if (!ParseCidr(p, &cidr)) return Bad("server.trusted_proxies", "'" + p + "' is not a CIDR");
  }
  if (!c.server.public_url.empty() && !CheckHttpUrl(c.server.public_url).empty()) {
    return Bad("server.public_url", CheckHttpUrl(c.server.public_url));
  }
  if (c.server.header_timeout_ms < 1) return Bad("server.header_timeout_ms", "must be positive");
  if (c.server.idle_timeout_ms < 1) return Bad("server.idle_timeout_ms", "must be positive");
  if (c.server.io_timeout_ms < 1) return Bad("server.io_timeout_ms", "must be positive");
  if (c.server.max_connections < 1) return Bad("server.max_connections", "must be positive");
  return Status::OK();
}

Status ValidateRedirect(const Config& c) {
  int st = c.redirect.status;
  if (st != 301 && st != 302 && st != 307 && st != 308) {
    return Bad("redirect.status", "must be 301, 302, 307 or 308");
  }
  if (auto e = CheckHttpUrl(c.redirect.default_target); !e.empty()) {
    return Bad("redirect.default_target", e);
  }
  for (const auto& h : c.redirect.allowed_hosts) {
    if (!IsValidHostPattern(h) && !IsIpv6Literal(h)) {
      return Bad("redirect.allowed_hosts", "'" + h + "' is not a host");
    }
  }
  if (!c.redirect.allowed_hosts.empty() &&
      !HostAllowed(HostOf(c.redirect.default_target), c.redirect.allowed_hosts)) {
    return Bad("redirect.default_target", "host is not in redirect.allowed_hosts");
  }
  for (auto [key, name] : {std::pair{"redirect.ref_param", &c.redirect.ref_param},
                           std::pair{"redirect.click_param", &c.redirect.click_param},
                           std::pair{"privacy.no_track_param", &c.privacy.no_track_param}}) {
    if (!name->empty() && !IsToken(*name)) return Bad(key, "not a valid parameter name");
  }
  for (auto [key, url] : {std::pair{"redirect.not_found_url", &c.redirect.not_found_url},
                          std::pair{"redirect.expired_url", &c.redirect.expired_url}}) {
    if (!url->empty() && !CheckHttpUrl(*url).empty()) return Bad(key, CheckHttpUrl(*url));
  }
  return Status::OK();
}

Status ValidateCookie(const Config& c) {
  if (!IsToken(c.cookie.name)) return Bad("cookie.name", "not a valid cookie name");
  if (!c.cookie.domain.empty() &&
      !IsValidHostPattern(c.cookie.domain.front() == '.' ? c.cookie.domain.substr(1)
                                                         : c.cookie.domain)) {
    return Bad("cookie.domain", "not a domain");
  }
  if (c.cookie.max_age_days < 0 || c.cookie.max_age_days > 3650) {
    return Bad("cookie.max_age_days", "0 to 3650");
  }
  return Status::OK();
}

Status ValidateStorage(const Config& c) {
  if (c.storage.data_dir.empty()) return Bad("storage.data_dir", "must not be empty");
  if (c.storage.cache_entries < 0) return Bad("storage.cache_entries", "must not be negative");
  const auto& d = c.clicklog.durability;
  if (d != "sync" && d != "interval" && d != "none") {
    return Bad("clicklog.durability", "must be \"sync\", \"interval\" or \"none\"");
  }
  if (c.clicklog.interval_ms < 1) return Bad("clicklog.interval_ms", "must be positive");
  if (c.clicklog.segment_bytes < (1 << 16)) return Bad("clicklog.segment_bytes", "at least 65536");
  if (c.clicklog.max_wait_ms < 1) return Bad("clicklog.max_wait_ms", "must be positive");
  if (c.clicklog.retention_days < 0) return Bad("clicklog.retention_days", "must not be negative");
  if (c.rollup.interval_s < 0) return Bad("rollup.interval_s", "must not be negative");
  if (c.rollup.max_memory_mb < 64 || c.rollup.max_memory_mb > 65536) {
    return Bad("rollup.max_memory_mb", "64 to 65536");
  }
  if (c.admin.max_auth_failures < 0) return Bad("admin.max_auth_failures", "must not be negative");
  return Status::OK();
}

bool IsCurrencyCode(std::string_view s) {
  return s.size() == 3 &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
}

Status ValidateRewards(const Config& c) {
  const Config::Rewards& r = c.rewards;
  if (!IsCurrencyCode(r.currency))
    return Bad("rewards.currency", "an ISO 4217 code such as \"EUR\"");
  if (r.window_days < 1 || r.window_days > 3650) return Bad("rewards.window_days", "1 to 3650");
  if (r.model != "last_click" && r.model != "first_click") {
    return Bad("rewards.model", "must be \"last_click\" or \"first_click\"");
  }
  if (r.customer_binding_days < 0 || r.customer_binding_days > 36500) {
    return Bad("rewards.customer_binding_days", "0 to 36500");
  }
  for (auto [key, v] : {std::pair{"rewards.lead_minor", r.lead_minor},
                        std::pair{"rewards.sale_flat_minor", r.sale_flat_minor}}) {
    if (v < 0 || v > kMaxAmountMinor) return Bad(key, "0 to 10^15");
  }
  if (r.recurring_months < 0 || r.recurring_months > 1200) {
    return Bad("rewards.recurring_months", "0 to 1200");
  }
  if (r.hold_days < 0 || r.hold_days > 3650) return Bad("rewards.hold_days", "0 to 3650");
  if (r.min_click_age_s < 0) return Bad("rewards.min_click_age_s", "must not be negative");
  if (!c.admin.events_token.empty() && c.admin.events_token == c.admin.token) {
    return Bad("admin.events_token", "must differ from admin.token");
  }
  return Status::OK();
}

// The secret may come from REFGATE_WEBHOOK_SECRET, which serve reads
// after this: a url without a secret is refused there.
Status ValidateWebhooks(const Config& c) {
  const Config::Webhooks& w = c.webhooks;
  webhooks::Target t;
  if (!w.url.empty()) {
    if (Status s = webhooks::ParseTarget(w.url, &t); !s.ok())
      return Bad("webhooks.url", s.message());
  }
  for (const std::string& e : w.events) {
    if (e != "event.attributed" && e != "event.held" && e != "reward.payable") {
      return Bad("webhooks.events", "\"" + e +
                                        "\" is not one of event.attributed, event.held, "
                                        "reward.payable");
    }
  }
  if (w.timeout_ms < 100 || w.timeout_ms > 60000) return Bad("webhooks.timeout_ms", "100 to 60000");
  return Status::OK();
}

// node_id names the node's subjects and message ids in NATS, so it is a
// subject token: no dots, wildcards or spaces.
Status ValidateCluster(const Config& c) {
  const Config::Cluster& k = c.cluster;
  for (const std::string& url : k.nats_urls) {
    if (!url.starts_with("nats://") || url.size() == 7 || url.find(',') != std::string::npos) {
      return Bad("cluster.nats_urls", "\"" + url + "\" is not a nats://HOST:PORT URL");
    }
  }
  if (!k.node_id.empty() && !IsUrlSafeToken(k.node_id, 1, 64)) {
    return Bad("cluster.node_id", "1 to 64 characters of A-Z, a-z, 0-9, _ and -");
  }
  if (!k.nats_urls.empty() && k.node_id.empty()) {
    return Bad("cluster.node_id", "required with cluster.nats_urls");
  }
  if (k.nats_urls.empty() && k.rollup) return Bad("cluster.rollup", "needs cluster.nats_urls");
  if (k.replicas < 1 || k.replicas > 5) return Bad("cluster.replicas", "1 to 5");
  return Status::OK();
}

}  // namespace

Status ValidateConfig(const Config& c) {
  for (auto check : {ValidateServer, ValidateStorage, ValidateRedirect, ValidateCookie,
                     ValidateRewards, ValidateWebhooks, ValidateCluster}) {
    if (Status s = check(c); !s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace refgate
