// `refgate serve`: wires the store, the click sink, the handlers and the
// server together, then waits for SIGTERM or SIGINT.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "admin/admin_handler.h"
#include "app/app.h"
#include "app/rollup_job.h"
#include "app/tokens.h"
#include "clicklog/click_log.h"
#include "clicklog/format.h"
#include "cluster/click_key.h"
#include "cluster/code_sync.h"
#include "cluster/log_merger.h"
#include "cluster/log_shipper.h"
#include "events/event_index.h"
#include "http/server.h"
#include "redirect/redirect_handler.h"
#include "rollup/conversion_csv.h"
#include "rollup/stats.h"
#include "store/state_db.h"
#include "util/file_io.h"
#include "util/mutex.h"
#include "util/time.h"
#include "webhooks/deliverer.h"

namespace refgate {
namespace {

// Raises the descriptor limit to the hard limit; returns the limit.
uint64_t RaiseFileLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

// The admin listener's connection limit: its clients are a few tools.
constexpr size_t kAdminConnections = 256;
// Descriptors kept for the admin listener, RocksDB and the click log.
constexpr uint64_t kReservedFds = kAdminConnections + 256;

// max_connections, lowered where the descriptor limit could not hold it:
// running out of descriptors would stop accepting; shedding keeps answering.
size_t ConnectionLimit(const Config& cfg, uint64_t fd_limit) {
  uint64_t want = static_cast<uint64_t>(cfg.server.max_connections);
  uint64_t room = fd_limit > kReservedFds + 64 ? fd_limit - kReservedFds : 64;
  if (want <= room) return want;
  std::fprintf(stderr,
               "refgate: server.max_connections = %llu needs more descriptors than the limit "
               "(%llu); using %llu\n",
               static_cast<unsigned long long>(want), static_cast<unsigned long long>(fd_limit),
               static_cast<unsigned long long>(room));
  return room;
}

RedirectOptions MakeRedirectOptions(const Config& cfg, const ClickIdKey* click_key) {
  RedirectOptions o;
  o.click_key = click_key;
  o.default_status = cfg.redirect.status;
  o.not_found_url = cfg.redirect.not_found_url;
  o.expired_url = cfg.redirect.expired_url;
  o.location = {cfg.redirect.forward_query, cfg.redirect.ref_param, cfg.redirect.click_param};
  o.cookie = {cfg.cookie.name, cfg.cookie.domain, cfg.cookie.max_age_days, cfg.cookie.secure};
  o.no_track_param = cfg.privacy.no_track_param;
  o.anonymize_ip = cfg.privacy.anonymize_ip;
  for (const auto& p : cfg.server.trusted_proxies) {
    Cidr c;
    if (ParseCidr(p, &c)) o.trusted_proxies.push_back(c);  // validated at load
  }
  return o;
}

CodePolicy MakeCodePolicy(const Config& cfg, const HostPort& public_addr) {
  CodePolicy p;
  p.default_target = cfg.redirect.default_target;
  p.allowed_hosts = cfg.redirect.allowed_hosts;
  if (p.allowed_hosts.empty()) p.allowed_hosts.push_back(HostOf(cfg.redirect.default_target));
  p.default_status = cfg.redirect.status;
  p.short_base =
      cfg.server.public_url.empty() ? "http://" + public_addr.ToString() : cfg.server.public_url;
  while (p.short_base.ends_with('/')) p.short_base.pop_back();
  return p;
}

// Calls read(db) with the rollup state opened read-only, per request: it
// sees what the last committed run wrote, whichever process ran it. db is
// null before any run.
template <typename Read>
Status FromRollups(const std::string& data_dir, Read&& read) {
  const std::string dir = data_dir + "/rollups/state";
  std::unique_ptr<StateDb> db;
  if (std::filesystem::exists(dir + "/CURRENT")) {
    if (Status s = StateDb::Open(dir, true, &db); !s.ok()) return s;
  }
  return read(db.get());
}

EventsApi MakeEventsApi(const Config& cfg, events::EventIndex* index, std::string token) {
  const Config::Rewards& r = cfg.rewards;
  EventsApi api;
  api.index = index;
  api.rollups = [dir = cfg.storage.data_dir](const std::function<Status(const StateDb*)>& read) {
    return FromRollups(dir, read);
  };
  api.token = std::move(token);
  api.currency = r.currency;
  api.defaults = {r.lead_minor,       r.sale_percent_ppm, r.sale_flat_minor,
                  r.recurring_months, r.hold_days,        r.min_click_age_s};
  return api;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "refgate: %s\n", s.ToString().c_str());
  return kExitFailure;
}

// Signals are taken by sigwait, so no thread may receive them: block them
// before any thread exists (RocksDB starts its own in Open).
sigset_t BlockSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return sigs;
}

