// Metrics: striped counters sum every thread's adds, histogram buckets hold
// what their bounds say, and the Prometheus text is well formed.
#include "util/metrics.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace refgate {
namespace {

bool Contains(const std::string& text, std::string_view line) {
  return text.find(std::string(line) + "\n") != std::string::npos;
}

TEST(Metrics, CountersSumTheAddsOfMoreThreadsThanStripes) {
  Counter c;
  CounterArray<3> arr;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * metrics_internal::kSlots + 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        c.Add();
        arr.Add(2, 5);
      }
    });
  }
  for (auto& t : threads) t.join();
  const uint64_t n = (2 * metrics_internal::kSlots + 3) * 1000;
  EXPECT_EQ(c.Value(), n);
  EXPECT_EQ(arr.Value(0), 0u);
  EXPECT_EQ(arr.Value(1), 0u);
  EXPECT_EQ(arr.Value(2), 5 * n);
}

TEST(Metrics, HistogramBucketHoldsValuesUpToItsBoundInclusive) {
  Histogram h({10, 100, 1000}, 1);
  for (uint64_t v : {0, 10}) h.Observe(v);
  for (uint64_t v : {11, 100}) h.Observe(v);
  h.Observe(1000);
  for (uint64_t v : {uint64_t{1001}, uint64_t{1} << 40}) h.Observe(v);
  EXPECT_EQ(h.BucketCount(0), 2u);
  EXPECT_EQ(h.BucketCount(1), 2u);
  EXPECT_EQ(h.BucketCount(2), 1u);
  EXPECT_EQ(h.BucketCount(3), 2u);  // +Inf
}

TEST(Metrics, HistogramRendersCumulativeBucketsInTheUnit) {
  Histogram h({50, 250000, 1000000}, 1e6);  // microseconds rendered as seconds
  h.Observe(50);
  h.Observe(100000);
  h.Observe(2000000);
  std::string out;
  h.Render("x_seconds", "Help text.", &out);
  EXPECT_EQ(out,
            "# HELP x_seconds Help text.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.00005\"} 1\n"
            "x_seconds_bucket{le=\"0.25\"} 2\n"
            "x_seconds_bucket{le=\"1\"} 2\n"
            "x_seconds_bucket{le=\"+Inf\"} 3\n"
            "x_seconds_sum 2.10005\n"
            "x_seconds_count 3\n");
}

TEST(Metrics, RequestsAreCountedByRouteAndStatusWithUnlistedStatusesAsOther) {
  auto m = std::make_unique<Metrics>();
  m->CountRequest(Route::kRedirect, 302);
  m->CountRequest(Route::kRedirect, 302);
  m->CountRequest(Route::kNotFound, 404);
  m->CountRequest(Route::kCodesCreate, 418);
  m->CountRequest(Route::kCodesCreate, 599);
  EXPECT_EQ(m->Requests(Route::kRedirect, 302), 2u);
  EXPECT_EQ(m->Requests(Route::kRedirect, 404), 0u);
  EXPECT_EQ(m->Requests(Route::kNotFound, 404), 1u);
  EXPECT_EQ(m->Requests(Route::kNotFound, 302), 0u);
  EXPECT_EQ(m->Requests(Route::kCodesCreate, 418), 2u);  // both land in "other"
  std::string text = m->RenderPrometheus();
  EXPECT_TRUE(Contains(text, "refgate_http_requests_total{route=\"redirect\",status=\"302\"} 2"));
  EXPECT_TRUE(Contains(text, "refgate_http_requests_total{route=\"not_found\",status=\"404\"} 1"));
  EXPECT_TRUE(
      Contains(text, "refgate_http_requests_total{route=\"codes_create\",status=\"other\"} 2"));
}

TEST(Metrics, RenderingShowsCountersAndGauges) {
  auto m = std::make_unique<Metrics>();
  m->cache_hits.Add(3);
  m->clicks_dropped.Add();
  m->open_connections = 7;
  m->log_batch_size.Observe(3);
  std::string text = m->RenderPrometheus();
  EXPECT_TRUE(Contains(text, "refgate_cache_hits_total 3"));
  EXPECT_TRUE(Contains(text, "refgate_cache_misses_total 0"));
  EXPECT_TRUE(Contains(text, "refgate_clicks_dropped_total 1"));
  EXPECT_TRUE(Contains(text, "refgate_open_connections 7"));
  EXPECT_TRUE(Contains(text, "refgate_clicklog_batch_records_bucket{le=\"2\"} 0"));
  EXPECT_TRUE(Contains(text, "refgate_clicklog_batch_records_bucket{le=\"4\"} 1"));
}

TEST(Metrics, EverySampleLineIsANameAndANumberOfATypedFamily) {
  auto m = std::make_unique<Metrics>();
  m->CountRequest(Route::kStats, 200);
  m->redirect_latency.Observe(120);
  std::istringstream in(m->RenderPrometheus());
  std::set<std::string> typed;
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("# TYPE ")) typed.insert(line.substr(7, line.find(' ', 7) - 7));
    if (line.starts_with("#")) continue;
    size_t sp = line.rfind(' ');
    ASSERT_NE(sp, std::string::npos) << line;
    std::string value = line.substr(sp + 1);
    char* end = nullptr;
    std::strtod(value.c_str(), &end);
    EXPECT_TRUE(!value.empty() && *end == '\0') << line;
    std::string name = line.substr(0, std::min(sp, line.find('{')));
    bool ok = typed.count(name) > 0;
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix))
        ok |= typed.count(name.substr(0, name.size() - suffix.size())) > 0;
    }
    EXPECT_TRUE(ok) << "no # TYPE before " << line;
    ++samples;
  }
  EXPECT_GT(samples, 20);
}

TEST(Metrics, EveryRouteHasADistinctLabel) {
  std::set<std::string_view> names;
  for (size_t r = 0; r < static_cast<size_t>(Route::kCount); ++r) {
    std::string_view n = RouteName(static_cast<Route>(r));
    EXPECT_FALSE(n.empty()) << r;
    EXPECT_EQ(n.find_first_of("\"\\\n"), std::string_view::npos) << n;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Route::kCount));
}

}  // namespace
}  // namespace refgate
