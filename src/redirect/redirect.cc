#include "redirect/redirect.h"

#include "redirect/bot.h"

namespace refgate {
namespace {

constexpr std::string_view kNoStore = "private, no-store";
constexpr std::string_view kShortCache = "private, max-age=90";

void FillVisitorFields(const RedirectOptions& opt, const Visit& v, const VisitorQuery& q,
                       ClickRecord* c) {
  const HttpRequest& req = *v.request;
  c->ts_us = v.now_us;
  c->code = v.code;
  c->click_id = v.click_id;
  c->method = v.head ? "HEAD" : "GET";
  c->referer = TruncateUtf8(req.referer, kMaxRefererBytes);
  c->user_agent = TruncateUtf8(req.user_agent, kMaxUserAgentBytes);
  c->ip = RecordedIp(ClientIp(req.peer, req.forwarded_for, opt.trusted_proxies), opt.anonymize_ip);
  for (int i = 0; i < kUtmFieldCount; ++i) c->utm[i] = TruncateUtf8(q.utm[i], kMaxUtmBytes);
}

bool Live(const CodeRecord& rec, int64_t now_us) {
  if (rec.status != CodeStatus::kActive) return false;
  return !rec.expires_at || *rec.expires_at * 1000000 > now_us;
}

void Fallback(HttpResponse* res, int status, const std::string& url) {
  res->cache_control = kNoStore;
  if (url.empty()) {
    res->status = status;
    res->content_type = "text/plain; charset=utf-8";
    res->body = status == 404 ? "Not Found\n" : "Gone\n";
  } else {
    res->status = 302;
    res->location = url;
  }
}

}  // namespace

void DecideRedirect(const RedirectOptions& opt, const Visit& v, const CodeRecord* rec,
                    HttpResponse* res, Decision* d) {
  const HttpRequest& req = *v.request;
  VisitorQuery q = ParseVisitorQuery(v.query, opt.no_track_param);
  d->record = !q.no_track;
  ClickRecord& c = d->click;
  // What the branches below may leave unset; FillVisitorFields sets the rest.
  c.seq = 0;
  c.type = ClickType::kClick;
  c.referrer_id.clear();
  c.visitor_id.clear();
  c.new_visitor = false;
  c.via = q.qr ? Via::kQr : Via::kLink;
  FillVisitorFields(opt, v, q, &c);
  c.bot = v.head || IsPrefetch(req.sec_purpose, req.purpose) || IsBotUserAgent(req.user_agent);
  std::string_view cookie = FindCookie(req.cookie, opt.cookie.name);
  bool returning = IsWellFormedVisitorId(cookie);
  if (returning) c.visitor_id = cookie;

  if (rec == nullptr) {
    res->route = Route::kNotFound;
    c.type = ClickType::kOrphan;
    Fallback(res, 404, opt.not_found_url);
  } else if (!Live(*rec, v.now_us)) {
    res->route = Route::kGone;
    c.referrer_id = rec->referrer_id;
    Fallback(res, 410, opt.expired_url);
  } else {
    res->route = Route::kRedirect;
    c.referrer_id = rec->referrer_id;
    res->status = rec->redirect_status ? rec->redirect_status : opt.default_status;
    char minted[kClickIdChars];
    if (opt.click_key && d->record)
      c.click_id = opt.click_key->Mint(v.now_us, v.code, c.bot, minted);
    // A visit that is not recorded gets no click id: no record would hold it.
    Location loc = BuildLocation(opt.location, *rec, q,
                                 d->record ? std::string_view(c.click_id) : std::string_view());
    res->location = std::move(loc.url);
    for (int i = 0; i < kUtmFieldCount; ++i) c.utm[i] = TruncateUtf8(loc.utm[i], kMaxUtmBytes);
    res->cache_control = (res->status == 301 || res->status == 308) ? kShortCache : kNoStore;
    if (!c.bot) {
      if (!returning) {
        c.visitor_id = v.fresh_visitor_id;
        c.new_visitor = true;
      }
      res->set_cookie = SetCookieHeader(opt.cookie, c.visitor_id);
    }
  }
  c.status = res->status;
}

}  // namespace refgate
