// `refgate log dump` and `refgate log verify` (SPEC §1, §4).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

#include "admin/events_codec.h"
#include "app/app.h"
#include "clicklog/format.h"
#include "clicklog/reader.h"
#include "clicklog/records.h"
#include "util/time.h"
#include "util/utf8.h"

namespace refgate {
namespace json = boost::json;
using clicklog::Damage;

namespace {

class Collect : public clicklog::Reporter {
 public:
  void Corruption(const Damage& d) override { damages.push_back(d); }
  std::vector<Damage> damages;
};

class PrintToStderr : public clicklog::Reporter {
 public:
  void Corruption(const Damage& d) override {
    std::fprintf(stderr, "refgate log: skipped %llu damaged bytes at offset %llu of %s (%s)\n",
                 static_cast<unsigned long long>(d.bytes),
                 static_cast<unsigned long long>(d.offset), d.segment.c_str(), d.reason.c_str());
  }
};

// `log verify`: the records by kind; an unreadable one is printed with its
// segment, offset and byte count.
class TypeCounts : public clicklog::RecordHandler {
 public:
  explicit TypeCounts(const clicklog::LogReader* reader) : reader_(reader) {}
  void OnClick(const clicklog::Record&, const ClickRecord&) override { ++clicks; }
  void OnEvent(const clicklog::Record&, const EventRecord&) override { ++events; }
  void OnCode(const clicklog::Record&, const clicklog::CodeChange&) override { ++codes; }
  void OnCampaign(const clicklog::Record&, const clicklog::CampaignChange&) override { ++rules; }
  void OnPayout(const clicklog::Record&, const clicklog::Payout&) override { ++payouts; }
  void OnIgnored(const clicklog::Record&) override { ++ignored; }
  void OnUnknown(const clicklog::Record& rec) override {
    Unreadable(rec, "unknown type, not ignorable (a newer refgate wrote it)");
  }
  void OnUndecodable(const clicklog::Record& rec, const Status& why) override {
    Unreadable(rec, why.ToString());
  }
  uint64_t clicks = 0, events = 0, codes = 0, rules = 0, payouts = 0, ignored = 0, unreadable = 0;

 private:
  void Unreadable(const clicklog::Record& rec, const std::string& why) {
    ++unreadable;
    std::printf("UNREADABLE: segment %s offset %llu bytes %llu: seq %llu, type 0x%02x: %s\n",
                reader_->segment().c_str(), static_cast<unsigned long long>(rec.offset),
                static_cast<unsigned long long>(clicklog::kHeaderSize + rec.payload.size()),
                static_cast<unsigned long long>(rec.seq), static_cast<unsigned>(rec.type),
                why.c_str());
  }
  const clicklog::LogReader* reader_;
};

json::object ClickToJson(uint64_t seq, const ClickRecord& c) {
  json::object o;
  o["seq"] = seq;
  o["ts"] = FormatRfc3339Micros(c.ts_us);
  o["type"] = c.type == ClickType::kOrphan ? "orphan" : "click";
  o["code"] = ValidUtf8(c.code);
  o["referrer_id"] = ValidUtf8(c.referrer_id);
  o["click_id"] = ValidUtf8(c.click_id);
  o["visitor_id"] = ValidUtf8(c.visitor_id);
  o["new_visitor"] = c.new_visitor;
  o["bot"] = c.bot;
  o["method"] = ValidUtf8(c.method);
  for (int i = 0; i < kUtmFieldCount; ++i) o[kUtmParams[i]] = ValidUtf8(c.utm[i]);
  o["referer"] = ValidUtf8(c.referer);
  o["user_agent"] = ValidUtf8(c.user_agent);
  o["ip"] = ValidUtf8(c.ip);
  o["status"] = c.status;
  o["via"] = c.via == Via::kQr ? "qr" : "link";
  return o;
}

}  // namespace

namespace {

// `log dump`: every record of a known type as one JSON line; what it passes
// over, on stderr.
class Dumper : public clicklog::RecordHandler {
 public:
  void OnClick(const clicklog::Record& rec, const ClickRecord& click) override {
    Print(ClickToJson(rec.seq, click));
  }
  void OnEvent(const clicklog::Record& rec, const EventRecord& event) override {
    json::object o;
    o["seq"] = rec.seq;
    o["ts"] = FormatRfc3339Micros(event.received_us);
    o["type"] = "event";
    for (auto& kv : EventToJson(event)) {
      if (kv.key() == "type") {
        o["event_type"] = kv.value();
      } else if (kv.key() != "received_at") {
        o[kv.key()] = kv.value();
      }
    }
    Print(o);
  }
  void OnCode(const clicklog::Record& rec, const clicklog::CodeChange& c) override {
    json::object o;
    o["seq"] = rec.seq;
    o["ts"] = FormatRfc3339Micros(c.changed_us);
    o["type"] = "code";
    o["code"] = c.code.code;
    o["referrer_id"] = c.code.referrer_id;
    o["campaign"] = c.code.campaign;
    o["status"] = CodeStatusName(c.code.status);
    o["created_at"] = FormatRfc3339(c.code.created_at);
    o["expires_at"] = c.code.expires_at ? json::value(FormatRfc3339(*c.code.expires_at)) : nullptr;
    Print(o);
  }
  void OnIgnored(const clicklog::Record& rec) override {
    Note(rec, "record of an unknown ignorable type skipped");
  }
  void OnUnknown(const clicklog::Record& rec) override {
    Note(rec, "record of an unknown type that is not ignorable: a newer refgate wrote it");
  }
  void OnUndecodable(const clicklog::Record& rec, const Status& why) override {
    Note(rec, why.ToString());
  }

