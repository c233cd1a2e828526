// Click log append throughput beside the raw sequential write speed of the
// same disk, measured in the same run.
//
//   build/bench/refgate_bench --benchmark_filter=Log|Raw
//
// Files go to $REFGATE_BENCH_DIR (default ./bench-data), which is removed after.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "clicklog/click_log.h"
#include "clicklog/format.h"

namespace refgate::clicklog {
namespace {

std::string BenchDir() {
  const char* d = std::getenv("REFGATE_BENCH_DIR");
  return d ? d : "bench-data";
}

ClickRecord TypicalClick() {
  ClickRecord c;
  c.ts_us = 1795341600'000000;
  c.code = "Ab3xY9k";
  c.referrer_id = "cust_12345";
  c.click_id = "9enKg2hqrsZL1zLGCQc77g";
  c.visitor_id = "zncPVv0nl8k6zGRShvdq4w";
  c.new_visitor = true;
  c.method = "GET";
  c.utm = {"newsletter", "email", "spring", "", ""};
  c.referer = "https://mail.example.org/";
  c.user_agent =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
      "Safari/537.36";
  c.ip = "203.0.113.0";
  c.status = 302;
  return c;
}

size_t FramedSize() {
  std::string payload, framed;
  EncodeClick(TypicalClick(), &payload);
  AppendRecord(&framed, kClick, 1, payload);
  return framed.size();
}

// The disk, with nothing of ours in the way: write(2) of `chunk` bytes at a
// time to one file, with an fdatasync after each chunk when `sync`.
void RawWrite(benchmark::State& state, bool sync) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  std::filesystem::create_directories(BenchDir());
  std::string path = BenchDir() + "/raw.bin";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  std::string buf(chunk, 'x');
  size_t written = 0;
  for (auto _ : state) {
    if (write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) {
      state.SkipWithError("write failed");
      break;
    }
    if (sync) fdatasync(fd);
    written += chunk;
    if (written > (512u << 20)) {  // keep the file bounded
      state.PauseTiming();
      if (ftruncate(fd, 0) != 0) state.SkipWithError("ftruncate failed");
      written = 0;
      state.ResumeTiming();
    }
  }
  if (!sync) fdatasync(fd);  // the data did reach the disk inside the run's bytes
  close(fd);
  std::filesystem::remove(path);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk));
}

void BM_RawWrite(benchmark::State& state) { RawWrite(state, false); }
void BM_RawWriteSync(benchmark::State& state) { RawWrite(state, true); }
BENCHMARK(BM_RawWrite)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_RawWriteSync)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20)->UseRealTime();

// One log shared by a benchmark's threads.
std::unique_ptr<ClickLog> g_log;
uint64_t g_written_before = 0, g_dropped_before = 0;
std::atomic<uint64_t> g_appended{0};

uint64_t Written() { return GlobalMetrics().log_records.Value() - g_written_before; }

void OpenLog(const benchmark::State& state) {
  std::filesystem::remove_all(BenchDir() + "/log");
  Options opt;
  opt.dir = BenchDir() + "/log";
  opt.durability = static_cast<Durability>(state.range(0));
  std::vector<std::string> notes;
  Status s = ClickLog::Open(opt, &g_log, &notes);
  if (!s.ok()) std::abort();
  g_written_before = GlobalMetrics().log_records.Value();
  g_dropped_before = GlobalMetrics().clicks_dropped.Value();
  g_appended = 0;
}

void CloseLog(const benchmark::State&) {
  g_log->Close();
  g_log.reset();
  std::filesystem::remove_all(BenchDir() + "/log");
}

struct Waiter : Completion {
  std::atomic<bool> done{false};
  void Complete(Outcome) override {
    done.store(true, std::memory_order_release);
    done.notify_one();
  }
};

