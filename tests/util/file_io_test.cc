// FileIo's calls on real files, and WriteFileAtomic: the new file or the
// old one, never part of one, with failures injected through FileIo.
#include "util/file_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/util/scratch_dir.h"

namespace refgate {
namespace {

class FileIoTest : public testing::Test {
 protected:
  ScratchDir dir_;

  std::string Path(std::string_view name) const { return dir_.path() + "/" + std::string(name); }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

// Fails the chosen call with `err`, after writing half the bytes for Write.
struct FailingIo : FileIo {
  enum class Call { kWrite, kSync, kSyncDir } fail;
  int err;
  int syncs = 0;
  FailingIo(Call c, int e) : fail(c), err(e) {}
  int Write(int fd, const char* data, size_t n, uint64_t offset) override {
    if (fail != Call::kWrite) return FileIo::Write(fd, data, n, offset);
    if (FileIo::Write(fd, data, n / 2, offset) != 0) return EIO;
    return err;
  }
  int Sync(int fd) override {
    ++syncs;
    return fail == Call::kSync ? err : FileIo::Sync(fd);
  }
  int SyncDir(const std::string& dir) override {
    return fail == Call::kSyncDir ? err : FileIo::SyncDir(dir);
  }
};

TEST_F(FileIoTest, CreateRefusesAnExistingFile) {
  FileIo* io = DefaultFileIo();
  int fd = -1;
  ASSERT_EQ(io->Create(Path("a"), &fd), 0);
  ASSERT_GE(fd, 0);
  io->Close(fd);
  EXPECT_EQ(io->Create(Path("a"), &fd), EEXIST);
  EXPECT_EQ(io->Create(Path("missing/a"), &fd), ENOENT);
}

TEST_F(FileIoTest, WritesLandAtTheirOffsetsAndTruncateCuts) {
  FileIo* io = DefaultFileIo();
  int fd = -1;
  ASSERT_EQ(io->Create(Path("f"), &fd), 0);
  ASSERT_EQ(io->Write(fd, "hello", 5, 0), 0);
  ASSERT_EQ(io->Write(fd, "XY", 2, 8), 0);
  ASSERT_EQ(io->StartWriteback(fd, 0, 10), 0);
  ASSERT_EQ(io->Sync(fd), 0);
  EXPECT_EQ(Read(Path("f")), std::string("hello\0\0\0XY", 10));
  ASSERT_EQ(io->Truncate(fd, 4), 0);
  EXPECT_EQ(Read(Path("f")), "hell");
  io->Close(fd);
}

TEST_F(FileIoTest, ErrorsAreReturnedAsErrno) {
  FileIo* io = DefaultFileIo();
  std::ofstream(Path("ro")) << "x";
  int fd = open(Path("ro").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(io->Write(fd, "y", 1, 0), EBADF);
  io->Close(fd);
  EXPECT_EQ(io->Sync(-1), EBADF);
  EXPECT_EQ(io->SyncDir(Path("no-such-dir")), ENOENT);
  EXPECT_EQ(io->SyncDir(dir_.path()), 0);
}

TEST_F(FileIoTest, WriteFileAtomicCreatesAndReplaces) {
  ASSERT_TRUE(WriteFileAtomic(DefaultFileIo(), Path("m.json"), "first").ok());
  EXPECT_EQ(Read(Path("m.json")), "first");
  ASSERT_TRUE(WriteFileAtomic(DefaultFileIo(), Path("m.json"), "2nd").ok());
  EXPECT_EQ(Read(Path("m.json")), "2nd");
  EXPECT_FALSE(std::filesystem::exists(Path("m.json.tmp")));
}

TEST_F(FileIoTest, StaleTempFileFromACrashIsOverwrittenNotAppendedTo) {
  std::ofstream(Path("m.json.tmp")) << "garbage left by a crash, longer than the content";
  ASSERT_TRUE(WriteFileAtomic(DefaultFileIo(), Path("m.json"), "new").ok());
  EXPECT_EQ(Read(Path("m.json")), "new");
  EXPECT_FALSE(std::filesystem::exists(Path("m.json.tmp")));
}

TEST_F(FileIoTest, FailedWriteRemovesTheTempFileAndKeepsTheOldFile) {
  ASSERT_TRUE(WriteFileAtomic(DefaultFileIo(), Path("m.json"), "old content").ok());
  FailingIo io(FailingIo::Call::kWrite, ENOSPC);
  Status s = WriteFileAtomic(&io, Path("m.json"), "new content that does not fit");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find(std::strerror(ENOSPC)), std::string::npos) << s.ToString();
  EXPECT_EQ(Read(Path("m.json")), "old content");
  EXPECT_FALSE(std::filesystem::exists(Path("m.json.tmp")));
}

TEST_F(FileIoTest, FailedSyncIsNotRetriedAndKeepsTheOldFile) {
  ASSERT_TRUE(WriteFileAtomic(DefaultFileIo(), Path("m.json"), "old content").ok());
  FailingIo io(FailingIo::Call::kSync, EIO);
  EXPECT_TRUE(WriteFileAtomic(&io, Path("m.json"), "new content").IsIOError());
  EXPECT_EQ(io.syncs, 1);
  EXPECT_EQ(Read(Path("m.json")), "old content");
  EXPECT_FALSE(std::filesystem::exists(Path("m.json.tmp")));
}

TEST_F(FileIoTest, FailedDirectorySyncIsReported) {
  FailingIo io(FailingIo::Call::kSyncDir, EIO);
  EXPECT_TRUE(WriteFileAtomic(&io, Path("m.json"), "content").IsIOError());
  EXPECT_FALSE(std::filesystem::exists(Path("m.json.tmp")));
}

TEST_F(FileIoTest, MissingDirectoryIsAnErrorThatCreatesNothing) {
  EXPECT_TRUE(WriteFileAtomic(DefaultFileIo(), Path("nodir/m.json"), "x").IsIOError());
  EXPECT_FALSE(std::filesystem::exists(Path("nodir")));
}

}  // namespace
}  // namespace refgate
