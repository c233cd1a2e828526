// SegmentFile: the one segment the click log writer appends to, the
// counterpart of LevelDB's log::Writer. It knows the file: creating it,
// records written at its end, zeros written ahead of them, write-back,
// cutting it back after a failure, sealing it. What is synced, and so
// durable, is the writer's to track (ClickLog).
//
// Zero-ahead: ExtendZeros grows the file with zeros ahead of the records,
// which later overwrite them in place, so that an fdatasync has no file
// size to journal. Seal cuts the unused zeros off, so only the newest
// segment ever ends in zeros, and readers take that as its end.
//
// Thread-compatible: the writer thread only.
#pragma once

#include <cstdint>
#include <string>

#include "util/file_io.h"

namespace refgate::clicklog {

class SegmentFile {
 public:
  SegmentFile(std::string dir, FileIo* io) : dir_(std::move(dir)), io_(io) {}
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }  // bytes of records written and kept

  // Creates <dir>/SegmentName(first_seq) and syncs the directory.
  // Returns 0 or an errno. REQUIRES: !is_open().
  [[nodiscard]] int Create(uint64_t first_seq);
  // Writes n bytes at `offset` (size() for the next records). The records
  // count only once Appended says so. Returns 0 or an errno.
  [[nodiscard]] int Write(uint64_t offset, const char* data, size_t n);
  // Writes zeros ahead of the records until the file has `end` bytes.
  [[nodiscard]] int ExtendZeros(uint64_t end);
  // `bytes` more of records were written after size().
  void Appended(uint64_t bytes);
  // Starts write-back (sync_file_range) once `every` bytes were written
  // since the last start: the next sync then finds little left to write.
  void StartWritebackEvery(uint64_t every);
  [[nodiscard]] int Sync() { return io_->Sync(fd_); }
  // After a failure: cuts the file back to size() (the zeros ahead go too),
  // closes it, and removes it if it holds no record. Returns whether the
  // cut worked (if not, bytes past size() may remain).
  [[nodiscard]] bool Abandon();
  // Cuts the zeros ahead, syncs if that cut anything or `unsynced`, closes.
  // Returns 0 or the errno of the cut or the sync (closed all the same).
  [[nodiscard]] int Seal(bool unsynced);

 private:
  void CloseFile();

  const std::string dir_;
  FileIo* const io_;
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;          // bytes of records
  uint64_t zeroed_ = 0;        // bytes the file has: records, then zeros
  uint64_t written_back_ = 0;  // bytes StartWriteback was asked for
};

}  // namespace refgate::clicklog
