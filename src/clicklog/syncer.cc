#include "clicklog/syncer.h"

#include <pthread.h>

#include "util/time.h"

namespace refgate::clicklog {

BackgroundSyncer::BackgroundSyncer(FileIo* io) : io_(io) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "clicklog-sync");  // for top -H and perf
    Loop();
  });
}

BackgroundSyncer::~BackgroundSyncer() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void BackgroundSyncer::Start(int fd) {
  {
    MutexLock lock(&mu_);
    fd_ = fd;
    done_ = false;
  }
  cv_.SignalAll();
}

bool BackgroundSyncer::Collect(bool wait, int* err, int64_t* took_ns) {
  MutexLock lock(&mu_);
  if (!done_ && !wait) return false;
  while (!done_) cv_.Wait(&mu_);
  fd_ = -1;
  *err = err_;
  *took_ns = took_ns_;
  return true;
}

void BackgroundSyncer::Loop() {
  MutexLock lock(&mu_);
  for (;;) {
    while (!stop_ && !(fd_ >= 0 && !done_)) cv_.Wait(&mu_);
    if (fd_ < 0 || done_) return;  // stopping, and nothing asked for
    const int fd = fd_;
    mu_.Unlock();
    const int64_t start = SteadyNanos();
    const int err = io_->Sync(fd);
    const int64_t took_ns = SteadyNanos() - start;
    mu_.Lock();
    err_ = err;
    took_ns_ = took_ns;
    done_ = true;
    cv_.SignalAll();
  }
}

}  // namespace refgate::clicklog
