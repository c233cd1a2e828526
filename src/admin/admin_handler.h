// AdminHandler: the admin listener's Handler (SPEC §3). Synchronous: it
// runs on the admin thread and may block on RocksDB.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>

#include "admin/codec.h"
#include "admin/shared_codes.h"
#include "clicklog/click_sink.h"
#include "clicklog/format.h"
#include "http/message.h"
#include "refgate/reward_rules.h"
#include "store/code_store.h"

namespace refgate::events {
class EventIndex;
}

namespace refgate {
class StateDb;

inline constexpr size_t kMaxAdminBody = 1 << 20;   // 1 MiB
inline constexpr size_t kMaxBatchBody = 16 << 20;  // 10,000 items of ~1.6 KiB
inline constexpr size_t kMaxBatchItems = 10000;

// Appends records to the click log and waits until they are durable: OK,
// or why not (the change is then refused). Code changes go there before
// the store takes them, campaign rules and payouts before they are
// indexed, so that the compaction job knows them from the log (SPEC §6).
using Journal =
    std::function<Status(clicklog::RecordType type, const std::vector<std::string>& payloads)>;

// Fills the stats object for a referrer over UTC days [from, to] (Unix
// seconds at 00:00); for the whole program when `referrer` is "".
using StatsFn = std::function<Status(std::string_view referrer, int64_t from, int64_t to,
                                     boost::json::object* out)>;

inline constexpr int64_t kMaxStatsDays = 366;

// The events API (SPEC §6).
// Calls read(db) with the rollup state as the last committed run left it
// (db null before any run): what the compaction job decided and found payable.
using RollupsFn = std::function<Status(const std::function<Status(const StateDb* db)>& read)>;

struct EventsApi {
  events::EventIndex* index = nullptr;  // must outlive the handler; null: the routes answer 503
  std::string token;                    // the events token; "": the admin token only
  std::string currency = "EUR";         // [rewards] currency
  RewardRules defaults;                 // [rewards], what a campaign's missing keys take
  // null: every event is "pending"; payouts, the events list and balances answer 503
  RollupsFn rollups;
};

// Routing is one table (admin_handler.cc): a row per method and path
// pattern with its metrics label, body limit, token scope and handler. A
// path matches a pattern segment by segment ("{}" takes one non-empty
// segment), so anything else is 404 and a known path with another method 405.
//
// Thread-safety: Handle runs on the admin worker's single thread only (the
// failed-authentication counts are not locked). POST /api/v1/events
// answers later, from the event index's thread, once the event is durable.
class AdminHandler : public Handler {
 public:
  // `store` and `sink` must outlive the handler. max_auth_failures: wrong
  // tokens a client IP may send in a minute before its wrong tokens get 429
  // for the rest of that minute. The right token always passes (0: no limit).
  AdminHandler(std::string token, CodePolicy policy, CodeStore* store, ClickSink* sink,
               StatsFn stats, int max_auth_failures = 10, EventsApi events = {})
      : token_(std::move(token)),
        policy_(std::move(policy)),
        store_(store),
        sink_(sink),
        stats_(std::move(stats)),
        events_(std::move(events)),
        max_auth_failures_(max_auth_failures) {}

  // Before the first request; null (the default): nothing is journaled.
  void set_journal(Journal journal) { journal_ = std::move(journal); }
  // Cluster mode, before the first request: code changes go through
  // `shared` (which must outlive the handler), and reach the store from it.
  void set_shared(SharedCodes* shared) { shared_ = shared; }

  RequestClass Classify(Method method, std::string_view target) const override;
  void RenderRefusal(HttpResponse* res) const override;
  bool Handle(const HttpRequest& req, HttpResponse* res, Completion* done) override;

  // One matched request, as a route's handler sees it.
  struct Call {
    const HttpRequest& req;
    std::string_view arg;    // what the pattern's "{}" matched, or ""
    std::string_view query;  // without '?'
    // A route that answers later sets *later and completes done once *res
    // is complete (Handler::Handle).
    Completion* done;
    bool* later;
  };
  struct RouteRow;
  // The route table.
  static std::span<const RouteRow> Routes();