clicklog::Options LogOptions(const Config& cfg) {
  clicklog::Options o;
  o.dir = cfg.storage.data_dir + "/clicks";
  (void)clicklog::ParseDurability(cfg.clicklog.durability, &o.durability);  // validated
  o.interval_ms = cfg.clicklog.interval_ms;
  o.segment_bytes = static_cast<uint64_t>(cfg.clicklog.segment_bytes);
  o.max_wait_ms = cfg.clicklog.max_wait_ms;
  return o;
}

ListenerOptions PublicListenerOptions(const Config& cfg, size_t max_connections, Handler* handler) {
  ListenerOptions lo;
  lo.header_timeout = std::chrono::milliseconds(cfg.server.header_timeout_ms);
  lo.idle_timeout = std::chrono::milliseconds(cfg.server.idle_timeout_ms);
  lo.io_timeout = std::chrono::milliseconds(cfg.server.io_timeout_ms);
  lo.max_connections = max_connections;
  lo.handler = handler;
  lo.reject_route = Route::kPublicOther;
  return lo;
}

// The admin listener: the public one's deadlines, few connections.
ListenerOptions AdminListenerOptions(ListenerOptions lo, Handler* handler) {
  lo.handler = handler;
  lo.reject_route = Route::kAdminOther;
  lo.max_connections = kAdminConnections;
  return lo;
}

Status OpenCodeStore(const Config& cfg, std::unique_ptr<CodeStore>* store) {
  return CodeStore::Open(cfg.storage.data_dir + "/codes",
                         static_cast<size_t>(cfg.storage.cache_entries), store);
}

void PrintLogBanner(const Config& cfg, const clicklog::ClickLog& clicks) {
  std::printf("click log: %s/clicks, durability %s, next seq %llu\n", cfg.storage.data_dir.c_str(),
              cfg.clicklog.durability.c_str(),
              static_cast<unsigned long long>(clicks.durable_seq() + 1));
}

Status OpenEventIndex(const Config& cfg, clicklog::ClickLog* clicks,
                      std::unique_ptr<events::EventIndex>* out, std::vector<std::string>* notes) {
  events::Options o;
  o.dir = cfg.storage.data_dir + "/events";
  o.log_dir = cfg.storage.data_dir + "/clicks";
  o.answer_timeout_ms = cfg.clicklog.max_wait_ms;
  return events::EventIndex::Open(o, clicks, out, notes);
}

// Codes made before code changes went to the log (or by an older
// version) are written to it once, so that the compaction job knows them.
Status JournalExistingCodes(const Config& cfg, CodeStore* store, clicklog::ClickLog* log) {
  const std::string marker = cfg.storage.data_dir + "/codes.logged";
  if (std::filesystem::exists(marker)) return Status::OK();
  std::string cursor;
  size_t n = 0;
  for (bool more = true; more;) {
    std::vector<CodeRecord> page;
    Status s = store->List("", cursor, 1000, &page, &more);
    std::vector<std::string> payloads(page.size());
    const int64_t now = NowMicros();
    for (size_t i = 0; i < page.size(); ++i) {
      clicklog::EncodeCodeChange({now, page[i]}, &payloads[i]);
    }
    if (s.ok()) s = clicklog::AppendAllDurable(log, clicklog::kCode, payloads);
    if (!s.ok()) return s;
    n += page.size();
    if (!page.empty()) cursor = page.back().code;
  }
  if (n > 0) std::printf("click log: %zu existing codes written to it\n", n);
  return WriteFileAtomic(DefaultFileIo(), marker, "1\n");
}

