#include "clicklog/reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "util/coding.h"

namespace refgate::clicklog {

std::string_view SegmentParser::Check(size_t pos, Record* rec) const {
  if (data_.size() - pos < kHeaderSize) return "truncated header";
  const char* h = data_.data() + pos;
  uint32_t length = DecodeFixed32(h + 8);
  if (length > kMaxPayload) return "bad length";
  if (data_.size() - pos - kHeaderSize < length) return "truncated record";
  std::string_view covered(h + 8, kHeaderSize - 8 + length);
  if (DecodeFixed64(h) != Checksum(covered)) return "checksum mismatch";
  uint64_t seq = DecodeFixed64(h + 13);
  if (seq <= last_seq_) return "sequence number out of order";
  rec->type = static_cast<RecordType>(static_cast<uint8_t>(h[12]));
  rec->seq = seq;
  rec->payload = std::string_view(h + kHeaderSize, length);
  rec->offset = pos;
  return {};
}

bool SegmentParser::Next(Record* rec) {
  while (pos_ < data_.size()) {
    std::string_view why = Check(pos_, rec);
    if (why.empty()) {
      pos_ += kHeaderSize + rec->payload.size();
      valid_end_ = pos_;
      last_seq_ = rec->seq;
      return true;
    }
    if (zeros_end_ && data_.find_first_not_of('\0', pos_) == std::string_view::npos) {
      pos_ = data_.size();  // the zeros the writer laid ahead of itself
      return false;
    }
    // Resynchronise: the next offset where a record checks out.
    size_t start = pos_;
    Record probe;
    do {
      ++pos_;
    } while (pos_ < data_.size() && !Check(pos_, &probe).empty());
    if (reporter_) {
      reporter_->Corruption({name_, start, pos_ - start, std::string(why), pos_ == data_.size()});
    }
  }
  return false;
}

Status ReadFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return Status::IOError(path + ": " + std::strerror(errno));
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return Status::IOError(path + ": " + std::strerror(errno));
    }
    if (n == 0) break;  // shrank meanwhile
    done += static_cast<size_t>(n);
  }
  out->resize(done);
  close(fd);
  return Status::OK();
}

Status ListSegments(const std::string& dir, std::vector<std::pair<uint64_t, std::string>>* out) {
  out->clear();
  DIR* d = opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return Status::OK();
    return Status::IOError(dir + ": " + std::strerror(errno));
  }
  while (struct dirent* e = readdir(d)) {
    uint64_t seq;
    if (ParseSegmentName(e->d_name, &seq)) out->emplace_back(seq, e->d_name);
  }
  closedir(d);
  std::sort(out->begin(), out->end());
  return Status::OK();
}

Status LogReader::Open(uint64_t from_seq) {
  from_seq_ = from_seq;
  status_ = ListSegments(dir_, &segments_);
  next_segment_ = 0;
  // Start at the last segment whose first record is at or before from_seq.
  while (next_segment_ + 1 < segments_.size() && segments_[next_segment_ + 1].first <= from_seq) {
    ++next_segment_;
  }
  parser_.reset();
  return status_;
}

bool LogReader::LoadSegment(size_t index) {
  segment_name_ = segments_[index].second;
  status_ = ReadFile(dir_ + "/" + segment_name_, &data_);
  if (!status_.ok()) return false;
  bool newest = index + 1 == segments_.size();
  parser_ = std::make_unique<SegmentParser>(data_, segment_name_, reporter_, newest);
  return true;
}

bool LogReader::Next(Record* rec) {
  while (status_.ok()) {
    if (parser_) {
      while (parser_->Next(rec)) {
        if (rec->seq >= from_seq_) return true;
      }
      parser_.reset();
    }
    if (next_segment_ >= segments_.size()) return false;
    if (!LoadSegment(next_segment_++)) return false;
  }
  return false;
}

}  // namespace refgate::clicklog
