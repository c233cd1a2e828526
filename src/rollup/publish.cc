#include "rollup/publish.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "rollup/checkpoint.h"
#include "rollup/conversion_csv.h"
#include "rollup/csv.h"
#include "rollup/rows.h"
#include "util/file_io.h"
#include "util/time.h"

namespace refgate::rollup {
namespace fs = std::filesystem;

namespace {

// The click log's own file calls, so there is one write loop and one
// directory sync in the project.
Status SyncDir(FileIo* io, const std::string& dir) {
  int err = io->SyncDir(dir);
  return err == 0 ? Status::OK() : Status::IOError(dir + ": fsync: " + std::strerror(err));
}

std::string Timestamp(int64_t us) { return us == 0 ? "" : FormatRfc3339(us / 1000000); }

Status CodesCsv(const StateDb& db, const std::string& date, std::string* out) {
  *out =
      "date,referrer_id,code,clicks,unique_visitors,new_visitors,bot_clicks,conversions,"
      "revenue_minor\r\n";
  Status bad;
  Status s = db.Scan(DayPrefix(date), [&](std::string_view key, std::string_view value) {
    std::string_view d, ref, code;
    DayCodeRow row;
    uint64_t visitors;
    if (!ParseDayCodeKey(key, &d, &ref, &code) || !Decode(value, &row, &visitors)) {
      bad = Status::Corruption("rollup state: bad day row");
      return false;
    }
    AppendCsvText(out, d, true);
    AppendCsvText(out, ref);
    AppendCsvText(out, code);
    for (uint64_t v : {row.clicks, visitors, row.new_visitors, row.bot_clicks, row.conversions,
                       row.revenue_minor}) {
      AppendCsvNumber(out, v);
    }
    EndCsvRow(out);
    return true;
  });
  return s.ok() ? bad : s;
}

Status ChannelsCsv(const StateDb& db, const std::string& date, std::string* out) {
  *out = "date,referrer_id,code,utm_source,utm_medium,utm_campaign,clicks,unique_visitors\r\n";
  Status bad;
  Status s = db.Scan(ChannelPrefix(date), [&](std::string_view key, std::string_view value) {
    std::string_view d, ref, code, src, med, camp;
    ChannelRow row;
    uint64_t visitors;
    if (!ParseChannelKey(key, &d, &ref, &code, &src, &med, &camp) ||
        !Decode(value, &row, &visitors)) {
      bad = Status::Corruption("rollup state: bad channel row");
      return false;
    }
    AppendCsvText(out, d, true);
    for (std::string_view f : {ref, code, src, med, camp}) AppendCsvText(out, f);
    AppendCsvNumber(out, row.clicks);
    AppendCsvNumber(out, visitors);
    EndCsvRow(out);
    return true;
  });
  return s.ok() ? bad : s;
}

Status ReferrersCsv(const StateDb& db, std::string* out) {
  *out =
      "referrer_id,codes,clicks,unique_visitors,bot_clicks,conversions,revenue_minor,"
      "first_click_at,last_click_at\r\n";
  Status bad;
  Status s = db.Scan("r", [&](std::string_view key, std::string_view value) {
    std::string_view ref;
    ReferrerRow row;
    uint64_t visitors;
    if (!ParseReferrerKey(key, &ref) || !Decode(value, &row, &visitors)) {
      bad = Status::Corruption("rollup state: bad referrer row");
      return false;
    }
    AppendCsvText(out, ref, true);
    for (uint64_t v :
         {row.codes, row.clicks, visitors, row.bot_clicks, row.conversions, row.revenue_minor}) {
      AppendCsvNumber(out, v);
    }
    AppendCsvText(out, Timestamp(row.first_click_us));
    AppendCsvText(out, Timestamp(row.last_click_us));
    EndCsvRow(out);
    return true;
  });
  return s.ok() ? bad : s;
}

// One date's files, built from the state apart from their writing.
struct DayFiles {
  std::string codes, channels, events;
  size_t event_rows = 0;
  Status status;
};

DayFiles BuildDay(const StateDb& db, const std::string& date) {
  DayFiles f;
  f.status = CodesCsv(db, date, &f.codes);
  if (f.status.ok()) f.status = ChannelsCsv(db, date, &f.channels);
  if (f.status.ok()) f.status = EventsCsv(db, date, &f.events, &f.event_rows);
  return f;
}

Status WriteDay(FileIo* io, const std::string& dir, const std::string& date, const DayFiles& f) {
  if (!f.status.ok()) return f.status;
  const std::string day_dir = dir + "/daily/date=" + date;
  std::error_code ec;
  fs::create_directories(day_dir, ec);
  if (ec) return Status::IOError(day_dir + ": " + ec.message());
  Status s = WriteFileAtomic(io, day_dir + "/codes.csv", f.codes);
  if (s.ok()) s = WriteFileAtomic(io, day_dir + "/channels.csv", f.channels);
  // A day without conversion events has no events.csv (unless one was
  // written before: its rows only ever change, never vanish).
  if (s.ok() && (f.event_rows > 0 || fs::exists(day_dir + "/events.csv"))) {
    s = WriteFileAtomic(io, day_dir + "/events.csv", f.events);
  }
  return s.ok() ? SyncDir(io, dir + "/daily") : s;
}

}  // namespace

Status Publish(const StateDb& db, const std::string& dir, const std::set<std::string>& dates,
               uint64_t through_seq, FileIo* io, std::string_view currency) {
  // Both cores: dates are built two at a time, and written in order.
  const std::vector<std::string> all(dates.begin(), dates.end());
  for (size_t i = 0; i < all.size(); i += 2) {
    DayFiles second;
    std::thread next;
    if (i + 1 < all.size()) next = std::thread([&] { second = BuildDay(db, all[i + 1]); });
    const DayFiles first = BuildDay(db, all[i]);
    if (next.joinable()) next.join();
    Status s = WriteDay(io, dir, all[i], first);
    if (s.ok() && i + 1 < all.size()) s = WriteDay(io, dir, all[i + 1], second);
    if (!s.ok()) return s;
  }
  std::string content;
  Status s = ReferrersCsv(db, &content);
  if (s.ok()) s = WriteFileAtomic(io, dir + "/referrers.csv", content);
  if (s.ok()) s = RewardsCsv(&db, currency, &content);
  if (s.ok()) s = WriteFileAtomic(io, dir + "/rewards.csv", content);
  if (!s.ok()) return s;

  boost::json::array files;
  files.push_back("referrers.csv");
  files.push_back("rewards.csv");
  std::set<std::string> daily;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir + "/daily", ec)) {
    std::string name = e.path().filename().string();
    if (!name.starts_with("date=")) continue;
    for (const char* f : {"codes.csv", "channels.csv", "events.csv"}) {
      if (fs::exists(e.path() / f)) daily.insert("daily/" + name + "/" + f);
    }
  }
  for (const auto& f : daily) files.push_back(boost::json::value(f));
  boost::json::object manifest;
  manifest["schema_version"] = 2;  // 2: conversions (SPEC §6); columns only ever added
  manifest["through_seq"] = through_seq;
  manifest["generated_at"] = FormatRfc3339(NowMicros() / 1000000);
  manifest["files"] = std::move(files);
  // A cluster's rollup node (SPEC §8): each node's seq rolled up through.
  Checkpoint cp;
  if (s = cp.Load(db); !s.ok()) return s;
  if (cp.cluster) {
    boost::json::object nodes;
    for (const auto& [node, seq] : cp.nodes) nodes[node] = seq;
    manifest["nodes"] = std::move(nodes);
  }
  return WriteFileAtomic(io, dir + "/manifest.json", boost::json::serialize(manifest) + "\n");
}

}  // namespace refgate::rollup