// Blocks until SIGTERM or SIGINT, then stops taking requests, drains the
// open ones and closes the log, which syncs every record it took.
void WaitAndShutDown(const sigset_t& sigs, Server* server, clicklog::ClickLog* clicks,
                     events::EventIndex* events, RollupJob* rollups) {
  int sig = 0;
  sigwait(&sigs, &sig);
  std::printf("refgate: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  server->BeginShutdown();
  if (!server->Drain(std::chrono::seconds(10))) {
    std::fprintf(stderr, "refgate: connections still open after 10 s, closed\n");
  }
  clicks->Close();  // writes and syncs every record, in every durability mode
  events->Close();  // after the log: every event's fate is known
  rollups->Stop();
  std::printf("refgate: stopped\n");
}

// What serve opens before it listens. Members are destroyed events
// first: the index is closed after the log (WaitAndShutDown).
struct Storage {
  std::unique_ptr<ClickIdKey> click_key;
  std::unique_ptr<CodeStore> store;
  std::unique_ptr<clicklog::ClickLog> clicks;
  std::unique_ptr<events::EventIndex> events;
};

// A cluster node's key is its cluster's (SPEC §8), agreed through NATS.
Status LoadClickKey(const Config& cfg, std::unique_ptr<ClickIdKey>* out) {
  if (cfg.cluster.nats_urls.empty()) return ClickIdKey::Load(cfg.storage.data_dir, true, out);
  cluster::ClickKeyOptions o;
  o.servers = ClusterServers(cfg);
  o.data_dir = cfg.storage.data_dir;
  o.replicas = cfg.cluster.replicas;
  Status s = cluster::AgreeClickKey(o);
  if (s.ok()) s = ClickIdKey::Load(ClickKeyDir(cfg), false, out);
  return s;
}

// The click log is recovered before anything reads it: the code journal
// and the event index's rebuild.
Status OpenStorage(const Config& cfg, Storage* st) {
  Status s = LoadClickKey(cfg, &st->click_key);
  if (s.ok()) s = OpenCodeStore(cfg, &st->store);
  std::vector<std::string> notes;
  if (s.ok()) s = clicklog::ClickLog::Open(LogOptions(cfg), &st->clicks, &notes);
  for (const auto& n : notes) std::printf("click log recovery: %s\n", n.c_str());
  if (s.ok()) s = JournalExistingCodes(cfg, st->store.get(), st->clicks.get());
  notes.clear();
  if (s.ok()) s = OpenEventIndex(cfg, st->clicks.get(), &st->events, &notes);
  for (const auto& n : notes) std::printf("%s\n", n.c_str());
  return s;
}

std::unique_ptr<AdminHandler> MakeAdmin(const Config& cfg, const Storage& st, const Tokens& t,
                                        const HostPort& public_addr, SharedCodes* shared) {
  auto admin = std::make_unique<AdminHandler>(
      t.admin, MakeCodePolicy(cfg, public_addr), st.store.get(), st.clicks.get(),
      [dir = cfg.storage.data_dir](std::string_view ref, int64_t from, int64_t to,
                                   boost::json::object* out) {
        return FromRollups(dir, [&](const StateDb* db) {
          return ref.empty() ? rollup::ProgramStats(db, from, to, out)
                             : rollup::ReferrerStats(db, ref, from, to, out);
        });
      },
      cfg.admin.max_auth_failures, MakeEventsApi(cfg, st.events.get(), t.events));
  admin->set_journal(
      [log = st.clicks.get()](clicklog::RecordType type, const std::vector<std::string>& payloads) {
        return clicklog::AppendAllDurable(log, type, payloads);
      });
  admin->set_shared(shared);
  return admin;
}

// Cluster mode (SPEC §8): the codes follow the cluster's bucket, and the
// log goes to its stream, from now on.
struct ClusterParts {
  std::unique_ptr<cluster::CodeSync> codes;  // before the admin, which writes to it
  std::unique_ptr<cluster::LogShipper> shipper;
  std::unique_ptr<cluster::LogMerger> merger;  // the rollup node's copy of the stream
};

Status StartCluster(const Config& cfg, const Storage& st, ClusterParts* out) {
  const std::string servers = ClusterServers(cfg);
  std::printf("cluster: node %s%s, NATS at %s\n", cfg.cluster.node_id.c_str(),
              cfg.cluster.rollup ? " (the rollup node)" : "", servers.c_str());
  cluster::SyncOptions o;
  o.servers = servers;
  o.replicas = cfg.cluster.replicas;
  out->codes = std::make_unique<cluster::CodeSync>(std::move(o), st.store.get());
  cluster::ShipOptions so;
  so.servers = servers;
  so.node_id = cfg.cluster.node_id;
  so.data_dir = cfg.storage.data_dir;
  so.replicas = cfg.cluster.replicas;
  out->shipper = std::make_unique<cluster::LogShipper>(
      std::move(so), [log = st.clicks.get()] { return log->durable_seq(); });
  if (!cfg.cluster.rollup) return Status::OK();
  cluster::MergeOptions mo;
  mo.servers = servers;
  mo.data_dir = cfg.storage.data_dir;
  mo.replicas = cfg.cluster.replicas;
  return cluster::LogMerger::Open(std::move(mo), &out->merger);
}

// The webhooks' deliverer, when [webhooks] url is set (null otherwise).
Status StartWebhooks(const Config& cfg, std::unique_ptr<webhooks::Deliverer>* out) {
  const Config::Webhooks& w = cfg.webhooks;
  if (w.url.empty()) return Status::OK();
  webhooks::Options o;
  o.data_dir = cfg.storage.data_dir;
  if (Status s = webhooks::ParseTarget(w.url, &o.target); !s.ok()) return s;
  const char* env = std::getenv("REFGATE_WEBHOOK_SECRET");
  o.secrets = webhooks::SplitSecrets(env && *env ? env : w.secret);
  if (o.secrets.empty()) {
    return Status::InvalidArgument(
        "webhooks.url is set but no secret signs them: set REFGATE_WEBHOOK_SECRET or "
        "[webhooks] secret");
  }
  o.events = w.events;
  o.timeout_ms = w.timeout_ms;
  std::printf("webhooks: to %s, %zu secret(s)\n", w.url.c_str(), o.secrets.size());
  return webhooks::Deliverer::Open(o, out);
}

}  // namespace

