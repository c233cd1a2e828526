// BackgroundSyncer: a sync started on its thread, collected by the writer,
// with the disk held or failed through FaultyIo. No sleeps: its gate
// says when a sync is inside fdatasync and lets it go.
#include "clicklog/syncer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <thread>

#include "tests/clicklog/faulty_io.h"
#include "tests/clicklog/log_test_util.h"

namespace refgate::clicklog {
namespace {

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
  FaultyIo io;
  BackgroundSyncer syncer(&io);
  syncer.Start(file.fd());
  int err = -1;
  int64_t took_ns = -1;
  ASSERT_TRUE(syncer.Collect(/*wait=*/true, &err, &took_ns));
  EXPECT_EQ(err, 0);
  EXPECT_GE(took_ns, 0);
  EXPECT_EQ(io.syncs.load(), 1);
  EXPECT_EQ(io.last_synced_fd.load(), file.fd());
}

TEST(BackgroundSyncer, CollectWithoutWaitIsFalseWhileTheSyncRuns) {
  SyncTarget file;
  FaultyIo io;
  BackgroundSyncer syncer(&io);
  GateGuard guard{io};
  io.Hold();
  syncer.Start(file.fd());
  ASSERT_TRUE(io.WaitForSyncs(1));  // inside Sync, held at the gate
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
  FaultyIo io;
  BackgroundSyncer syncer(&io);
  syncer.Start(file.fd());
  int err = -1;
  int64_t took_ns = -1;
  while (!syncer.Collect(/*wait=*/false, &err, &took_ns)) std::this_thread::yield();
  EXPECT_EQ(err, 0);
  EXPECT_EQ(io.syncs.load(), 1);
}

TEST(BackgroundSyncer, InjectedEioComesBackFromCollect) {
  SyncTarget file;
  FaultyIo io;
  io.fail_syncs = 1;  // with EIO
  BackgroundSyncer syncer(&io);
  syncer.Start(file.fd());
  int err = 0;
  int64_t took_ns = -1;
  ASSERT_TRUE(syncer.Collect(/*wait=*/true, &err, &took_ns));
  EXPECT_EQ(err, EIO);
}

TEST(BackgroundSyncer, EachCollectReportsItsOwnSyncNotTheOneBefore) {
  SyncTarget file;
  FaultyIo io;
  BackgroundSyncer syncer(&io);
  int err = -1;
  int64_t took_ns = -1;
  for (int fail : {EIO, 0, ENOSPC}) {
    io.sync_errno = fail;
    io.fail_syncs = fail != 0 ? 1 : 0;
    syncer.Start(file.fd());
    ASSERT_TRUE(syncer.Collect(/*wait=*/true, &err, &took_ns));
    EXPECT_EQ(err, fail);
  }
  EXPECT_EQ(io.syncs.load(), 3);
}

TEST(BackgroundSyncer, DestroyingItFinishesTheSyncInHand) {
  SyncTarget file;
  FaultyIo io;
  auto syncer = std::make_unique<BackgroundSyncer>(&io);
  syncer->Start(file.fd());
  syncer.reset();  // never collected: still synced before the thread ends
  EXPECT_EQ(io.syncs.load(), 1);
}

TEST(BackgroundSyncer, DestroyingAnIdleSyncerSyncsNothing) {
  FaultyIo io;
  std::make_unique<BackgroundSyncer>(&io).reset();
  EXPECT_EQ(io.syncs.load(), 0);
}

}  // namespace
}  // namespace refgate::clicklog
