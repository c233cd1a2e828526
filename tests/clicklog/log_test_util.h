// Helpers for click log tests: a scratch directory (tests/util), record builders, and a
// Reporter that remembers what it was told.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "tests/util/scratch_dir.h"

namespace refgate::clicklog {

using refgate::ScratchDir;

inline ClickRecord MakeClick(int i, size_t ua_bytes = 20) {
  ClickRecord c;
  c.ts_us = 1795341600'000000 + i;
  c.type = i % 5 == 0 ? ClickType::kOrphan : ClickType::kClick;
  c.code = "code" + std::to_string(i % 7);
  c.referrer_id = c.type == ClickType::kOrphan ? "" : "ref" + std::to_string(i % 3);
  c.click_id = "click" + std::to_string(i);
  c.visitor_id = "visitor" + std::to_string(i % 11);
  c.new_visitor = i % 2;
  c.bot = i % 4 == 0;
  c.method = "GET";
  c.utm = {"src" + std::to_string(i), "email", "", "t", ""};
  c.referer = "https://mail.example.org/";
  c.user_agent = std::string(ua_bytes, 'u');
  c.ip = "203.0.113.0";
  c.status = 302;
  return c;
}

// One segment's bytes holding clicks first..first+n-1.
inline std::string SegmentBytes(uint64_t first, int n) {
  std::string data, payload;
  for (int i = 0; i < n; ++i) {
    EncodeClick(MakeClick(static_cast<int>(first) + i), &payload);
    AppendRecord(&data, kClick, first + i, payload);
  }
  return data;
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class RecordingReporter : public Reporter {
 public:
  void Corruption(const Damage& d) override { damages.push_back(d); }
  std::vector<Damage> damages;
};

// Every record of a segment held in memory, by sequence number.
inline std::vector<uint64_t> ParseAll(const std::string& data, Reporter* r) {
  SegmentParser p(data, "seg", r);
  std::vector<uint64_t> seqs;
  Record rec;
  while (p.Next(&rec)) seqs.push_back(rec.seq);
  return seqs;
}

inline std::vector<uint64_t> Seqs(uint64_t first, uint64_t last) {
  std::vector<uint64_t> v;
  for (uint64_t s = first; s <= last; ++s) v.push_back(s);
  return v;
}

}  // namespace refgate::clicklog
