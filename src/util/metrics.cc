#include "util/metrics.h"

namespace refgate {

namespace metrics_internal {
unsigned ThreadSlot() {
  static std::atomic<unsigned> next{0};
  thread_local unsigned slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
  return slot;
}
}  // namespace metrics_internal

std::string_view RouteName(Route r) {
  static constexpr std::string_view kNames[] = {
      "redirect",       "not_found",        "gone",        "public_healthz",
      "public_other",   "codes_create",     "codes_batch", "codes_get",
      "codes_patch",    "codes_delete",     "codes_list",  "codes_qr",
      "referrer_stats", "program_stats",    "events_post", "events_get",
      "events_list",    "campaign_rewards", "payouts",     "rewards",
      "healthz",        "readyz",           "metrics",     "dashboard",
      "admin_other"};
  static_assert(std::size(kNames) == static_cast<size_t>(Route::kCount));
  return kNames[static_cast<size_t>(r)];
}

Histogram::Histogram(std::initializer_list<uint64_t> bounds, double unit)
    : bounds_(bounds), unit_(unit) {}

void Histogram::Observe(uint64_t v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  c_.Add(i);
  c_.Add(kMaxBounds + 1, v);
}

void Histogram::Render(std::string_view name, std::string_view help, std::string* out) const {
  std::string n(name);
  out->append("# HELP ").append(n).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(n).append(" histogram\n");
  uint64_t cumulative = 0;
  auto num = [](double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return s;
  };
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += c_.Value(i);
    std::string le = i < bounds_.size() ? num(static_cast<double>(bounds_[i]) / unit_) : "+Inf";
    out->append(n + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n");
  }
  out->append(n + "_sum " + num(static_cast<double>(c_.Value(kMaxBounds + 1)) / unit_) + "\n");
  out->append(n + "_count " + std::to_string(cumulative) + "\n");
}

size_t Metrics::StatusIndex(int status) {
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kStatuses.size();
}

void Metrics::CountRequest(Route route, int status) {
  requests_.Add(static_cast<size_t>(route) * kStatusSlots + StatusIndex(status));
}

uint64_t Metrics::Requests(Route route, int status) const {
  return requests_.Value(static_cast<size_t>(route) * kStatusSlots + StatusIndex(status));
}

namespace {

struct CounterRow {
  std::string_view name, help;
  Counter Metrics::*field;
};

constexpr CounterRow kCounters[] = {
    {"refgate_cache_hits_total", "Code lookups answered by the in-process cache.",
     &Metrics::cache_hits},
    {"refgate_cache_misses_total", "Code lookups that went to RocksDB.", &Metrics::cache_misses},
    {"refgate_clicks_recorded_total", "Click records handed to the click log.",
     &Metrics::clicks_recorded},
    {"refgate_clicks_dropped_total", "Click records that could not be written.",
     &Metrics::clicks_dropped},
    {"refgate_clicklog_records_total", "Records written to the click log.", &Metrics::log_records},
    {"refgate_clicklog_bytes_total", "Bytes written to the click log.", &Metrics::log_bytes},
    {"refgate_clicklog_released_total",
     "Visitors redirected after max_wait_ms before their click was durable.",
     &Metrics::log_released},
    {"refgate_connections_evicted_total",
     "Idle connections closed to make room for new ones at max_connections.",
     &Metrics::connections_evicted},
    {"refgate_connections_shed_total",
     "Connections refused with 503 at max_connections, none being idle.",
     &Metrics::connections_shed},
    {"refgate_connections_timed_out_total",
     "Connections closed at header_timeout_ms, idle_timeout_ms or io_timeout_ms.",
     &Metrics::connections_timed_out},
    {"refgate_cluster_shipped_records_total", "Log records shipped to the cluster's stream.",
     &Metrics::cluster_shipped_records},
    {"refgate_cluster_merged_messages_total",
     "Messages of the cluster's stream the rollup node added to its copy of it.",
     &Metrics::cluster_merged_messages},
    {"refgate_webhooks_delivered_total", "Webhooks delivered (the receiver answered 2xx).",
     &Metrics::webhooks_delivered},
    {"refgate_webhooks_failed_total", "Webhook attempts that got no 2xx answer.",
     &Metrics::webhooks_failed},
    {"refgate_webhooks_retried_total", "Webhook attempts after an entry's first.",
     &Metrics::webhooks_retried},
    {"refgate_webhooks_expired_total", "Webhooks given up after 24 hours of retries.",
     &Metrics::webhooks_expired},
};

void AppendMetric(std::string_view name, std::string_view help, std::string_view type,
                  int64_t value, std::string* out) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out->append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

std::string Metrics::RenderPrometheus() const {
  std::string out;
  out.append(
      "# HELP refgate_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE refgate_http_requests_total counter\n");
  for (size_t r = 0; r < static_cast<size_t>(Route::kCount); ++r) {
    for (size_t s = 0; s < kStatusSlots; ++s) {
      uint64_t v = requests_.Value(r * kStatusSlots + s);
      if (v == 0) continue;
      std::string status = s < kStatuses.size() ? std::to_string(kStatuses[s]) : "other";
      out.append("refgate_http_requests_total{route=\"")
          .append(RouteName(static_cast<Route>(r)))
          .append("\",status=\"" + status + "\"} " + std::to_string(v) + "\n");
    }
  }
  for (const CounterRow& c : kCounters) {
    AppendMetric(c.name, c.help, "counter", static_cast<int64_t>((this->*c.field).Value()), &out);
  }
  AppendMetric("refgate_open_connections", "Open client connections, both listeners.", "gauge",
               open_connections.load(std::memory_order_relaxed), &out);
  AppendMetric("refgate_clicklog_queue_depth", "Click records waiting for the writer.", "gauge",
               log_queue_depth.load(std::memory_order_relaxed), &out);
  AppendMetric("refgate_webhooks_oldest_undelivered_seconds",
               "Age of the oldest webhook owed and not yet delivered (0: none).", "gauge",
               webhooks_oldest_undelivered_s.load(std::memory_order_relaxed), &out);
  AppendMetric("refgate_cluster_connected",
               "1 while this node is connected to NATS (cluster mode).", "gauge",
               cluster_connected.load(std::memory_order_relaxed), &out);
  AppendMetric("refgate_cluster_codes_revision",
               "The codes' bucket revision this node's store has applied (cluster mode).", "gauge",
               cluster_codes_revision.load(std::memory_order_relaxed), &out);
  AppendMetric("refgate_cluster_shipped_seq",
               "The click log's seq the cluster's stream has this node's records through.", "gauge",
               cluster_shipped_seq.load(std::memory_order_relaxed), &out);
  AppendMetric("refgate_cluster_ship_lag_records", "Durable log records not yet shipped.", "gauge",
               cluster_ship_lag_records.load(std::memory_order_relaxed), &out);
  AppendMetric("refgate_cluster_ship_lag_seconds",
               "Seconds since every durable record was last shipped (0: none waits).", "gauge",
               cluster_ship_lag_s.load(std::memory_order_relaxed), &out);
  redirect_latency.Render("refgate_redirect_duration_seconds",
                          "Time from a redirect request's headers to its response.", &out);
  log_batch_size.Render("refgate_clicklog_batch_records",
                        "Records per click log write (group commit).", &out);
  log_sync_latency.Render("refgate_clicklog_fsync_duration_seconds",
                          "Time one fdatasync of the click log took.", &out);
  return out;
}

Metrics& GlobalMetrics() {
  static Metrics m;
  return m;
}

}  // namespace refgate
