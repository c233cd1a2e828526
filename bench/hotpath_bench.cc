// One redirect, stage by stage: what each step of the hot path costs on one
// core, so a profile's percentages can be read as nanoseconds.
//
//   build-release/bench/refgate_bench --benchmark_filter=Hot
//
// Stages, in the order a request meets them: HTTP parse (Beast, then the
// view handlers read), code lookup (cache hit; RocksDB read on a miss), the
// visitor's query, the bot check, the cookie, the Location, the whole
// decision, the click record's encoding and framing, the response's wire
// form, and the handler end to end. The click log append is in
// clicklog_bench.cc.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "clicklog/click_sink.h"
#include "clicklog/format.h"
#include "http/session.h"
#include "redirect/attribution.h"
#include "redirect/bot.h"
#include "redirect/location.h"
#include "redirect/redirect.h"
#include "redirect/redirect_handler.h"
#include "store/code_store.h"
#include "util/random.h"

namespace refgate {
namespace {

namespace http = boost::beast::http;

// What Chrome sends for a click on a shared link, with a returning visitor's cookie.
constexpr std::string_view kRequest =
    "GET /Ab3xY9k?utm_source=newsletter&utm_medium=email&utm_campaign=spring HTTP/1.1\r\n"
    "Host: go.example.com\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;"
    "q=0.8\r\n"
    "Referer: https://mail.example.org/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-GB,en;q=0.9\r\n"
    "Cookie: _ga=GA1.2.12345.67890; rg_vid=zncPVv0nl8k6zGRShvdq4w; theme=dark\r\n"
    "\r\n";
constexpr std::string_view kQuery = "utm_source=newsletter&utm_medium=email&utm_campaign=spring";
constexpr std::string_view kUserAgent =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
    "Safari/537.36";

// "c<i>" (std::string's operator+ trips GCC 12's -Wrestrict here).
std::string CodeName(size_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "c%zu", i);
  return buf;
}

CodeRecord TypicalCode(std::string code) {
  CodeRecord r;
  r.code = std::move(code);
  r.referrer_id = "cust_12345";
  r.target_url = "https://shop.example.com/landing?lang=en";
  r.utm = {"referral", "", "", "", ""};
  r.created_at = 1795305600;
  return r;
}

RedirectOptions Options() {
  RedirectOptions o;
  o.cookie.domain = ".example.com";
  return o;
}

HttpRequest TypicalRequest(std::string_view target) {
  HttpRequest req;
  req.method = Method::kGet;
  req.method_name = "GET";
  req.target = target;
  req.user_agent = kUserAgent;
  req.cookie = "_ga=GA1.2.12345.67890; rg_vid=zncPVv0nl8k6zGRShvdq4w; theme=dark";
  req.referer = "https://mail.example.org/";
  if (!ParseIp("203.0.113.7", &req.peer)) std::abort();
  return req;
}

// A store of `n` codes in a scratch directory, removed afterwards.
class ScratchStore {
 public:
  ScratchStore(size_t n, size_t cache_entries) {
    dir_ = (std::filesystem::temp_directory_path() / ("refgate-hot-" + RandomBase62(8))).string();
    Status s = CodeStore::Open(dir_, cache_entries, &store_);
    if (!s.ok()) std::abort();
    std::vector<CodeRecord> recs;
    std::vector<Status> results;
    for (size_t i = 0; i < n; ++i) {
      recs.push_back(TypicalCode(CodeName(i)));
      if (recs.size() == 10000 || i + 1 == n) {
        if (!store_->Insert(recs, &results).ok()) std::abort();
        recs.clear();
      }
    }
  }
  ~ScratchStore() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  CodeStore* get() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<CodeStore> store_;
};

void BM_HotHttpParse(benchmark::State& state) {
  HttpRequest req;
  for (auto _ : state) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(kRequest.data(), kRequest.size()), ec);
    if (ec || !parser.is_header_done()) state.SkipWithError("parse failed");
    ViewRequest(parser.get(), &req);
    benchmark::DoNotOptimize(req.cookie.data());
  }
}
BENCHMARK(BM_HotHttpParse);

void BM_HotLookupHit(benchmark::State& state) {
  ScratchStore store(1000, 1000);
  CodeCache::Entry e;
  if (!store.get()->Lookup("c7", &e).ok() || !e) state.SkipWithError("lookup failed");
  for (auto _ : state) {
    if (!store.get()->Lookup("c7", &e).ok()) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(e.get());
  }
}
BENCHMARK(BM_HotLookupHit);

// The cache disabled: every lookup reads RocksDB (its block cache is warm).
void BM_HotLookupMiss(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  ScratchStore store(n, 0);
  CodeCache::Entry e;
  size_t i = 0;
  std::vector<std::string> codes;
  for (size_t k = 0; k < 1024; ++k) codes.push_back(CodeName((k * 7919) % n));
  for (auto _ : state) {
    if (!store.get()->Lookup(codes[i++ & 1023], &e).ok()) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(e.get());
  }
}
BENCHMARK(BM_HotLookupMiss)->Arg(10000);

