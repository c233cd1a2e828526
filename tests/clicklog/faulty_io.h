// FaultyIo: real file I/O with hooks that fail, stall or hold a call, for
// the tests of the click log's writer and its background syncer; and
// WaitUntil, which those tests synchronise on instead of sleeping.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "util/file_io.h"

namespace refgate::clicklog {

using namespace std::chrono_literals;

// Polls `cond` until it holds or `limit` passes (a bound for a broken
// build, never a time the test depends on). Returns whether it held.
inline bool WaitUntil(const std::function<bool()>& cond, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Real I/O, with hooks that can fail, stall or hold a call.
struct FaultyIo : FileIo {
  std::atomic<int> fail_writes{0};  // next n writes fail with ENOSPC
  std::atomic<int> fail_syncs{0};   // next n syncs fail with EIO
  std::atomic<int> stall_ms{0};     // every sync sleeps this long first (makes syncs slow)
  std::atomic<int> syncs{0};        // syncs begun (counted before the gate and the stall)
  std::atomic<int> last_synced_fd{-1};
  std::atomic<int> sync_errno{EIO};  // what a failed sync returns
  std::atomic<int> writes{0};
  std::atomic<int> failed_fd{-1};
  std::atomic<int> syncs_of_failed_fd{0};  // syncs of that fd after it failed
  std::mutex mu;
  std::vector<std::pair<uint64_t, uint64_t>> writebacks;  // offset, bytes; guarded by mu

  // While held, every sync waits at the gate once it has counted itself:
  // a test knows the writer is inside fdatasync, and for how long, without
  // sleeping. Release() before the log closes (GateGuard).
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool held = false;  // guarded by gate_mu
  void Hold() {
    std::lock_guard lock(gate_mu);
    held = true;
  }
  void Release() {
    {
      std::lock_guard lock(gate_mu);
      held = false;
    }
    gate_cv.notify_all();
  }
  // Waits until `n` syncs have begun.
  bool WaitForSyncs(int n) {
    return WaitUntil([&] { return syncs.load() >= n; });
  }

  int Write(int fd, const char* p, size_t n, uint64_t offset) override {
    ++writes;
    if (fail_writes > 0) {
      --fail_writes;
      (void)FileIo::Write(fd, p, n / 2, offset);  // a partial write lands first
      return ENOSPC;
    }
    return FileIo::Write(fd, p, n, offset);
  }
  int Sync(int fd) override {
    const int stall = stall_ms.load();  // read first: a test may change it once it sees the sync
    if (fd == failed_fd) ++syncs_of_failed_fd;
    last_synced_fd = fd;
    ++syncs;
    {
      std::unique_lock lock(gate_mu);
      gate_cv.wait(lock, [&] { return !held; });
    }
    if (stall > 0) std::this_thread::sleep_for(std::chrono::milliseconds(stall));
    if (fail_syncs > 0) {
      --fail_syncs;
      failed_fd = fd;
      return sync_errno.load();
    }
    return FileIo::Sync(fd);
  }
  int StartWriteback(int fd, uint64_t offset, uint64_t n) override {
    std::lock_guard lock(mu);
    writebacks.push_back({offset, n});
    return FileIo::StartWriteback(fd, offset, n);
  }
  void Close(int fd) override {
    if (fd == failed_fd) failed_fd = -1;  // its number may be reused from here on
    FileIo::Close(fd);
  }
};

// Releases the gate when a test leaves, before its log closes (declare it
// after the log), whether the test passed or not.
struct GateGuard {
  FaultyIo& io;
  ~GateGuard() { io.Release(); }
};

}  // namespace refgate::clicklog