 private:
  void OnCampaign(const clicklog::Record& rec, const clicklog::CampaignChange& c) override {
    json::object o;
    o["seq"] = rec.seq;
    o["ts"] = FormatRfc3339Micros(c.changed_us);
    o["type"] = "campaign";
    o["campaign"] = ValidUtf8(c.campaign);
    o["deleted"] = c.deleted;
    AppendRulesJson(c.rules, &o);
    Print(o);
  }
  void OnPayout(const clicklog::Record& rec, const clicklog::Payout& p) override {
    json::object o;
    o["seq"] = rec.seq;
    o["ts"] = FormatRfc3339Micros(p.at_us);
    o["type"] = "payout";
    o["payout_id"] = p.payout_id;
    o["referrer_id"] = p.referrer_id;
    o["amount_minor"] = p.amount_minor;
    Print(o);
  }
  static void Print(const json::object& o) {
    std::string line = json::serialize(o);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  static void Note(const clicklog::Record& rec, const std::string& what) {
    std::fprintf(stderr, "refgate log dump: seq %llu (type 0x%02x): %s\n",
                 static_cast<unsigned long long>(rec.seq), static_cast<unsigned>(rec.type),
                 what.c_str());
  }
};

// Prints each damaged range; returns how many are damage to what was
// written. The unfinished end of the newest segment is not: it is a write
// in progress, or a crash's torn tail that the next start cuts.
size_t PrintDamage(const std::vector<Damage>& damages,
                   const std::vector<std::pair<uint64_t, std::string>>& segments) {
  size_t damaged = 0;
  for (const Damage& d : damages) {
    bool tail = d.at_end && !segments.empty() && d.segment == segments.back().second;
    std::printf("%s: segment %s offset %llu bytes %llu (%s)\n",
                tail ? "INCOMPLETE TAIL" : "DAMAGED", d.segment.c_str(),
                static_cast<unsigned long long>(d.offset), static_cast<unsigned long long>(d.bytes),
                d.reason.c_str());
    if (!tail) ++damaged;
  }
  return damaged;
}

}  // namespace

int RunLogDump(const std::string& data_dir, uint64_t from_seq) {
  PrintToStderr reporter;
  clicklog::LogReader reader(data_dir + "/clicks", &reporter);
  if (Status s = reader.Open(from_seq); !s.ok()) {
    std::fprintf(stderr, "refgate log dump: %s\n", s.ToString().c_str());
    return kExitFailure;
  }
  static char buf[1 << 16];
  std::setvbuf(stdout, buf, _IOFBF, sizeof buf);
  clicklog::Record rec;
  clicklog::RecordDispatcher dispatch;
  Dumper dumper;
  while (reader.Next(&rec)) dispatch.Dispatch(rec, &dumper);
  std::fflush(stdout);
  if (!reader.status().ok()) {
    std::fprintf(stderr, "refgate log dump: %s\n", reader.status().ToString().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

int RunLogVerify(const std::string& data_dir) {
  const std::string dir = data_dir + "/clicks";
  std::vector<std::pair<uint64_t, std::string>> segments;
  if (Status s = clicklog::ListSegments(dir, &segments); !s.ok()) {
    std::fprintf(stderr, "refgate log verify: %s\n", s.ToString().c_str());
    return kExitFailure;
  }
  Collect found;
  clicklog::LogReader reader(dir, &found);
  Status s = reader.Open(0);
  uint64_t records = 0, first = 0, last = 0, gaps = 0;
  clicklog::Record rec;
  clicklog::RecordDispatcher dispatch;
  TypeCounts types(&reader);
  while (s.ok() && reader.Next(&rec)) {
    dispatch.Dispatch(rec, &types);
    if (records > 0 && rec.seq != last + 1) {
      ++gaps;
      std::printf("GAP: sequence numbers %llu to %llu are missing (before %s offset %llu)\n",
                  static_cast<unsigned long long>(last + 1),
                  static_cast<unsigned long long>(rec.seq - 1), reader.segment().c_str(),
                  static_cast<unsigned long long>(rec.offset));
    }
    if (records++ == 0) first = rec.seq;
    last = rec.seq;
  }
  if (s.ok()) s = reader.status();
  if (!s.ok()) {
    std::fprintf(stderr, "refgate log verify: %s\n", s.ToString().c_str());
    return kExitFailure;
  }
  const size_t damaged = PrintDamage(found.damages, segments);
  const uint64_t bad = damaged + gaps + types.unreadable;
  std::printf("%zu segments, %llu records", segments.size(),
              static_cast<unsigned long long>(records));
  if (records > 0) {
    std::printf(", seq %llu to %llu", static_cast<unsigned long long>(first),
                static_cast<unsigned long long>(last));
  }
  std::printf(
      " (%llu clicks, %llu events, %llu code changes, %llu rule changes, %llu payouts, "
      "%llu of unknown ignorable types), %zu damaged ranges, %llu gaps, %llu unreadable records: "
      "%s\n",
      static_cast<unsigned long long>(types.clicks), static_cast<unsigned long long>(types.events),
      static_cast<unsigned long long>(types.codes), static_cast<unsigned long long>(types.rules),
      static_cast<unsigned long long>(types.payouts),
      static_cast<unsigned long long>(types.ignored), damaged,
      static_cast<unsigned long long>(gaps), static_cast<unsigned long long>(types.unreadable),
      bad == 0 ? "OK" : "DAMAGED");
  return bad == 0 ? kExitOk : kExitFailure;
}

}  // namespace refgate
