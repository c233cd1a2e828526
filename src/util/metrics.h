// Process metrics in Prometheus text format.
//
// Thread-safety: every method may be called from any thread. Counters are
// striped: each thread adds to its own cache line (one of kSlots), and a
// scrape sums the stripes, so the redirect path never contends on a counter.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
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
  kStats,
  kHealthz,
  kReadyz,
  kMetrics,
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

// Latency histogram with fixed bucket bounds in microseconds.
class Histogram {
 public:
  static constexpr std::array<uint64_t, 12> kBoundsUs = {50,   100,   250,   500,    1000,   2500,
                                                         5000, 10000, 25000, 100000, 250000, 1000000};
  void ObserveMicros(uint64_t us);
  // Appends the _bucket, _sum and _count lines of metric `name`.
  void Render(std::string_view name, std::string_view help, std::string* out) const;

 private:
  // Buckets (non-cumulative), then +Inf, then the sum of observations.
  CounterArray<kBoundsUs.size() + 2> c_;
};

class Metrics {
 public:
  void CountRequest(Route route, int status);
  Counter cache_hits;
  Counter cache_misses;
  std::atomic<int64_t> open_connections{0};
  Histogram redirect_latency;
  Counter clicks_recorded;
  Counter clicks_dropped;

  // Components with metrics of their own (the click log) add a renderer.
  void AddRenderer(std::function<void(std::string*)> fn);
  std::string RenderPrometheus() const;

  uint64_t Requests(Route route, int status) const;

 private:
  static constexpr std::array<int, 22> kStatuses = {200, 201, 204, 301, 302, 307, 308, 400,
                                                    401, 403, 404, 405, 409, 410, 413, 414,
                                                    415, 429, 431, 500, 501, 503};
  static constexpr size_t kStatusSlots = kStatuses.size() + 1;  // + "other"
  static size_t StatusIndex(int status);

  CounterArray<static_cast<size_t>(Route::kCount) * kStatusSlots> requests_;
  mutable std::mutex renderers_mu_;
  std::vector<std::function<void(std::string*)>> renderers_;
};

// The process's metrics.
Metrics& GlobalMetrics();

}  // namespace refgate