 private:
  // Returns false when the route answers later (Call::later).
  bool Dispatch(const HttpRequest& req, HttpResponse* res, Completion* done);
  // True when the request may go on; else *res is the 401 or 429. The
  // events token passes only where `events_too`.
  bool Authorize(const HttpRequest& req, bool events_too, HttpResponse* res);
  void Healthz(const Call& c, HttpResponse* res);
  void Readyz(const Call& c, HttpResponse* res);
  void MetricsText(const Call& c, HttpResponse* res);
  void Create(const Call& c, HttpResponse* res);
  void Batch(const Call& c, HttpResponse* res);
  Status JournalCode(const CodeRecord& rec);
  // Reads a code that is not deleted; otherwise fills *res (404 or 500).
  bool LoadLiveCode(std::string_view code, CodeRecord* rec, HttpResponse* res);
  // A live code to patch or delete, with its cluster revision (0 on a single node).
  bool LoadCodeToChange(std::string_view code, CodeRecord* rec, uint64_t* revision,
                        HttpResponse* res);
  bool WriteChange(const CodeRecord& rec, uint64_t revision, HttpResponse* res);
  void GetCode(const Call& c, HttpResponse* res);
  void Patch(const Call& c, HttpResponse* res);
  void Delete(const Call& c, HttpResponse* res);
  void Qr(const Call& c, HttpResponse* res);         // qr_route.cc
  void Dashboard(const Call& c, HttpResponse* res);  // dashboard_route.cc
  void List(const Call& c, HttpResponse* res);
  // report_routes.cc: read from the rollups.
  void Stats(const Call& c, HttpResponse* res);
  void ProgramStats(const Call& c, HttpResponse* res);
  void StatsAnswer(std::string_view referrer, std::string_view query, HttpResponse* res);
  void ListEvents(const Call& c, HttpResponse* res);
  void Rewards(const Call& c, HttpResponse* res);
  void RewardsCsv(const Call& c, HttpResponse* res);
  void PostEvent(const Call& c, HttpResponse* res);
  void GetEvent(const Call& c, HttpResponse* res);
  void PutCampaign(const Call& c, HttpResponse* res);
  void GetCampaign(const Call& c, HttpResponse* res);
  void DeleteCampaign(const Call& c, HttpResponse* res);
  void PostPayout(const Call& c, HttpResponse* res);
  // Records a validated payout once (idempotent on payout_id), within the balance.
  void PayoutAnswer(const clicklog::Payout& p, HttpResponse* res);
  // Journals one record of `type`, inside an EventIndex write when `money`.
  Status JournalOne(clicklog::RecordType type, std::string payload);

  // Inserts recs, drawing new random codes for those with `generated` set
  // that collide. Fills one result per record: OK or the error.
  Status InsertWithRetries(std::vector<CodeRecord>* recs, const std::vector<bool>& generated,
                           std::vector<Status>* results);
  Status CreateShared(std::vector<CodeRecord>* recs, const std::vector<bool>& generated,
                      std::vector<Status>* results);

  const std::string token_;
  const CodePolicy policy_;
  CodeStore* const store_;
  ClickSink* const sink_;
  const StatsFn stats_;
  const EventsApi events_;
  Journal journal_;
  SharedCodes* shared_ = nullptr;

  // Failed authentications per client IP in the current minute.
  struct Failures {
    int64_t window_start_s = 0;
    int count = 0;
  };
  // True, with *retry_s set, while `client`'s wrong tokens get 429.
  bool LockedOut(const std::string& client, int64_t now_s, int64_t* retry_s);
  void CountFailure(const std::string& client, int64_t now_s);
  const int max_auth_failures_;
  std::unordered_map<std::string, Failures> failures_;
};

}  // namespace refgate
