// Config: every key of configs/refgate.toml, with its default (SPEC §1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "refgate/status.h"

namespace refgate {

struct HostPort {
  std::string host;  // literal IPv4 or IPv6 address, or "localhost"
  uint16_t port = 0;

  std::string ToString() const;  // "127.0.0.1:8080", "[::1]:8080"
};

// The largest amount an event or a reward rule may carry (10^15 minor
// units), so that sums over a program's lifetime stay far from overflow.
inline constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;

struct Config {
  struct Server {
    HostPort listen{"127.0.0.1", 8080};
    HostPort admin_listen{"127.0.0.1", 8081};
    int threads = 0;  // 0: one per core
    std::vector<std::string> trusted_proxies;
    std::string public_url;  // base of short_url; "": http://<listen>
    int header_timeout_ms = 10000;
    int idle_timeout_ms = 60000;
    int io_timeout_ms = 30000;    // a response write or a request body read, at most
    int max_connections = 10000;  // per listener; past it idle ones are reused, else 503
  } server;
  struct Storage {
    std::string data_dir = "data";
    int64_t cache_entries = 1000000;
  } storage;
  struct Redirect {
    int status = 302;
    std::string default_target = "https://example.com/";
    std::vector<std::string> allowed_hosts = {"example.com", "*.example.com"};
    bool forward_query = true;
    std::string ref_param = "ref";
    std::string click_param = "rg_click";
    std::string not_found_url;
    std::string expired_url;
  } redirect;
  struct Cookie {
    std::string name = "rg_vid";
    std::string domain;
    int max_age_days = 90;
    bool secure = true;
  } cookie;
  struct ClickLog {
    std::string durability = "sync";
    int interval_ms = 50;
    int64_t segment_bytes = 64 << 20;
    int max_wait_ms = 1000;
    int retention_days = 30;
  } clicklog;
  struct Rollup {
    int interval_s = 60;
    int max_memory_mb = 1024;  // a run past this commits what it has and goes on
  } rollup;
  struct Admin {
    std::string token;
    std::string events_token;    // POST/GET /api/v1/events only; prefer REFGATE_EVENTS_TOKEN
    int max_auth_failures = 10;  // per client and minute; then 429 until the minute ends. 0: off
  } admin;
  struct Privacy {
    bool anonymize_ip = true;
    std::string no_track_param = "rg_notrack";
  } privacy;
  // Signed webhooks (SPEC §7).
  struct Webhooks {
    std::string url;     // https://, or http:// to a loopback host; "": off
    std::string secret;  // prefer REFGATE_WEBHOOK_SECRET; "a,b" while rotating
    std::vector<std::string> events = {"event.attributed", "event.held", "reward.payable"};
    int timeout_ms = 5000;
  } webhooks;
  // Reward rules (SPEC §6); campaigns may override lead_minor and below.
  struct Rewards {
    std::string currency = "EUR";  // ISO 4217; every event's currency must equal it
    int window_days = 30;
    std::string model = "last_click";  // or "first_click"
    int customer_binding_days = 365;
    int64_t lead_minor = 0;
    int64_t sale_percent_ppm = 100000;  // sale_percent in millionths: 10.0 % = 100000
    int64_t sale_flat_minor = 0;
    int recurring_months = 12;
    int hold_days = 30;
    int64_t min_click_age_s = 0;
  } rewards;
  // Cluster mode (SPEC §8): nodes sharing a NATS JetStream cluster.
  struct Cluster {
    std::vector<std::string> nats_urls;  // nats://HOST:PORT each; empty: a single node
    std::string node_id;                 // [A-Za-z0-9_-], 1 to 64; required with nats_urls
    bool rollup = false;                 // the one node that computes the rollups
    int replicas = 3;                    // copies JetStream keeps of what refgate creates there
  } cluster;
};

// Reads a TOML file over the values already in *cfg. An unknown key, a value
// of the wrong type or an invalid value is an InvalidArgument whose message
// names the key ("redirect.status: must be 301, 302, 307 or 308").
Status LoadConfigFile(const std::string& path, Config* cfg);

// Same, from TOML text (for tests and the embedded defaults).
Status LoadConfigText(std::string_view toml, Config* cfg);

// Checks the cross-key rules; run once flags have been applied.
Status ValidateConfig(const Config& cfg);

// "HOST:PORT" or "[V6]:PORT"; the host must be a literal address or localhost.
Status ParseHostPort(std::string_view s, HostPort* out);

}  // namespace refgate
