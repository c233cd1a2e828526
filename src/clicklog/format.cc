#include "clicklog/format.h"

#include <xxhash.h>

#include <cstdio>
#include <cstring>

#include "util/coding.h"

namespace refgate::clicklog {

uint64_t Checksum(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

namespace {

static_assert(kUtmFieldCount == 5, "PutClickPayload lists the UTM fields one by one");

// The variable-length fields, in payload order.
struct ClickFields {
  explicit ClickFields(const ClickRecord& r)
      : f{r.code,   r.referrer_id, r.click_id, r.visitor_id, r.method,     r.utm[0], r.utm[1],
          r.utm[2], r.utm[3],      r.utm[4],   r.referer,    r.user_agent, r.ip} {}
  std::string_view f[13];
};

size_t PayloadSize(const ClickRecord& r, const ClickFields& fields) {
  size_t size = VarintLength(static_cast<uint64_t>(r.ts_us)) + 2 +
                VarintLength(static_cast<uint64_t>(r.status));
  for (std::string_view f : fields.f) size += VarintLength(f.size()) + f.size();
  return size + (r.via != Via::kLink ? 1 : 0);
}

// Writes the payload at p, which has room for PayloadSize.
void PutClickPayload(const ClickRecord& r, const ClickFields& fields, char* p) {
  p = EncodeVarint64(p, static_cast<uint64_t>(r.ts_us));
  *p++ = static_cast<char>(r.type);
  *p++ = static_cast<char>((r.new_visitor ? 1 : 0) | (r.bot ? 2 : 0));
  p = EncodeVarint64(p, static_cast<uint64_t>(r.status));
  for (std::string_view f : fields.f) {
    p = EncodeVarint64(p, f.size());
    std::memcpy(p, f.data(), f.size());
    p += f.size();
  }
  if (r.via != Via::kLink) *p = static_cast<char>(r.via);
}

// A header with the length and type set; seq and checksum come with SealRecord.
size_t StartRecord(std::string* dst, RecordType type, size_t payload_size) {
  size_t start = dst->size();
  dst->resize(start + kHeaderSize + payload_size);
  EncodeFixed32(dst->data() + start + 8, static_cast<uint32_t>(payload_size));
  (*dst)[start + 12] = static_cast<char>(type);
  return start;
}

}  // namespace

void SealRecord(char* record, uint64_t seq) {
  EncodeFixed64(record + 13, seq);
  std::string_view covered(record + 8, kHeaderSize - 8 + DecodeFixed32(record + 8));
  EncodeFixed64(record, Checksum(covered));
}

void AppendRecord(std::string* dst, RecordType type, uint64_t seq, std::string_view payload) {
  size_t start = StartRecord(dst, type, payload.size());
  payload.copy(dst->data() + start + kHeaderSize, payload.size());
  SealRecord(dst->data() + start, seq);
}

size_t AppendUnsealedRecord(std::string* dst, RecordType type, std::string_view payload) {
  size_t start = StartRecord(dst, type, payload.size());
  payload.copy(dst->data() + start + kHeaderSize, payload.size());
  return kHeaderSize + payload.size();
}

// One resize for header and payload: the record is sized before it is written.
size_t AppendUnsealedClick(std::string* dst, const ClickRecord& r) {
  const ClickFields fields(r);
  const size_t size = PayloadSize(r, fields);
  size_t start = StartRecord(dst, kClick, size);
  PutClickPayload(r, fields, dst->data() + start + kHeaderSize);
  return kHeaderSize + size;
}

void EncodeClick(const ClickRecord& r, std::string* out) {
  const ClickFields fields(r);
  out->resize(PayloadSize(r, fields));
  PutClickPayload(r, fields, out->data());
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
  // A via this version does not know (a newer writer's) reads as a link.
  r->via = !in.empty() && in[0] == static_cast<char>(Via::kQr) ? Via::kQr : Via::kLink;
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
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;  // past 2^64 - 1: no seq of ours
    v = v * 10 + d;
  }
  *first_seq = v;
  return true;
}

}  // namespace refgate::clicklog
