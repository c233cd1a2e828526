// FileIo: the file system calls that refgate's durable files are made with
// (click log segments, published rollups), behind one interface so tests
// can inject stalls and failures (ENOSPC, EIO).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "refgate/status.h"

namespace refgate {

class FileIo {
 public:
  virtual ~FileIo() = default;
  // Each returns 0 or an errno value.
  [[nodiscard]] virtual int Create(const std::string& path, int* fd);  // O_CREAT|O_EXCL
  // All n bytes at `offset`, or an error.
  [[nodiscard]] virtual int Write(int fd, const char* data, size_t n, uint64_t offset);
  [[nodiscard]] virtual int Sync(int fd);  // fdatasync
  // Starts writing n bytes at `offset` back to the disk and returns without
  // waiting (sync_file_range): a hint, no promise of durability.
  [[nodiscard]] virtual int StartWriteback(int fd, uint64_t offset, uint64_t n);
  [[nodiscard]] virtual int Truncate(int fd, size_t size);
  [[nodiscard]] virtual int SyncDir(const std::string& dir);
  virtual void Close(int fd);
};

// The real thing.
FileIo* DefaultFileIo();

// Publishes `content` at `path`: written to path + ".tmp", fdatasynced,
// renamed over `path`, and the directory synced. A reader sees the old
// file or the new one, never part of one. A failed write, sync or rename
// removes the temporary file and leaves `path` as it was; a failed sync of
// the directory comes after the rename, so `path` is the new file then, not
// yet durable. A failed sync is never retried (its
// pages may be lost): the caller writes the whole file again. A new file
// gets `mode`.
[[nodiscard]] Status WriteFileAtomic(FileIo* io, const std::string& path, std::string_view content,
                                     mode_t mode = 0644);

// Holds an exclusive flock(2) on a file for its lifetime.
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();
  // Creates `path` if it is missing, then waits for the lock.
  [[nodiscard]] Status Acquire(const std::string& path);

 private:
  int fd_ = -1;
};

}  // namespace refgate
