#include "rollup/segments.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "clicklog/reader.h"
#include "util/huge_pages.h"

namespace refgate::rollup {

Status DurableSegment::Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
  struct stat st;
  bool ok = fdatasync(fd) == 0 && fstat(fd, &st) == 0;
  const size_t want = ok ? static_cast<size_t>(st.st_size) : 0;
  if (ok && want > capacity_) {  // else the last segment's buffer, its pages in place
    if (mem_) munmap(mem_, capacity_);
    capacity_ = HugeRounded(want);
    mem_ = static_cast<char*>(TryMapHuge(capacity_));
    ok = mem_ != nullptr;
    if (!ok) capacity_ = 0;
  }
  size_ = 0;
  while (ok && size_ < want) {
    ssize_t n = read(fd, mem_ + size_, want - size_);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;  // 0: cut shorter meanwhile
      break;
    }
    size_ += static_cast<size_t>(n);
  }
  close(fd);
  if (!ok) return Status::IOError(path + ": cannot sync and read: " + std::strerror(errno));
  return Status::OK();
}

DurableSegment::~DurableSegment() {
  if (mem_) munmap(mem_, capacity_);
}

void ClickFeed::Read(std::string_view data, const std::string& name, bool newest) {
  clicklog::SegmentParser parser(data, name, nullptr, newest);
  clicklog::Record rec;
  while (!stop_ && read_ < max_records_ && parser.Next(&rec)) {
    if (rec.seq <= last_seq_) continue;
    dispatch_.Dispatch(rec, this);
    if (stop_) return;  // stops before this record, as the main loop does
    last_seq_ = rec.seq;
    ++read_;
  }
}

}  // namespace refgate::rollup
