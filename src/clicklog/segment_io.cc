#include "clicklog/segment_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace refgate::clicklog {

int SegmentIo::Create(const std::string& path, int* fd) {
  *fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  return *fd < 0 ? errno : 0;
}

int SegmentIo::Write(int fd, const char* data, size_t n, uint64_t offset) {
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

int SegmentIo::Sync(int fd) { return fdatasync(fd) == 0 ? 0 : errno; }

int SegmentIo::StartWriteback(int fd, uint64_t offset, uint64_t n) {
  return sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(n),
                         SYNC_FILE_RANGE_WRITE) == 0
             ? 0
             : errno;
}

int SegmentIo::Truncate(int fd, size_t size) {
  return ftruncate(fd, static_cast<off_t>(size)) == 0 ? 0 : errno;
}

int SegmentIo::SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = fsync(fd) == 0 ? 0 : errno;
  close(fd);
  return rc;
}

void SegmentIo::Close(int fd) { close(fd); }

SegmentIo* DefaultSegmentIo() {
  static SegmentIo io;
  return &io;
}

}  // namespace refgate::clicklog
