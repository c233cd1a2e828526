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
      "redirect",     "not_found",    "gone",        "public_healthz", "public_other",
      "codes_create", "codes_batch",  "codes_get",   "codes_patch",    "codes_delete",
      "codes_list",   "referrer_stats", "healthz",   "readyz",         "metrics",
      "admin_other"};
  static_assert(std::size(kNames) == static_cast<size_t>(Route::kCount));
  return kNames[static_cast<size_t>(r)];
}

void Histogram::ObserveMicros(uint64_t us) {
  size_t i = 0;
  while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
  c_.Add(i);
  c_.Add(kBoundsUs.size() + 1, us);
}

void Histogram::Render(std::string_view name, std::string_view help, std::string* out) const {
  std::string n(name);
  out->append("# HELP ").append(n).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(n).append(" histogram\n");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBoundsUs.size(); ++i) {
    cumulative += c_.Value(i);
    std::string le = i < kBoundsUs.size() ? std::to_string(kBoundsUs[i] / 1e6) : "+Inf";
    out->append(n + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n");
  }
  out->append(n + "_sum " + std::to_string(c_.Value(kBoundsUs.size() + 1) / 1e6) + "\n");
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

void Metrics::AddRenderer(std::function<void(std::string*)> fn) {
  std::lock_guard lock(renderers_mu_);
  renderers_.push_back(std::move(fn));
}

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
  auto counter = [&out](std::string_view name, std::string_view help, uint64_t v) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" counter\n");
    out.append(name).append(" ").append(std::to_string(v)).append("\n");
  };
  counter("refgate_cache_hits_total", "Code lookups answered by the in-process cache.",
          cache_hits.Value());
  counter("refgate_cache_misses_total", "Code lookups that went to RocksDB.",
          cache_misses.Value());
  counter("refgate_clicks_recorded_total", "Click records handed to the click log.",
          clicks_recorded.Value());
  counter("refgate_clicks_dropped_total", "Click records that could not be written.",
          clicks_dropped.Value());
  out.append(
      "# HELP refgate_open_connections Open client connections, both listeners.\n"
      "# TYPE refgate_open_connections gauge\n"
      "refgate_open_connections " +
      std::to_string(open_connections.load(std::memory_order_relaxed)) + "\n");
  redirect_latency.Render("refgate_redirect_duration_seconds",
                          "Time from a redirect request's headers to its response.", &out);
  std::lock_guard lock(renderers_mu_);
  for (const auto& fn : renderers_) fn(&out);
  return out;
}

Metrics& GlobalMetrics() {
  static Metrics m;
  return m;
}

}  // namespace refgate
