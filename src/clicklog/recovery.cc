#include "clicklog/recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "clicklog/reader.h"
#include "util/file_io.h"

namespace refgate::clicklog {
namespace {

// Notes damage that valid records follow (readers skip it; it stays).
class MidDamage : public Reporter {
 public:
  void Corruption(const Damage& d) override { found |= !d.at_end; }
  bool found = false;
};

// Cuts a segment's torn or zero-filled tail at `valid_end`, durably.
Status CutTail(const std::string& path, const std::string& name, const std::string& data,
               uint64_t valid_end, std::vector<std::string>* notes) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(valid_end)) != 0 || fdatasync(fd) != 0) {
    if (fd >= 0) close(fd);
    return Status::IOError(path + ": cannot cut torn tail: " + std::strerror(errno));
  }
  close(fd);
  uint64_t cut = data.size() - valid_end;
  bool zeros = data.find_first_not_of('\0', valid_end) == std::string::npos;
  notes->push_back("cut " + std::string(zeros ? "zero-filled" : "torn") + " tail of " + name +
                   ": " + std::to_string(cut) + " bytes at offset " + std::to_string(valid_end));
  return Status::OK();
}

}  // namespace

Status Recover(const std::string& dir, RecoveryResult* out) {
  *out = RecoveryResult();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir + ": " + ec.message());
  std::vector<std::pair<uint64_t, std::string>> segments;
  Status s = ListSegments(dir, &segments);
  // Walk back from the newest segment to the newest record.
  while (s.ok() && !segments.empty()) {
    auto [first_seq, name] = segments.back();
    std::string path = dir + "/" + name, data;
    s = ReadFile(path, &data);
    if (!s.ok()) break;
    MidDamage finder;
    SegmentParser parser(data, name, &finder);
    Record rec;
    while (parser.Next(&rec)) {
    }
    if (parser.valid_end() < data.size()) {
      if (s = CutTail(path, name, data, parser.valid_end(), &out->notes); !s.ok()) return s;
    }
    if (finder.found) {
      out->notes.push_back(name +
                           " has damaged records; readers skip them (see refgate log verify)");
    }
    if (parser.last_seq() > 0) {
      out->next_seq = parser.last_seq() + 1;
      break;
    }
    // No record at all: the segment adds nothing; remove it and look further back.
    if (unlink(path.c_str()) != 0) return Status::IOError(path + ": " + std::strerror(errno));
    out->notes.push_back("removed empty segment " + name);
    out->next_seq = std::max(out->next_seq, first_seq);
    segments.pop_back();
  }
  if (s.ok() && DefaultFileIo()->SyncDir(dir) != 0) {
    return Status::IOError(dir + ": fsync failed");
  }
  return s;
}

}  // namespace refgate::clicklog
