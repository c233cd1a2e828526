#include "clicklog/segment_file.h"

#include <unistd.h>

#include <algorithm>

#include "clicklog/format.h"

namespace refgate::clicklog {

int SegmentFile::Create(uint64_t first_seq) {
  path_ = dir_ + "/" + SegmentName(first_seq);
  int err = io_->Create(path_, &fd_);
  if (err == 0) err = io_->SyncDir(dir_);
  if (err != 0) {
    if (fd_ >= 0) io_->Close(fd_);
    fd_ = -1;
    return err;
  }
  size_ = 0;
  zeroed_ = 0;
  written_back_ = 0;
  return 0;
}

int SegmentFile::Write(uint64_t offset, const char* data, size_t n) {
  return io_->Write(fd_, data, n, offset);
}

int SegmentFile::ExtendZeros(uint64_t end) {
  static const std::string kZeros(1 << 20, '\0');
  while (zeroed_ < end) {
    if (int err = io_->Write(fd_, kZeros.data(), kZeros.size(), zeroed_); err != 0) return err;
    zeroed_ += kZeros.size();
  }
  return 0;
}

void SegmentFile::Appended(uint64_t bytes) {
  size_ += bytes;
  zeroed_ = std::max(zeroed_, size_);
}

void SegmentFile::StartWritebackEvery(uint64_t every) {
  if (size_ - written_back_ < every) return;
  (void)io_->StartWriteback(fd_, written_back_, size_ - written_back_);  // a hint
  written_back_ = size_;
}

bool SegmentFile::Abandon() {
  const bool cut = io_->Truncate(fd_, size_) == 0;
  CloseFile();
  if (cut && size_ == 0) unlink(path_.c_str());
  return cut;
}

int SegmentFile::Seal(bool unsynced) {
  const bool cut = zeroed_ > size_;
  int err = cut ? io_->Truncate(fd_, size_) : 0;
  if (err == 0 && (cut || unsynced)) err = io_->Sync(fd_);
  CloseFile();
  return err;
}

void SegmentFile::CloseFile() {
  io_->Close(fd_);
  fd_ = -1;
}

}  // namespace refgate::clicklog
