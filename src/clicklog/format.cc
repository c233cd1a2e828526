#include "clicklog/format.h"

#include <xxhash.h>

#include <cstdio>

#include "util/coding.h"

namespace refgate::clicklog {

uint64_t Checksum(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

void AppendRecord(std::string* dst, RecordType type, uint64_t seq, std::string_view payload) {
  size_t start = dst->size();
  dst->resize(start + kHeaderSize);
  char* h = dst->data() + start;
  EncodeFixed32(h + 8, static_cast<uint32_t>(payload.size()));
  h[12] = static_cast<char>(type);
  EncodeFixed64(h + 13, seq);
  dst->append(payload);
  std::string_view covered(dst->data() + start + 8, kHeaderSize - 8 + payload.size());
  EncodeFixed64(dst->data() + start, Checksum(covered));
}

void EncodeClick(const ClickRecord& r, std::string* out) {
  out->clear();
  PutVarint64(out, static_cast<uint64_t>(r.ts_us));
  out->push_back(static_cast<char>(r.type));
  out->push_back(static_cast<char>((r.new_visitor ? 1 : 0) | (r.bot ? 2 : 0)));
  PutVarint64(out, static_cast<uint64_t>(r.status));
  for (const std::string* s : {&r.code, &r.referrer_id, &r.click_id, &r.visitor_id, &r.method}) {
    PutLengthPrefixed(out, *s);
  }
  for (const std::string& u : r.utm) PutLengthPrefixed(out, u);
  for (const std::string* s : {&r.referer, &r.user_agent, &r.ip}) PutLengthPrefixed(out, *s);
}

Status DecodeClick(std::string_view in, ClickRecord* r) {
  uint64_t ts, status;
  if (!GetVarint64(&in, &ts) || in.size() < 2) return Status::Corruption("truncated click");
  r->ts_us = static_cast<int64_t>(ts);
  uint8_t type = static_cast<uint8_t>(in[0]), flags = static_cast<uint8_t>(in[1]);
  if (type != static_cast<uint8_t>(ClickType::kClick) &&
      type != static_cast<uint8_t>(ClickType::kOrphan)) {
    return Status::Corruption("bad click type");
  }
  r->type = static_cast<ClickType>(type);
  r->new_visitor = flags & 1;
  r->bot = flags & 2;
  in.remove_prefix(2);
  if (!GetVarint64(&in, &status)) return Status::Corruption("truncated click");
  r->status = static_cast<int>(status);
  std::string_view s;
  for (std::string* f : {&r->code, &r->referrer_id, &r->click_id, &r->visitor_id, &r->method}) {
    if (!GetLengthPrefixed(&in, &s)) return Status::Corruption("truncated click");
    f->assign(s);
  }
  for (std::string& u : r->utm) {
    if (!GetLengthPrefixed(&in, &s)) return Status::Corruption("truncated click");
    u.assign(s);
  }
  for (std::string* f : {&r->referer, &r->user_agent, &r->ip}) {
    if (!GetLengthPrefixed(&in, &s)) return Status::Corruption("truncated click");
    f->assign(s);
  }
  return Status::OK();
}

std::string SegmentName(uint64_t first_seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.log", static_cast<unsigned long long>(first_seq));
  return buf;
}

bool ParseSegmentName(std::string_view name, uint64_t* first_seq) {
  if (name.size() != 24 || !name.ends_with(".log")) return false;
  uint64_t v = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return false;
    uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next < v) return false;
    v = next;
  }
  *first_seq = v;
  return true;
}

}  // namespace refgate::clicklog
