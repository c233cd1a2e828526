// SegmentIo: the system calls the click log writer makes, behind an
// interface so tests can inject stalls and failures (ENOSPC, EIO).
#pragma once

#include <cstdint>
#include <string>

namespace refgate::clicklog {

class SegmentIo {
 public:
  virtual ~SegmentIo() = default;
  // Each returns 0 or an errno value.
  virtual int Create(const std::string& path, int* fd);  // O_CREAT|O_EXCL
  // All n bytes at `offset`, or an error.
  virtual int Write(int fd, const char* data, size_t n, uint64_t offset);
  virtual int Sync(int fd);  // fdatasync
  // Starts writing n bytes at `offset` back to the disk and returns without
  // waiting (sync_file_range): a hint, no promise of durability.
  virtual int StartWriteback(int fd, uint64_t offset, uint64_t n);
  virtual int Truncate(int fd, size_t size);
  virtual int SyncDir(const std::string& dir);
  virtual void Close(int fd);
};

// The real thing.
SegmentIo* DefaultSegmentIo();

}  // namespace refgate::clicklog