size_t ResidentBytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// Not a timing: the resident memory one cached code costs (a typical record
// with its shared_ptr, the map node and the key), from 1M entries.
void BM_HotCacheBytesPerCode(benchmark::State& state) {
  const size_t n = 1000000;
  for (auto _ : state) {
    size_t before = ResidentBytes();
    auto cache = std::make_unique<CodeCache>(2 * n);  // room in every shard
    for (size_t i = 0; i < n; ++i) {
      std::string code = CodeName(i);
      cache->Put(code, std::make_shared<const CodeRecord>(TypicalCode(code)));
    }
    size_t after = ResidentBytes();
    if (cache->Size() != n) state.SkipWithError("cache did not hold every code");
    state.counters["bytes_per_code"] = static_cast<double>(after - before) / cache->Size();
  }
}
BENCHMARK(BM_HotCacheBytesPerCode)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_HotVisitorQuery(benchmark::State& state) {
  for (auto _ : state) {
    VisitorQuery q = ParseVisitorQuery(kQuery, "rg_notrack");
    benchmark::DoNotOptimize(q.params.data());
  }
}
BENCHMARK(BM_HotVisitorQuery);

void BM_HotBotCheck(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(IsBotUserAgent(kUserAgent));
}
BENCHMARK(BM_HotBotCheck);

void BM_HotCookie(benchmark::State& state) {
  CookieOptions opt;
  opt.domain = ".example.com";
  std::string_view header = "_ga=GA1.2.12345.67890; rg_vid=zncPVv0nl8k6zGRShvdq4w; theme=dark";
  for (auto _ : state) {
    std::string_view id = FindCookie(header, "rg_vid");
    if (!IsWellFormedVisitorId(id)) state.SkipWithError("bad id");
    std::string set = SetCookieHeader(opt, id);
    benchmark::DoNotOptimize(set.data());
  }
}
BENCHMARK(BM_HotCookie);

void BM_HotLocation(benchmark::State& state) {
  LocationOptions opt;
  CodeRecord rec = TypicalCode("Ab3xY9k");
  VisitorQuery q = ParseVisitorQuery(kQuery, "rg_notrack");
  for (auto _ : state) {
    Location loc = BuildLocation(opt, rec, q, "9enKg2hqrsZL1zLGCQc77g");
    benchmark::DoNotOptimize(loc.url.data());
  }
}
BENCHMARK(BM_HotLocation);

// One typical visit and its decision, built in place (the request views
// `target`).
struct Decided {
  RedirectOptions opt = Options();
  CodeRecord rec = TypicalCode("Ab3xY9k");
  std::string target = "/Ab3xY9k?" + std::string(kQuery);
  HttpRequest req = TypicalRequest(target);
  Visit visit{.code = "Ab3xY9k",
              .query = kQuery,
              .request = &req,
              .now_us = 1795341600'000000,
              .fresh_visitor_id = "AAAAAAAAAAAAAAAAAAAAAA",
              .click_id = "9enKg2hqrsZL1zLGCQc77g"};
  HttpResponse res;
  ClickRecord click = DecideRedirect(opt, visit, &rec, &res).click;

  Decided() = default;
  Decided(const Decided&) = delete;
  Decided& operator=(const Decided&) = delete;
};

void BM_HotDecide(benchmark::State& state) {
  Decided d;
  for (auto _ : state) {
    d.res.Reset();
    Decision out = DecideRedirect(d.opt, d.visit, &d.rec, &d.res);
    benchmark::DoNotOptimize(out.click.click_id.data());
  }
}
BENCHMARK(BM_HotDecide);

void BM_HotIds(benchmark::State& state) {
  for (auto _ : state) {
    std::string click = RandomId();
    std::string visitor = RandomId();
    benchmark::DoNotOptimize(click.data());
    benchmark::DoNotOptimize(visitor.data());
  }
}
BENCHMARK(BM_HotIds);

void BM_HotClickEncode(benchmark::State& state) {
  Decided d;
  std::string payload, framed;
  uint64_t seq = 0;
  for (auto _ : state) {
    payload.clear();
    framed.clear();
    clicklog::EncodeClick(d.click, &payload);
    clicklog::AppendRecord(&framed, clicklog::kClick, ++seq, payload);
    benchmark::DoNotOptimize(framed.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * framed.size()));
}
BENCHMARK(BM_HotClickEncode);

void BM_HotSerializeResponse(benchmark::State& state) {
  Decided d;
  std::string out;
  for (auto _ : state) {
    out.clear();
    SerializeResponse(d.res, false, true, &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_HotSerializeResponse);

// A sink that takes every record and lets the visitor go at once.
class DiscardSink : public ClickSink {
 public:
  bool Append(const ClickRecord& rec, Completion*) override {
    benchmark::DoNotOptimize(rec.click_id.data());
    return false;
  }
  bool Healthy() const override { return true; }
};

// Everything between the parsed request and the response's wire form, with
// a cache hit and a sink that does not wait.
void BM_HotHandler(benchmark::State& state) {
  ScratchStore store(1000, 1000);
  std::vector<CodeRecord> recs = {TypicalCode("Ab3xY9k")};
  std::vector<Status> results;
  if (!store.get()->Insert(recs, &results).ok()) state.SkipWithError("insert failed");
  DiscardSink sink;
  RedirectHandler handler(Options(), store.get(), &sink);
  std::string target = "/Ab3xY9k?" + std::string(kQuery);
  HttpRequest req = TypicalRequest(target);
  HttpResponse res;
  std::string out;
  for (auto _ : state) {
    res.Reset();
    out.clear();
    if (!handler.Handle(req, &res, nullptr)) state.SkipWithError("handler waited");
    SerializeResponse(res, false, true, &out);
    benchmark::DoNotOptimize(out.data());
  }
  if (res.status != 302) state.SkipWithError("not a redirect");
}
BENCHMARK(BM_HotHandler);

}  // namespace
}  // namespace refgate
