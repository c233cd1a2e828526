// Reading the click log: one segment in memory (SegmentParser) or a whole
// log directory in sequence order (LogReader).
//
// A reader never returns a damaged record. A range that does not parse, or
// whose checksum does not match, is skipped: the parser scans forward for
// the next record that checks out and reports the range in between to the
// Reporter, with its segment, offset and length. A damaged range that runs
// to the end of the newest segment is a torn tail: the normal state after a
// crash (cut at the next start) or of a segment being written right now.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clicklog/format.h"
#include "refgate/status.h"

namespace refgate::clicklog {

struct Damage {
  std::string segment;  // file name
  uint64_t offset = 0;
  uint64_t bytes = 0;
  std::string reason;
  bool at_end = false;  // runs to the end of its segment
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void Corruption(const Damage& d) = 0;
};

struct Record {
  RecordType type = kClick;
  uint64_t seq = 0;
  std::string_view payload;  // valid until the reader moves to another segment
  uint64_t offset = 0;
};

class SegmentParser {
 public:
  // `data`, `reporter` must outlive the parser; `reporter` may be null.
  // zeros_end: an all-zero tail is the end of the data, not damage (the
  // newest segment, which the writer extends with zeros ahead of itself).
  SegmentParser(std::string_view data, std::string name, Reporter* reporter, bool zeros_end = false)
      : data_(data), name_(std::move(name)), reporter_(reporter), zeros_end_(zeros_end) {}

  // The next valid record, or false at the end of the data.
  [[nodiscard]] bool Next(Record* rec);
  // Offset just past the last valid record returned so far.
  uint64_t valid_end() const { return valid_end_; }
  uint64_t last_seq() const { return last_seq_; }

 private:
  // Empty when a valid record starts at pos (and fills *rec); else why not.
  std::string_view Check(size_t pos, Record* rec) const;

  std::string_view data_;
  std::string name_;
  Reporter* reporter_;
  bool zeros_end_;
  size_t pos_ = 0;
  uint64_t valid_end_ = 0;
  uint64_t last_seq_ = 0;
};

// Segments of a log directory as (first seq, file name), in order.
Status ListSegments(const std::string& dir, std::vector<std::pair<uint64_t, std::string>>* out);

// Reads a whole file into *out.
Status ReadFile(const std::string& path, std::string* out);

class LogReader {
 public:
  // REQUIRES: `reporter` (may be null) outlives the reader.
  LogReader(std::string dir, Reporter* reporter) : dir_(std::move(dir)), reporter_(reporter) {}

  // Positions at the first record with seq >= from_seq.
  Status Open(uint64_t from_seq = 0);
  // Sets *rec to the next record and returns true, or returns false at the end
  // of the log (or on an I/O error, which status() then tells).
  [[nodiscard]] bool Next(Record* rec);
  const Status& status() const { return status_; }
  const std::string& segment() const { return segment_name_; }

 private:
  [[nodiscard]] bool LoadSegment(size_t index);

  std::string dir_;
  Reporter* reporter_;
  uint64_t from_seq_ = 0;
  std::vector<std::pair<uint64_t, std::string>> segments_;
  size_t next_segment_ = 0;
  std::string data_;
  std::string segment_name_;
  std::unique_ptr<SegmentParser> parser_;
  Status status_;
};

}  // namespace refgate::clicklog
