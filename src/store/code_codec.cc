#include "store/code_codec.h"

#include "util/coding.h"

namespace refgate {

namespace {
constexpr char kVersion = 1;
}

std::string_view CodeStatusName(CodeStatus s) {
  switch (s) {
    case CodeStatus::kActive:
      return "active";
    case CodeStatus::kDisabled:
      return "disabled";
    case CodeStatus::kDeleted:
      return "deleted";
  }
  return "unknown";
}

void EncodeCodeRecord(const CodeRecord& rec, std::string* out) {
  out->clear();
  out->push_back(kVersion);
  for (const std::string* s : {&rec.code, &rec.referrer_id, &rec.target_url, &rec.campaign}) {
    PutLengthPrefixed(out, *s);
  }
  for (const std::string& u : rec.utm) PutLengthPrefixed(out, u);
  PutVarint64(out, static_cast<uint64_t>(rec.redirect_status));
  out->push_back(static_cast<char>(rec.status));
  PutFixed64(out, static_cast<uint64_t>(rec.created_at));
  out->push_back(rec.expires_at ? 1 : 0);
  if (rec.expires_at) PutFixed64(out, static_cast<uint64_t>(*rec.expires_at));
}

Status DecodeCodeRecord(std::string_view in, CodeRecord* rec) {
  if (in.empty() || in[0] != kVersion) return Status::Corruption("unknown code record version");
  in.remove_prefix(1);
  std::string_view s;
  for (std::string* field : {&rec->code, &rec->referrer_id, &rec->target_url, &rec->campaign}) {
    if (!GetLengthPrefixed(&in, &s)) return Status::Corruption("truncated code record");
    field->assign(s);
  }
  for (std::string& u : rec->utm) {
    if (!GetLengthPrefixed(&in, &s)) return Status::Corruption("truncated code record");
    u.assign(s);
  }
  uint64_t status_code, created;
  if (!GetVarint64(&in, &status_code) || in.size() < 1) {
    return Status::Corruption("truncated code record");
  }
  rec->redirect_status = static_cast<int>(status_code);
  uint8_t st = static_cast<uint8_t>(in[0]);
  if (st > static_cast<uint8_t>(CodeStatus::kDeleted)) return Status::Corruption("bad status");
  rec->status = static_cast<CodeStatus>(st);
  in.remove_prefix(1);
  if (!GetFixed64(&in, &created) || in.empty()) return Status::Corruption("truncated code record");
  rec->created_at = static_cast<int64_t>(created);
  const uint8_t has_expires = static_cast<uint8_t>(in[0]);
  if (has_expires > 1)
    return Status::Corruption("bad expiry flag");  // else a garbled flag revives a code
  in.remove_prefix(1);
  rec->expires_at.reset();
  if (has_expires) {
    uint64_t e;
    if (!GetFixed64(&in, &e)) return Status::Corruption("truncated code record");
    rec->expires_at = static_cast<int64_t>(e);
  }
  return Status::OK();
}

}  // namespace refgate