int RunServe(const Config& cfg) {
  const sigset_t sigs = BlockSignals();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const size_t max_connections = ConnectionLimit(cfg, RaiseFileLimit());
  std::error_code fec;
  std::filesystem::create_directories(cfg.storage.data_dir, fec);
  if (fec) return Fail(Status::IOError(cfg.storage.data_dir + ": " + fec.message()));
  Tokens tokens;
  Storage st;
  if (Status s = LoadTokens(cfg, &tokens); !s.ok()) return Fail(s);
  if (Status s = OpenStorage(cfg, &st); !s.ok()) return Fail(s);
  ClusterParts cluster;
  if (!cfg.cluster.nats_urls.empty()) {
    if (Status s = StartCluster(cfg, st, &cluster); !s.ok()) return Fail(s);
  }
  std::unique_ptr<webhooks::Deliverer> deliverer;  // stopped when RunServe returns
  if (Status s = StartWebhooks(cfg, &deliverer); !s.ok()) return Fail(s);

  size_t threads = cfg.server.threads > 0 ? static_cast<size_t>(cfg.server.threads)
                                          : std::max(1u, std::thread::hardware_concurrency());
  Server server(threads);
  HostPort public_addr, admin_addr;
  RedirectHandler redirect(MakeRedirectOptions(cfg, st.click_key.get()), st.store.get(),
                           st.clicks.get());
  const ListenerOptions lo = PublicListenerOptions(cfg, max_connections, &redirect);
  if (Status s = server.ListenPublic(cfg.server.listen, lo, &public_addr); !s.ok()) return Fail(s);
  std::unique_ptr<AdminHandler> admin =
      MakeAdmin(cfg, st, tokens, public_addr, cluster.codes.get());
  if (Status s = server.ListenAdmin(cfg.server.admin_listen, AdminListenerOptions(lo, admin.get()),
                                    &admin_addr);
      !s.ok()) {
    return Fail(s);
  }
  if (st.events) {
    st.events->CompleteOn([&server](std::function<void()> f) { server.RunOnAdmin(std::move(f)); });
  }
  server.Start();
  RollupJob rollups(cfg);
  std::printf("refgate %s: %zu I/O threads, data in %s\n", REFGATE_VERSION, threads,
              cfg.storage.data_dir.c_str());
  std::printf("public listening on %s\n", public_addr.ToString().c_str());
  std::printf("admin listening on %s (token from %s, events token from %s)\n",
              admin_addr.ToString().c_str(), tokens.admin_from.c_str(), tokens.events_from.c_str());
  PrintLogBanner(cfg, *st.clicks);
  WaitAndShutDown(sigs, &server, st.clicks.get(), st.events.get(), &rollups);
  return kExitOk;
}

}  // namespace refgate
