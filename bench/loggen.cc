// Writes a synthetic click log of N records into DIR/clicks (segments of
// 64 MiB) and the same clicks as DIR/clicks.csv, for comparing compaction
// with DuckDB on identical data.
//
//   refgate_loggen DIR N [EVENTS_PERCENT [FIRST_SEQ]]
//
// 100,000 codes of 5,000 referrers, 2,000,000 visitors, 20 channels, 7 days;
// 5% bots, 1% orphans. Deterministic (fixed seed). With EVENTS_PERCENT, that
// share of the N records are conversion events instead (SPEC §6): sales
// of a random visitor and customer, to be attributed by the visitor rule,
// written to DIR/events.csv too (seq,ts,event_id,visitor_id,amount_minor).
// With FIRST_SEQ the records are numbered from it (default 1) and their
// times spread over the hour after those 7 days: the next records of a log
// made before, for an incremental run (move DIR/clicks/* beside that log's
// segments).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "clicklog/format.h"
#include "rollup/csv.h"
#include "util/time.h"

using namespace refgate;

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: refgate_loggen DIR N [EVENTS_PERCENT [FIRST_SEQ]]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t n = std::strtoull(argv[2], nullptr, 10);
  const uint64_t events_percent = argc >= 4 ? std::strtoull(argv[3], nullptr, 10) : 0;
  const uint64_t first_seq = argc == 5 ? std::strtoull(argv[4], nullptr, 10) : 1;
  std::filesystem::create_directories(dir + "/clicks");
  std::mt19937_64 rng(42 ^ (first_seq - 1));                        // 42 for a log from seq 1
  const int64_t start_us = 1795305600'000000 - 6 * 86400'000000LL;  // 7 days to 2026-11-22
  const char* sources[] = {"newsletter", "facebook", "twitter", "", "referral"};
  const char* media[] = {"email", "social", "link", ""};
  std::FILE* csv = std::fopen((dir + "/clicks.csv").c_str(), "w");
  std::fputs(
      "seq,ts,type,code,referrer_id,visitor_id,new_visitor,bot,utm_source,utm_medium,"
      "utm_campaign\n",
      csv);
  std::FILE* events_csv = std::fopen((dir + "/events.csv").c_str(), "w");
  std::fputs("seq,ts,event_id,visitor_id,amount_minor\n", events_csv);
  std::FILE* seg = nullptr;
  uint64_t seg_bytes = 0;
  std::string payload, framed, line;
  ClickRecord c;
  c.method = "GET";
  c.referer = "https://mail.example.org/";
  c.user_agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36";
  c.ip = "203.0.113.0";
  for (uint64_t seq = first_seq; seq < first_seq + n; ++seq) {
    uint64_t r = rng();
    int code = static_cast<int>(r % 100000);
    bool orphan = (r >> 20) % 100 == 0;
    c.type = orphan ? ClickType::kOrphan : ClickType::kClick;
    char buf[32];
    std::snprintf(buf, sizeof buf, orphan ? "x%06d" : "c%06d", code);
    c.code = buf;
    std::snprintf(buf, sizeof buf, "r%04d", code % 5000);
    c.referrer_id = orphan ? "" : buf;
    c.bot = (r >> 27) % 20 == 0;
    std::snprintf(buf, sizeof buf, "v%021llu",
                  static_cast<unsigned long long>((r >> 33) % 2000000));
    c.visitor_id = c.bot ? "" : buf;
    c.new_visitor = !c.bot && (r >> 40) % 3 == 0;
    c.utm = {sources[(r >> 44) % 5], media[(r >> 48) % 4], (r >> 52) % 2 ? "spring" : "", "", ""};
    c.ts_us = first_seq == 1 ? start_us + static_cast<int64_t>(seq * (7 * 86400'000000ULL / n))
                             : start_us + 7 * 86400'000000LL +
                                   static_cast<int64_t>((seq - first_seq) * (3600'000000ULL / n));
    c.click_id = std::to_string(seq);
    const bool event = (r >> 56) % 100 < events_percent;
    if (event) {
      EventRecord e;
      e.type = EventType::kSale;
      e.event_id = "e" + std::to_string(seq);
      e.order_id = "o" + std::to_string(seq);
      e.amount_minor = 4990;
      e.currency = "EUR";
      std::snprintf(buf, sizeof buf, "v%021llu",
                    static_cast<unsigned long long>((r >> 8) % 2000000));
      e.visitor_id = buf;
      e.customer_id = "cus_" + std::to_string((r >> 8) % 2000000);
      e.occurred_us = e.received_us = c.ts_us;
      clicklog::EncodeEvent(e, &payload);
      line.clear();
      AppendCsvNumber(&line, seq, true);
      AppendCsvText(&line, FormatRfc3339Micros(e.occurred_us));
      AppendCsvText(&line, e.event_id);
      AppendCsvText(&line, e.visitor_id);
      AppendCsvNumber(&line, static_cast<uint64_t>(e.amount_minor));
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), events_csv);
    } else {
      clicklog::EncodeClick(c, &payload);
    }
    c.status = orphan ? 404 : 302;
    framed.clear();
    clicklog::AppendRecord(&framed, event ? clicklog::kEvent : clicklog::kClick, seq, payload);
    if (!seg || seg_bytes + framed.size() > (64u << 20)) {
      if (seg) std::fclose(seg);
      seg = std::fopen((dir + "/clicks/" + clicklog::SegmentName(seq)).c_str(), "w");
      seg_bytes = 0;
    }
    std::fwrite(framed.data(), 1, framed.size(), seg);
    seg_bytes += framed.size();
    if (event) continue;
    line.clear();
    AppendCsvNumber(&line, seq, true);
    AppendCsvText(&line, FormatRfc3339Micros(c.ts_us));
    AppendCsvText(&line, orphan ? "orphan" : "click");
    for (const std::string* f : {&c.code, &c.referrer_id, &c.visitor_id}) AppendCsvText(&line, *f);
    AppendCsvText(&line, c.new_visitor ? "true" : "false");
    AppendCsvText(&line, c.bot ? "true" : "false");
    for (int i = 0; i < 3; ++i) AppendCsvText(&line, c.utm[i]);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), csv);
  }
  if (seg) std::fclose(seg);
  std::fclose(csv);
  std::fclose(events_csv);
  return 0;
}
