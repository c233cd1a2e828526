// Process metrics in Prometheus text format.
//
// Thread-safety: every method may be called from any thread. Counters are
// striped: each thread adds to its own cache line (one of kSlots), and a
// scrape sums the stripes, so the redirect path never contends on a counter.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace refgate {

enum class Route : uint8_t {
  kRedirect,
  kNotFound,
  kGone,
  kPublicHealth,
  kPublicOther,
  kCodesCreate,
  kCodesBatch,
  kCodesGet,
  kCodesPatch,
  kCodesDelete,
  kCodesList,
  kCodesQr,
  kStats,
  kProgramStats,
  kEventsPost,
  kEventsGet,
  kEventsList,
  kCampaigns,
  kPayouts,
  kRewards,
  kHealthz,
  kReadyz,
  kMetrics,
  kDashboard,
  kAdminOther,
  kCount
};
std::string_view RouteName(Route r);

namespace metrics_internal {
inline constexpr int kSlots = 16;
unsigned ThreadSlot();
}  // namespace metrics_internal

// N counters, striped per thread.
template <size_t N>
class CounterArray {
 public:
  void Add(size_t i, uint64_t n = 1) {
    slots_[metrics_internal::ThreadSlot()].v[i].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Value(size_t i) const {
    uint64_t sum = 0;
    for (const auto& s : slots_) sum += s.v[i].load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Slot {
    std::array<std::atomic<uint64_t>, N> v{};
  };
  std::array<Slot, metrics_internal::kSlots> slots_{};
};

class Counter {
 public:
  void Add(uint64_t n = 1) { c_.Add(0, n); }
  uint64_t Value() const { return c_.Value(0); }

 private:
  CounterArray<1> c_;
};

// Histogram over integer observations with fixed bucket upper bounds.
// Rendered values are divided by `unit` (1e6 turns microseconds to seconds).
class Histogram {
 public:
  static constexpr size_t kMaxBounds = 14;
  // REQUIRES: bounds ascending, at most kMaxBounds.
  Histogram(std::initializer_list<uint64_t> bounds, double unit);
  void Observe(uint64_t v);
  // Observations in bucket i (above bound i-1, at most bound i; i ==
  // bounds.size() is +Inf).
  uint64_t BucketCount(size_t i) const { return c_.Value(i); }
  // Appends the _bucket, _sum and _count lines of metric `name`.
  void Render(std::string_view name, std::string_view help, std::string* out) const;

 private:
  std::vector<uint64_t> bounds_;
  double unit_;
  // Buckets (non-cumulative), then +Inf, then the sum of observations.
  CounterArray<kMaxBounds + 2> c_;
};

class Metrics {
 public:
  void CountRequest(Route route, int status);
  Counter cache_hits;
  Counter cache_misses;
  std::atomic<int64_t> open_connections{0};
  Counter connections_evicted;    // reusable connections closed to make room
  Counter connections_shed;       // refused with 503 at max_connections
  Counter connections_timed_out;  // closed past header, idle or I/O timeout
  Histogram redirect_latency{
      {50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000}, 1e6};
  Counter clicks_recorded;  // handed to the click sink
  Counter clicks_dropped;   // could not be written

  // The click log.
  Counter log_records;
  Counter log_bytes;
  Counter log_released;  // visitors let go after max_wait_ms, record not yet durable
  std::atomic<int64_t> log_queue_depth{0};
  Histogram log_batch_size{{1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096}, 1};
  Histogram log_sync_latency{{50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000, 250000, 1000000},
                             1e6};

  // Webhooks (SPEC §7).
  Counter webhooks_delivered;  // answered 2xx
  Counter webhooks_failed;     // attempts that got no 2xx
  Counter webhooks_retried;    // attempts after an entry's first
  Counter webhooks_expired;    // given up after 24 hours of retries
  std::atomic<int64_t> webhooks_oldest_undelivered_s{0};

  // Cluster mode (SPEC §8).
  std::atomic<int64_t> cluster_connected{0};         // 1 while NATS answers
  std::atomic<int64_t> cluster_codes_revision{0};    // the codes' bucket revision applied
  std::atomic<int64_t> cluster_shipped_seq{0};       // the log's records the stream has
  std::atomic<int64_t> cluster_ship_lag_records{0};  // durable, not yet shipped
  std::atomic<int64_t> cluster_ship_lag_s{0};        // since the lag was last 0
  Counter cluster_shipped_records;
  Counter cluster_merged_messages;  // the rollup node: messages of the stream added to its copy

  std::string RenderPrometheus() const;

  uint64_t Requests(Route route, int status) const;

 private:
  static constexpr std::array<int, 22> kStatuses = {200, 201, 204, 301, 302, 307, 308, 400,
                                                    401, 403, 404, 405, 409, 410, 413, 414,
                                                    415, 429, 431, 500, 501, 503};
  static constexpr size_t kStatusSlots = kStatuses.size() + 1;  // + "other"
  static size_t StatusIndex(int status);

  CounterArray<static_cast<size_t>(Route::kCount) * kStatusSlots> requests_;
};

// The process's metrics.
Metrics& GlobalMetrics();

}  // namespace refgate
