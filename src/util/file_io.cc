#include "util/file_io.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace refgate {

int FileIo::Create(const std::string& path, int* fd) {
  *fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  return *fd < 0 ? errno : 0;
}

int FileIo::Write(int fd, const char* data, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t w = pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return 0;
}

int FileIo::Sync(int fd) { return fdatasync(fd) == 0 ? 0 : errno; }

int FileIo::StartWriteback(int fd, uint64_t offset, uint64_t n) {
  return sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(n),
                         SYNC_FILE_RANGE_WRITE) == 0
             ? 0
             : errno;
}

int FileIo::Truncate(int fd, size_t size) {
  return ftruncate(fd, static_cast<off_t>(size)) == 0 ? 0 : errno;
}

int FileIo::SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = fsync(fd) == 0 ? 0 : errno;
  close(fd);
  return rc;
}

void FileIo::Close(int fd) { close(fd); }

FileIo* DefaultFileIo() {
  static FileIo io;
  return &io;
}

Status WriteFileAtomic(FileIo* io, const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IOError(tmp + ": " + std::strerror(errno));
  const char* what = "write";
  int err = io->Write(fd, content.data(), content.size(), 0);
  if (err == 0) {
    what = "fdatasync";
    err = io->Sync(fd);
  }
  io->Close(fd);
  if (err == 0 && rename(tmp.c_str(), path.c_str()) != 0) {
    what = "rename";
    err = errno;
  }
  if (err != 0) {
    unlink(tmp.c_str());
    return Status::IOError(path + ": " + what + ": " + std::strerror(err));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  err = io->SyncDir(dir);
  return err == 0 ? Status::OK() : Status::IOError(dir + ": fsync: " + std::strerror(err));
}

Status FileLock::Acquire(const std::string& path) {
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return Status::IOError(path + ": " + std::strerror(errno));
  while (flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return Status::IOError(path + ": flock: " + std::strerror(errno));
  }
  return Status::OK();
}

FileLock::~FileLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock
}

}  // namespace refgate
