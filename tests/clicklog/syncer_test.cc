// BackgroundSyncer: a sync started on its thread, collected by the writer,
// with the disk held or failed through FileIo. No sleeps: the gate below
// says when a sync is inside fdatasync and lets it go.
#include "clicklog/syncer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/clicklog/log_test_util.h"

namespace refgate::clicklog {
namespace {

// Counts syncs and their fds; while held, a sync waits at the gate; `fail`
// makes syncs return that errno instead of syncing.
struct GatedIo : FileIo {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
  int fail = 0;
  std::vector<int> fds;

  int Sync(int fd) override {
    std::unique_lock lock(mu);
    fds.push_back(fd);
    cv.notify_all();
    cv.wait(lock, [&] { return !held; });
    if (fail != 0) return fail;
    lock.unlock();
    return FileIo::Sync(fd);
  }
  void Hold() {
    std::lock_guard lock(mu);
    held = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu);
      held = false;
    }
    cv.notify_all();
  }
  void WaitForSyncs(size_t n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return fds.size() >= n; });
  }
  std::vector<int> Fds() {
    std::lock_guard lock(mu);
    return fds;
  }
  size_t Syncs() { return Fds().size(); }
};

// Lets a held sync go when a test leaves, before the syncer joins its thread
// (declare it after the syncer).
struct ReleaseOnExit {
  GatedIo& io;
  ~ReleaseOnExit() { io.Release(); }
};

// A real file to sync.
class SyncTarget {
 public:
  SyncTarget() : fd_(open((dir_.path() + "/seg").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(write(fd_, "record", 6), 6);
  }
  ~SyncTarget() { close(fd_); }
  int fd() const { return fd_; }

 private:
  ScratchDir dir_;
  int fd_;
};

TEST(BackgroundSyncer, CollectWaitsForTheSyncAndReturnsItsErrnoAndDuration) {
  SyncTarget file;
  GatedIo io;
  BackgroundSyncer syncer(&io);
  syncer.Start(file.fd());
  int err = -1;
  int64_t took_ns = -1;
  ASSERT_TRUE(syncer.Collect(/*wait=*/true, &err, &took_ns));
  EXPECT_EQ(err, 0);
  EXPECT_GE(took_ns, 0);
  EXPECT_EQ(io.Fds(), std::vector<int>{file.fd()});
}

TEST(BackgroundSyncer, CollectWithoutWaitIsFalseWhileTheSyncRuns) {
  SyncTarget file;
  GatedIo io;
  BackgroundSyncer syncer(&io);
  ReleaseOnExit release{io};
  io.Hold();
  syncer.Start(file.fd());
  io.WaitForSyncs(1);  // inside Sync, held at the gate
  int err = -1;
  int64_t took_ns = -1;
  EXPECT_FALSE(syncer.Collect(/*wait=*/false, &err, &took_ns));
  EXPECT_EQ(err, -1);  // nothing reported yet
  EXPECT_EQ(took_ns, -1);
  io.Release();
  ASSERT_TRUE(syncer.Collect(/*wait=*/true, &err, &took_ns));
  EXPECT_EQ(err, 0);
  EXPECT_GE(took_ns, 0);
}

TEST(BackgroundSyncer, CollectWithoutWaitIsTrueOnceTheSyncIsDone) {
  SyncTarget file;
  GatedIo io;
  BackgroundSyncer syncer(&io);
  syncer.Start(file.fd());
  int err = -1;
  int64_t took_ns = -1;
  while (!syncer.Collect(/*wait=*/false, &err, &took_ns)) std::this_thread::yield();
  EXPECT_EQ(err, 0);
  EXPECT_EQ(io.Syncs(), 1u);
}

TEST(BackgroundSyncer, InjectedEioComesBackFromCollect) {
  SyncTarget file;
  GatedIo io;
  io.fail = EIO;
  BackgroundSyncer syncer(&io);
  syncer.Start(file.fd());
  int err = 0;
  int64_t took_ns = -1;
  ASSERT_TRUE(syncer.Collect(/*wait=*/true, &err, &took_ns));
  EXPECT_EQ(err, EIO);
}

TEST(BackgroundSyncer, EachCollectReportsItsOwnSyncNotTheOneBefore) {
  SyncTarget file;
  GatedIo io;
  BackgroundSyncer syncer(&io);
  int err = -1;
  int64_t took_ns = -1;
  for (int fail : {EIO, 0, ENOSPC}) {
    {
      std::lock_guard lock(io.mu);
      io.fail = fail;
    }
    syncer.Start(file.fd());
    ASSERT_TRUE(syncer.Collect(/*wait=*/true, &err, &took_ns));
    EXPECT_EQ(err, fail);
  }
  EXPECT_EQ(io.Syncs(), 3u);
}

TEST(BackgroundSyncer, DestroyingItFinishesTheSyncInHand) {
  SyncTarget file;
  GatedIo io;
  auto syncer = std::make_unique<BackgroundSyncer>(&io);
  syncer->Start(file.fd());
  syncer.reset();  // never collected: still synced before the thread ends
  EXPECT_EQ(io.Syncs(), 1u);
}

TEST(BackgroundSyncer, DestroyingAnIdleSyncerSyncsNothing) {
  GatedIo io;
  std::make_unique<BackgroundSyncer>(&io).reset();
  EXPECT_EQ(io.Syncs(), 0u);
}

}  // namespace
}  // namespace refgate::clicklog
