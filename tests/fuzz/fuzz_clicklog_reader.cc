// The click log reader on arbitrary bytes: never reads out of bounds, never
// returns a record whose checksum does not hold, reports damage in range.
#include <cstdlib>
#include <string_view>

#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "util/coding.h"

using namespace refgate::clicklog;

namespace {
struct Check : Reporter {
  size_t size = 0;
  void Corruption(const Damage& d) override {
    if (d.bytes == 0 || d.offset + d.bytes > size) std::abort();
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (bool zeros_end : {false, true}) {
    Check check;
    check.size = size;
    SegmentParser parser(in, "fuzz", &check, zeros_end);
    Record rec;
    uint64_t last = 0;
    while (parser.Next(&rec)) {
      if (rec.seq <= last) std::abort();  // sequence numbers only increase
      last = rec.seq;
      std::string_view covered(in.data() + rec.offset + 8, kHeaderSize - 8 + rec.payload.size());
      if (refgate::DecodeFixed64(in.data() + rec.offset) != Checksum(covered)) std::abort();
      refgate::ClickRecord click;
      (void)DecodeClick(rec.payload, &click);
    }
  }
  return 0;
}