// Each thread appends typical clicks; in sync mode it waits for each to be
// durable, as a visitor's session does, so concurrency is what batches. In
// the other modes nobody waits, so producers are held within 64k records of
// the writer and the clock stops only once everything appended is written:
// the figure is what reached the file, not what was queued.
void BM_LogAppend(benchmark::State& state) {
  const ClickRecord proto = TypicalClick();
  Waiter w;
  uint64_t mine = 0;
  for (auto _ : state) {
    w.done.store(false, std::memory_order_relaxed);
    if (g_log->Append(proto, &w)) {
      w.done.wait(false, std::memory_order_acquire);
    } else if ((++mine & 1023) == 0) {
      uint64_t appended = g_appended.fetch_add(1024) + 1024;
      while (appended > Written() + (64 << 10))
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  g_appended.fetch_add(mine & 1023);
  while (Written() < g_appended.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
  if (GlobalMetrics().clicks_dropped.Value() != g_dropped_before) {
    state.SkipWithError("records were dropped");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * FramedSize()));
}
BENCHMARK(BM_LogAppend)
    ->ArgName("durability")
    ->Arg(static_cast<int>(Durability::kNone))
    ->Setup(OpenLog)
    ->Teardown(CloseLog)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_LogAppend)
    ->ArgName("durability")
    ->Arg(static_cast<int>(Durability::kSync))
    ->Setup(OpenLog)
    ->Teardown(CloseLog)
    ->Threads(1)
    ->Threads(8)
    ->UseRealTime();

// Durability sync as the server uses it: each thread stands for an I/O
// thread with `window` sessions waiting on their clicks at once; a session
// whose click is durable sends its next one.
// Only a completion that frees a full window wakes the thread, much as the
// server wakes an I/O thread once per batch, not once per click.
struct Window : Completion {
  std::atomic<int>* inflight;
  int window;
  void Complete(Outcome) override {
    if (inflight->fetch_sub(1, std::memory_order_release) == window) inflight->notify_one();
  }
};

void BM_LogAppendSyncWindow(benchmark::State& state) {
  const int window = static_cast<int>(state.range(1));
  const ClickRecord proto = TypicalClick();
  std::atomic<int> inflight{0};
  std::vector<Window> waiters(window);
  for (auto& w : waiters) {
    w.inflight = &inflight;
    w.window = window;
  }
  size_t next = 0;
  for (auto _ : state) {
    int n = inflight.load(std::memory_order_acquire);
    while (n >= window) {
      inflight.wait(n, std::memory_order_acquire);
      n = inflight.load(std::memory_order_acquire);
    }
    inflight.fetch_add(1, std::memory_order_relaxed);
    if (!g_log->Append(proto, &waiters[next++ % window])) inflight.fetch_sub(1);
  }
  while (inflight.load() > 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * FramedSize()));
}
BENCHMARK(BM_LogAppendSyncWindow)
    ->ArgNames({"durability", "window"})
    ->Args({static_cast<int>(Durability::kSync), 64})
    ->Args({static_cast<int>(Durability::kSync), 512})
    ->Args({static_cast<int>(Durability::kSync), 4096})
    ->Args({static_cast<int>(Durability::kSync), 32768})
    ->Setup(OpenLog)
    ->Teardown(CloseLog)
    ->Threads(2)
    ->UseRealTime();

// The disk's sequential speed: 64 MiB in 1 MiB writes, then one fdatasync.
void BM_RawSequentialToDisk(benchmark::State& state) {
  std::filesystem::create_directories(BenchDir());
  std::string path = BenchDir() + "/seq.bin", buf(1 << 20, 'x');
  for (auto _ : state) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < 64; ++i) {
      if (write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) {
        state.SkipWithError("write failed");
      }
    }
    fdatasync(fd);
    close(fd);
  }
  std::filesystem::remove(path);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (64 << 20));
}
BENCHMARK(BM_RawSequentialToDisk)->UseRealTime()->Unit(benchmark::kMillisecond);

// The log against BM_RawSequentialToDisk on equal terms: `threads`
// producers append 64 MiB of typical clicks, then Close() writes what is
// left and syncs once. Clock from the first append to the end of that sync.
void BM_LogToDisk(benchmark::State& state) {
  const auto durability = static_cast<Durability>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const ClickRecord proto = TypicalClick();
  const size_t per_thread = (size_t{64} << 20) / FramedSize() / threads;
  const uint64_t dropped_before = GlobalMetrics().clicks_dropped.Value();
  double close_s = 0;  // of the time: in Close, draining and syncing
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(BenchDir() + "/log");
    std::unique_ptr<ClickLog> log;
    std::vector<std::string> notes;
    if (!ClickLog::Open({.dir = BenchDir() + "/log", .durability = durability}, &log, &notes)
             .ok()) {
      state.SkipWithError("cannot open the log");
      break;
    }
    state.ResumeTiming();
    std::vector<std::thread> producers;
    for (int t = 0; t < threads; ++t) {
      producers.emplace_back([&] {
        for (size_t i = 0; i < per_thread; ++i) log->Append(proto, nullptr);
      });
    }
    for (auto& p : producers) p.join();
    auto appended = std::chrono::steady_clock::now();
    log->Close();
    close_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - appended).count();
  }
  std::filesystem::remove_all(BenchDir() + "/log");
  if (GlobalMetrics().clicks_dropped.Value() != dropped_before) {
    state.SkipWithError("records were dropped");
  }
  const auto records = static_cast<int64_t>(state.iterations() * per_thread * threads);
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * static_cast<int64_t>(FramedSize()));
  state.counters["close_ms"] = 1000 * close_s / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LogToDisk)
    ->ArgNames({"durability", "producers"})
    ->Args({static_cast<int>(Durability::kNone), 1})
    ->Args({static_cast<int>(Durability::kNone), 2})
    ->Args({static_cast<int>(Durability::kInterval), 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The writer's own cost: encode and frame, no I/O.
void BM_EncodeClick(benchmark::State& state) {
  const ClickRecord c = TypicalClick();
  std::string payload, framed;
  for (auto _ : state) {
    framed.clear();
    EncodeClick(c, &payload);
    AppendRecord(&framed, kClick, 1, payload);
    benchmark::DoNotOptimize(framed.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * framed.size()));
}
BENCHMARK(BM_EncodeClick);

}  // namespace
}  // namespace refgate::clicklog
