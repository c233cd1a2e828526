// `refgate compact`, and the rollup job inside `serve`.
#include <unistd.h>

#include <cstdio>

#include "app/app.h"
#include "app/rollup_job.h"
#include "rollup/compactor.h"

namespace refgate {
namespace {

rollup::AttributionOptions AttributionFromConfig(const Config& cfg) {
  const Config::Rewards& r = cfg.rewards;
  rollup::AttributionOptions o;
  o.window_days = r.window_days;
  o.first_click = r.model == "first_click";
  o.customer_binding_days = r.customer_binding_days;
  o.rules = {r.lead_minor,       r.sale_percent_ppm, r.sale_flat_minor,
             r.recurring_months, r.hold_days,        r.min_click_age_s};
  return o;
}

// The job as the config says: a cluster's rollup node (SPEC §8) rolls up
// its copy of the cluster's stream.
rollup::CompactOptions CompactOptionsFromConfig(const Config& cfg) {
  rollup::CompactOptions opt;
  opt.data_dir = cfg.storage.data_dir;
  opt.cluster = !cfg.cluster.nats_urls.empty() && cfg.cluster.rollup;
  if (!cfg.cluster.nats_urls.empty()) opt.click_key_dir = ClickKeyDir(cfg);
  opt.retention_days = cfg.clicklog.retention_days;
  opt.attribution = AttributionFromConfig(cfg);
  opt.currency = cfg.rewards.currency;
  opt.max_memory_bytes = size_t(cfg.rollup.max_memory_mb) << 20;
  return opt;
}

}  // namespace

int RunCompact(const Config& cfg) {
  rollup::CompactOptions opt = CompactOptionsFromConfig(cfg);
  opt.progress = isatty(STDERR_FILENO);
  rollup::CompactResult r;
  Status s = rollup::Compact(opt, &r);
  std::printf(
      "refgate compact: %llu records rolled up, through seq %llu; %zu dates published, "
      "%zu old segments deleted\n",
      static_cast<unsigned long long>(r.records), static_cast<unsigned long long>(r.through_seq),
      r.dates_published, r.segments_deleted);
  if (r.skipped + r.undecodable + r.damaged_ranges > 0) {
    std::printf(
        "refgate compact: passed over %llu records of unknown types, %llu undecodable "
        "clicks, %llu damaged ranges (%llu bytes)\n",
        static_cast<unsigned long long>(r.skipped), static_cast<unsigned long long>(r.undecodable),
        static_cast<unsigned long long>(r.damaged_ranges),
        static_cast<unsigned long long>(r.damaged_bytes));
  }
  if (!s.ok()) {
    std::fprintf(stderr, "refgate compact: %s\n", s.ToString().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

RollupJob::RollupJob(const Config& cfg) : cfg_(cfg) {
  if (cfg_.rollup.interval_s > 0) thread_ = std::thread([this] { Loop(); });
}

RollupJob::~RollupJob() { Stop(); }

void RollupJob::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RollupJob::Loop() {
  std::unique_lock lock(mu_);
  while (
      !cv_.wait_for(lock, std::chrono::seconds(cfg_.rollup.interval_s), [this] { return stop_; })) {
    lock.unlock();
    rollup::CompactResult r;
    Status s = rollup::Compact(CompactOptionsFromConfig(cfg_), &r);
    if (!s.ok()) {
      std::fprintf(stderr, "refgate: rollup: %s\n", s.ToString().c_str());
    } else if (r.records > 0) {
      std::printf("rollup: %llu records, through seq %llu\n",
                  static_cast<unsigned long long>(r.records),
                  static_cast<unsigned long long>(r.through_seq));
    }
    lock.lock();
  }
}

}  // namespace refgate
