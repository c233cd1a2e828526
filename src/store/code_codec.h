// The byte format of a CodeRecord in RocksDB.
//
//   version   1 byte   (1)
//   code, referrer_id, target_url, campaign, utm[5]   varint length + bytes each
//   redirect_status   varint
//   status            1 byte (CodeStatus)
//   created_at        fixed64 (two's complement Unix seconds)
//   has_expires       1 byte (0 or 1), then expires_at fixed64 when 1
//
// A decoder of version 1 ignores bytes after the fields it knows, so a
// writer may append fields and keep version 1; a new version byte is for a
// change old decoders must refuse.
#pragma once

#include <string>
#include <string_view>

#include "refgate/code_record.h"
#include "refgate/status.h"

namespace refgate {

void EncodeCodeRecord(const CodeRecord& rec, std::string* out);
Status DecodeCodeRecord(std::string_view in, CodeRecord* rec);

}  // namespace refgate
