// The progress lines of `refgate compact` on a terminal (stderr): records
// read and their rate while a run reads, then each phase's time with the
// memory the process holds after it.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace refgate::rollup {

// Records done, their rate and the MiB read, at most twice a second.
class Progress {
 public:
  Progress(bool on, uint64_t total_bytes) : on_(on), total_(total_bytes) {}
  void Update(uint64_t records, uint64_t bytes_done, bool force = false) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\rcompact: %llu records, %.0f/s, %.1f MiB of %.1f MiB read   ",
                 static_cast<unsigned long long>(records), secs > 0 ? records / secs : 0.0,
                 bytes_done / 1048576.0, total_ / 1048576.0);
    if (force) std::fputc('\n', stderr);
  }

 private:
  bool on_;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_;
};

// A size line of /proc/self/status ("VmRSS:", "VmHWM:"), in MiB; 0 when
// unreadable.
size_t StatusMiB(std::string_view field);

// With progress on, how long each phase of a run took and the memory
// held after it, on stderr.
class PhaseClock {
 public:
  explicit PhaseClock(bool on) : on_(on) {}
  void Lap(const char* phase) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    std::fprintf(stderr, "compact: %s %.2fs (rss %zu MiB, peak %zu MiB)\n", phase,
                 std::chrono::duration<double>(now - last_).count(), StatusMiB("VmRSS:"),
                 StatusMiB("VmHWM:"));
    last_ = now;
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace refgate::rollup
